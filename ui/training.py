"""The Training page's helpers: learning curves, the confusion matrix, tables and the model comparison.

The charts are Vega-Lite specs written out, not Altair objects: the same pictures without Altair's
import on the page's first visit, and without its memory in the server.
"""

import numpy as np
import pandas as pd
import streamlit as st

from cnn.config import CLASS_NAMES
from ui.loaders import get_model, load_benchmark, load_metrics, load_sample, model_label, trained_models


def history_chart(history: dict, metric: str, best_epoch: int | None = None) -> dict:
    """Vega-Lite spec: train and validation `metric` ("loss" or "accuracy") per epoch, the kept epoch marked."""
    values = [
        {"epoch": epoch, "value": value, "split": split}
        for split, key in (("train", metric), ("validation", f"val_{metric}"))
        for epoch, value in enumerate(history[key], start=1)
    ]
    # Loss on a log scale: the first epoch's high loss would otherwise flatten the rest of the curve.
    scale = {"type": "log"} if metric == "loss" else {"zero": False}
    lines = {
        "mark": {"type": "line", "point": {"size": 30}},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": "Epoch", "axis": {"tickMinStep": 1}},
            "y": {"field": "value", "type": "quantitative", "scale": scale,
                  "title": "Loss (log scale)" if metric == "loss" else "Accuracy", "axis": {"format": "%" if metric == "accuracy" else ""}},
            "color": {"field": "split", "type": "nominal", "title": None, "scale": {"range": ["#4C5FD5", "#F28E2B"]},
                      "legend": {"orient": "bottom"}},
            "tooltip": [{"field": "epoch", "type": "quantitative"}, {"field": "split", "type": "nominal"},
                        {"field": "value", "type": "quantitative", "format": ".4f"}],
        },
    }  # fmt: skip
    layers = [lines]
    if best_epoch is not None:
        layers.append({"mark": {"type": "rule", "strokeDash": [4, 4], "color": "grey"},
                       "data": {"values": [{"epoch": best_epoch}]}, "encoding": {"x": {"field": "epoch", "type": "quantitative"}}})  # fmt: skip
    # Vega-Lite's description becomes the chart's accessible name: what a screen reader says for it.
    return {"description": history_summary(history, metric, best_epoch), "data": {"values": values}, "layer": layers, "height": 280}


def history_summary(history: dict, metric: str, best_epoch: int | None = None) -> str:
    """The learning curve in one sentence: where each split started and ended, and the kept epoch."""
    shown = "{:.1%}" if metric == "accuracy" else "{:.3f}"
    parts = [f"{split} {metric} from {shown.format(history[key][0])} after epoch 1 to {shown.format(history[key][-1])} after epoch {len(history[key])}"
             for split, key in (("Training", metric), ("validation", f"val_{metric}"))]  # fmt: skip
    kept = f"; the weights of epoch {best_epoch} were kept" if best_epoch else ""
    return f"Learning curve: {', '.join(parts)}{kept}."


