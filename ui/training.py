"""The Training page's helpers: learning curves, the confusion matrix, tables and the model comparison.

Altair is imported inside the chart functions: only this page draws Altair charts, and the other
pages spare its import.
"""

import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import streamlit as st

from cnn.config import CLASS_NAMES
from cnn.predict import predict
from ui.loaders import get_model, load_benchmark, load_metrics, load_sample, model_label, trained_models

if TYPE_CHECKING:
    import altair as alt


def history_chart(history: dict, metric: str, best_epoch: int | None = None) -> "alt.Chart":
    """Train and validation `metric` ("loss" or "accuracy") per epoch, the kept epoch marked."""
    import altair as alt

    epochs = range(1, len(history[metric]) + 1)
    data = pd.concat(
        [
            pd.DataFrame({"epoch": epochs, "value": history[metric], "split": "train"}),
            pd.DataFrame({"epoch": epochs, "value": history[f"val_{metric}"], "split": "validation"}),
        ]
    )
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=30))
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1), title="Epoch"),
            # Loss on a log scale: the first epoch's high loss would otherwise flatten the rest of the curve.
            y=alt.Y(
                "value:Q",
                title="Loss (log scale)" if metric == "loss" else "Accuracy",
                scale=alt.Scale(type="log") if metric == "loss" else alt.Scale(zero=False),
                axis=alt.Axis(format="%" if metric == "accuracy" else ""),
            ),
            color=alt.Color("split:N", title=None, scale=alt.Scale(range=["#4C5FD5", "#F28E2B"]), legend=alt.Legend(orient="bottom")),
            tooltip=["epoch:Q", "split:N", alt.Tooltip("value:Q", format=".4f")],
        )
    )
    if best_epoch is None:
        return lines.properties(height=280)
    rule = alt.Chart(pd.DataFrame({"epoch": [best_epoch]})).mark_rule(strokeDash=[4, 4], color="grey").encode(x="epoch:Q")
    return (lines + rule).properties(height=280)


def confusion_chart(matrix: list[list[int]], normalise: bool) -> "alt.Chart":
    """Heatmap of the confusion matrix, rows true classes; counts or row shares (recall) written in each cell."""
    import altair as alt

    counts = np.asarray(matrix, dtype=np.float64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    cells = [
        {"true": CLASS_NAMES[t], "predicted": CLASS_NAMES[p], "count": int(counts[t, p]), "share": shares[t, p]}
        for t in range(len(CLASS_NAMES))
        for p in range(len(CLASS_NAMES))
    ]
    data = pd.DataFrame(cells)
    data["text"] = [f"{share:.0%}" if normalise else f"{count:d}" for share, count in zip(data["share"], data["count"])]
    data["text"] = np.where(data["count"] > 0, data["text"], "")
    order = list(CLASS_NAMES)
    base = alt.Chart(data).encode(
        x=alt.X("predicted:N", sort=order, title="Predicted class", axis=alt.Axis(labelAngle=-45, labelOverlap=False)),
        y=alt.Y("true:N", sort=order, title="True class", axis=alt.Axis(labelOverlap=False)),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("share:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), legend=alt.Legend(title="Row share", format="%")),
        tooltip=["true:N", "predicted:N", "count:Q", alt.Tooltip("share:Q", format=".1%")],
    )
    text = base.mark_text(fontSize=11).encode(
        text="text:N",
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("#1f2937")),
    )
    return (heat + text).properties(height=430)


def per_class_table(metrics: dict) -> pd.DataFrame:
    rows = [{"class": name, **values} for name, values in metrics["per_class"].items()]
    return pd.DataFrame(rows, columns=["class", "precision", "recall", "f1", "support"])


@st.cache_data(show_spinner=False)
def sample_probabilities(model_name: str) -> np.ndarray:
    """(300, 10) probabilities of the model on the shipped test sample: the mistakes gallery where the
    full test set (and its precomputed mistakes) is not installed."""
    images, _ = load_sample()
    return get_model(model_name)(images[..., np.newaxis].astype(np.float32) / 255)


@st.cache_data(show_spinner=False)
def measure_latency_ms(model_name: str, calls: int = 30) -> float:
    """Median milliseconds of one predict() call on a test-sample image, measured once on this server."""
    images, _ = load_sample()
    get_model(model_name)
    for image in images[:5]:
        predict(image, model_name=model_name)  # the first calls warm the caches: not timed
    times = []
    for image in images[:calls]:
        started = time.perf_counter()
        predict(image, model_name=model_name)
        times.append(1000 * (time.perf_counter() - started))
    return float(np.median(times))


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
        rows.append({"measure": target["name"], "measured": measured, "target": target["target"], "verdict": verdict})
    return pd.DataFrame(rows, columns=["measure", "measured", "target", "verdict"])


def comparison_table() -> pd.DataFrame:
    """Every trained model side by side: accuracy and size from their metrics files, latency timed here the same way."""
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
                "latency (ms)": measure_latency_ms(model_name),
            }
        )
    return pd.DataFrame(rows)