def confusion_chart(matrix: list[list[int]], normalise: bool) -> dict:
    """Vega-Lite spec: the confusion matrix as a heatmap, rows true classes; counts or row shares (recall) in each cell."""
    counts = np.asarray(matrix, dtype=np.float64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    values = []
    for true_class in range(len(CLASS_NAMES)):
        for predicted in range(len(CLASS_NAMES)):
            count, share = int(counts[true_class, predicted]), float(shares[true_class, predicted])
            text = "" if count == 0 else f"{share:.0%}" if normalise else f"{count:d}"
            values.append(
                {"true": CLASS_NAMES[true_class], "predicted": CLASS_NAMES[predicted], "count": count, "share": share, "text": text}
            )
    order = list(CLASS_NAMES)
    axes = {
        "x": {
            "field": "predicted",
            "type": "nominal",
            "sort": order,
            "title": "Predicted class",
            "axis": {"labelAngle": -45, "labelOverlap": False},
        },
        "y": {"field": "true", "type": "nominal", "sort": order, "title": "True class", "axis": {"labelOverlap": False}},
    }
    heat = {
        "mark": "rect",
        "encoding": axes | {
            "color": {"field": "share", "type": "quantitative", "scale": {"scheme": "blues", "domain": [0, 1]},
                      "legend": {"title": "Row share", "format": "%"}},
            "tooltip": [{"field": "true", "type": "nominal"}, {"field": "predicted", "type": "nominal"},
                        {"field": "count", "type": "quantitative"}, {"field": "share", "type": "quantitative", "format": ".1%"}],
        },
    }  # fmt: skip
    text = {
        "mark": {"type": "text", "fontSize": 11},
        "encoding": axes
        | {
            "text": {"field": "text", "type": "nominal"},
            "color": {"condition": {"test": "datum.share > 0.5", "value": "white"}, "value": "#1f2937"},
        },
    }
    correct = int(np.trace(counts))
    description = (f"Confusion matrix of {int(counts.sum()):,} test images, true classes in rows, answers in columns: "
                   f"{correct:,} on the diagonal (right); the per-class table beside it has the same figures as text.")  # fmt: skip
    return {"description": description, "data": {"values": values}, "layer": [heat, text], "height": 430}


def per_class_table(metrics: dict) -> pd.DataFrame:
    rows = [{"class": name, **values} for name, values in metrics["per_class"].items()]
    return pd.DataFrame(rows, columns=["class", "precision", "recall", "f1", "support"])


@st.cache_data(show_spinner=False)
def sample_probabilities(model_name: str) -> np.ndarray:
    """(300, 10) probabilities of the model on the shipped test sample: the mistakes gallery where the
    full test set (and its precomputed mistakes) is not installed."""
    images, _ = load_sample()
    return get_model(model_name)(images[..., np.newaxis].astype(np.float32) / 255)


def benchmark_note() -> str | None:
    """The shipped benchmark's single-image latency, for the one model it measured."""
    benchmark = load_benchmark()
    if not benchmark or "single_image" not in benchmark:
        return None
    latency = benchmark["single_image"]["predict_ms"]
    return (
        f"`{benchmark['command'].strip()}` measured predict() for {model_label(benchmark.get('model', 'cnn'))} "
        f"on 280x280 canvas PNGs at {latency['p50']:.2f} ms (p50) and {latency['p99']:.2f} ms (p99)."
    )


def targets_table(targets: list[dict]) -> pd.DataFrame:
    """One row per target of a report (the benchmark, the robustness report): measured, goal, verdict."""
    rows = []
    for target in targets:
        unit = " ".join(target["target"].split()[2:])  # "<= 2 ms" -> "ms", ">= 75 %" -> "%", ">= 0.8" -> ""
        measured = None if target["measured"] is None else f"{target['measured']:,.2f}" + (unit and f" {unit}").replace(" %", "%")
        verdict = {True: "met", False: "not met", None: "not measured"}[target["met"]]
        # st.table reads its cells as Markdown, where ">= 75 %" would open a quote: the signs are written out.
        goal = target["target"].replace(">=", "≥").replace("<=", "≤")
        rows.append({"measure": target["name"], "measured": measured, "target": goal, "verdict": verdict})
    return pd.DataFrame(rows, columns=["measure", "measured", "target", "verdict"])


def comparison_table() -> pd.DataFrame:
    """Every trained model side by side: accuracy and size from their metrics files, latency from the benchmark."""
    latencies = (load_benchmark() or {}).get("models", {})
    rows = []
    for model_name in trained_models():
        metrics = load_metrics(model_name)
        rows.append(
            {
                "model": model_label(model_name),
                "test accuracy": metrics["test_accuracy"],
                "macro F1": metrics["macro_f1"],
                "parameters": metrics["parameters"],
                "Keras file (MB)": metrics["model_file_bytes"] / 1e6,
                "served file (MB)": metrics["serving_file_bytes"] / 1e6,
                "latency (ms)": latencies.get(model_name, {}).get("p50"),
            }
        )
    return pd.DataFrame(rows)
