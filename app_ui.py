"""Shared pieces of the Streamlit pages: page skeleton, cached model and data, charts and images.

Every page imports this module instead of repeating code. It only calls the `cnn` package;
`cnn` never imports Streamlit. Caching follows Streamlit's rule: the model is a shared
read-only resource (st.cache_resource), files and computed arrays are data (st.cache_data,
which hands every session its own copy). Anything a user does lives in st.session_state.
"""

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from cnn.artifacts import read_json
from cnn.config import (
    BENCHMARK_PATH,
    CLASS_NAMES,
    DEFAULT_MODEL,
    MODEL_NAMES,
    ROBUSTNESS_PATH,
    history_path,
    metrics_path,
    serving_model_path,
)
from cnn.data import DatasetError, load_fashion_mnist, load_test_sample
from cnn.predict import InvalidImageError, classify, decode_image, predict, preprocess, warm_up

if TYPE_CHECKING:
    import altair as alt

UNSURE_BELOW = 0.5  # top-1 probability under which the app says it is unsure instead of naming a class
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
MODEL_LABELS = {"cnn": "CNN", "baseline": "Baseline CNN", "mlp": "MLP"}
PIXEL_SCALE = 10  # a 28x28 image shown 280x280: each model pixel is a crisp 10x10 block

HOME_PAGE = "streamlit_app.py"
# The other pages, in sidebar order: (file, label, Material icon, what it is for).
PAGES = (
    ("pages/1_Draw.py", "Draw", ":material/draw:", "Sketch a clothing item and watch the prediction change as you draw."),
    ("pages/2_Upload.py", "Upload", ":material/upload:", "Classify your own photos, several at once, with a CSV of the results."),
    ("pages/3_Feature_maps.py", "Feature maps", ":material/grid_view:", "See what every conv layer responds to, and where the network looks."),
    ("pages/4_Training.py", "Training", ":material/monitoring:", "Learning curves, confusion matrix, mistakes and the baselines."),
    ("pages/5_Explore.py", "Explore", ":material/shuffle:", "One click, one random test image: is the network right?"),
)  # fmt: skip


# ---------------------------------------------------------------------------------------
# Page skeleton.

# Almost every image here is a few dozen pixels enlarged: keep its pixels square even when the browser
# rescales it. Photos (shown inside a container whose key starts with "photo") are smoothed as usual.
PAGE_STYLE = """<style>
[data-testid="stImage"] img { image-rendering: pixelated; }
[class*="st-key-photo"] [data-testid="stImage"] img { image-rendering: auto; }
</style>"""


def page_header(title: str, icon: str, intro: str) -> None:
    """The same top for every page: page config, title, one short intro."""
    st.set_page_config(page_title=f"{title} · Fashion-MNIST CNN", page_icon=icon, layout="wide")
    st.html(PAGE_STYLE)
    st.title(f"{icon} {title}")
    st.markdown(intro)
    sidebar_navigation()


def sidebar_navigation() -> None:
    """Our own sidebar menu (config.toml turns the automatic one off): it can call the main page "Home"."""
    with st.sidebar:
        st.page_link(HOME_PAGE, label="Home", icon=":material/home:")
        for page, label, icon, _ in PAGES:
            st.page_link(page, label=label, icon=icon)
        metrics = load_metrics(DEFAULT_MODEL)
        if metrics is not None:
            st.caption(f"Model: {MODEL_LABELS.get(DEFAULT_MODEL, DEFAULT_MODEL)}, {metrics['test_accuracy']:.1%} test accuracy")


def stop_with_error(message: str) -> None:
    st.error(message, icon=":material/error:")
    st.stop()


def require_model(model_name: str = DEFAULT_MODEL):
    """The shared model, or a readable error that stops the page when it has not been trained."""
    try:
        return get_model(model_name)
    except FileNotFoundError as error:
        stop_with_error(str(error))


@st.cache_resource(show_spinner="Loading the model...")
def get_model(model_name: str = DEFAULT_MODEL):
    """One read-only serving model per process, shared by every session, ready for its first prediction."""
    return warm_up(model_name)


# ---------------------------------------------------------------------------------------
# Data: JSON files from assets/ and the test images.


@st.cache_data(show_spinner=False)
def load_metrics(model_name: str = DEFAULT_MODEL) -> dict | None:
    return read_json(metrics_path(model_name))


@st.cache_data(show_spinner=False)
def load_history(model_name: str = DEFAULT_MODEL) -> dict | None:
    return read_json(history_path(model_name))


@st.cache_data(show_spinner=False)
def load_robustness() -> dict | None:
    return read_json(ROBUSTNESS_PATH)


@st.cache_data(show_spinner=False)
def load_benchmark() -> dict | None:
    return read_json(BENCHMARK_PATH)


@st.cache_data(show_spinner=False)
def load_sample() -> tuple[np.ndarray, np.ndarray]:
    """The 300 stratified test images shipped in assets/ (uint8 (N, 28, 28), labels (N,))."""
    return load_test_sample()


@st.cache_data(show_spinner="Loading the test set...")
def load_test_set() -> tuple[np.ndarray, np.ndarray, str]:
    """The full 10,000-image test set when installed, else the shipped sample, and which one it is."""
    try:
        _, (images, labels) = load_fashion_mnist()
        return images, labels, f"the full test set ({len(images):,} images)"
    except DatasetError:
        images, labels = load_test_sample()
        return images, labels, f"the shipped test sample ({len(images)} images; the full set is not installed here)"


@st.cache_data(show_spinner="Classifying the test set...")
def test_set_probabilities(model_name: str = DEFAULT_MODEL) -> np.ndarray:
    """(N, 10) probabilities of `model_name` for every image of load_test_set()."""
    images, _, _ = load_test_set()
    model_inputs = np.stack([preprocess(image) for image in images])[..., np.newaxis]
    return get_model(model_name)(model_inputs)


def required_metrics(model_name: str = DEFAULT_MODEL) -> dict:
    metrics = load_metrics(model_name)
    if metrics is None:
        stop_with_error(
            f"No metrics file at {metrics_path(model_name)}. Train the model first: "
            f"`python -m cnn.train --model {model_name} --out assets/`."
        )
    return metrics


# ---------------------------------------------------------------------------------------
# Classifying what users send.


def classify_drawing(drawing: bytes, top_k: int = 3) -> tuple[dict, np.ndarray]:
    """The canvas's PNG -> (prediction result, 28x28 model input) through the sketch path.

    Raises InvalidImageError; its message starts with "Nothing drawn" for an empty canvas.
    """
    return classify(drawing, top_k=top_k, sketch=True)


def is_nothing_drawn(error: InvalidImageError) -> bool:
    return str(error).startswith("Nothing drawn")


@dataclass
class FileResult:
    """One uploaded file's outcome: a result and its model input, or the reason it failed."""

    name: str
    result: dict | None = None
    model_input: np.ndarray | None = None
    thumbnail: Image.Image | None = None
    error: str | None = None


def classify_file(name: str, data: bytes, top_k: int = 3) -> FileResult:
    """Classify one uploaded file; a bad file gives a FileResult with its error, never an exception."""
    try:
        result, model_input = classify(data, top_k=top_k)
        thumbnail = decode_image(data)  # already validated by classify: safe to decode for display
        thumbnail.thumbnail((200, 200))
        return FileResult(name, result, model_input, thumbnail)
    except InvalidImageError as error:
        return FileResult(name, error=str(error))


def results_table(file_results: list[FileResult]) -> pd.DataFrame:
    """One row per file: its prediction, confidence and runners-up, or its error."""
    rows = []
    for file_result in file_results:
        # Blank text where there is nothing to say: the table and the CSV show "", not "None".
        row = {"file": file_result.name, "prediction": "", "confidence": None, "second": "", "third": ""}
        if file_result.result is not None:
            top_k = file_result.result["top_k"]
            row |= {"prediction": top_k[0]["label"], "confidence": top_k[0]["probability"]}
            row |= {column: f"{entry['label']} ({entry['probability']:.1%})" for column, entry in zip(("second", "third"), top_k[1:3])}
        row["error"] = file_result.error or ""
        rows.append(row)
    return pd.DataFrame(rows, columns=["file", "prediction", "confidence", "second", "third", "error"])


def describe_sample(index: int) -> tuple[np.ndarray, int, dict]:
    """Test-sample image `index`, its true class id and the model's prediction (top 3)."""
    images, labels = load_sample()
    return images[index], int(labels[index]), predict(images[index], top_k=3)


# ---------------------------------------------------------------------------------------
# Showing results.


def show_prediction(result: dict, show_all: bool = False, unsure_tip: str = "") -> None:
    """Headline label (or an honest 'not sure' below UNSURE_BELOW), then the probability bars."""
    best = result["top_k"][0]
    if best["probability"] < UNSURE_BELOW:
        runner_up = result["top_k"][1]["label"] if len(result["top_k"]) > 1 else None
        st.markdown(f"### Not sure... maybe {best['label']}?")
        close_behind = f" {runner_up} is close behind." if runner_up else ""
        st.caption(f"The network is only {best['probability']:.0%} sure of its best guess.{close_behind} {unsure_tip}")
    else:
        st.markdown(f"### {best['label']}")
        st.caption(f"{best['probability']:.1%} sure")
    chart = probability_chart(result, show_all)
    st.vega_lite_chart(chart, width="stretch", height=chart["height"] + 40)  # + room for the percentage axis


# The probability bars are redrawn on every canvas stroke: a Vega-Lite spec written out costs well
# under a millisecond, the same chart built and validated by Altair about 25 ms.
PROBABILITY_AXES = {
    "y": {"field": "label", "type": "nominal", "sort": "-x", "title": None,
          "axis": {"labelLimit": 120, "labelOverlap": False, "labelFontSize": 12, "minExtent": 80}},
    "x": {"field": "probability", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": None,
          "axis": {"format": "%"}},
    "tooltip": [{"field": "label", "type": "nominal", "title": "Class"},
                {"field": "probability", "type": "quantitative", "format": ".2%"}],
}  # fmt: skip
PROBABILITY_LAYERS = [
    {"mark": {"type": "bar", "cornerRadiusEnd": 3},
     "encoding": PROBABILITY_AXES | {"color": {"condition": {"test": "datum.winner", "value": "#4C5FD5"}, "value": "#A9B4C2"}}},
    {"mark": {"type": "text", "align": "left", "dx": 4}, "encoding": PROBABILITY_AXES | {"text": {"field": "text", "type": "nominal"}}},
]  # fmt: skip


def probability_chart(result: dict, show_all: bool = False) -> dict:
    """Vega-Lite spec: horizontal bars of the top-k classes (or all ten), largest first, the winner highlighted."""
    if show_all:
        entries = sorted(result["probabilities"].items(), key=lambda entry: entry[1], reverse=True)
    else:
        entries = [(entry["label"], entry["probability"]) for entry in result["top_k"]]
    values = [
        {"label": label, "probability": p, "winner": label == result["prediction"], "text": f"{p:.1%}"}
        for label, p in entries
    ]
    return {"data": {"values": values}, "layer": PROBABILITY_LAYERS, "height": 28 * len(values)}


def upscale(image: np.ndarray, scale: int = PIXEL_SCALE) -> np.ndarray:
    """A small image (H, W) or (H, W, 3), uint8 or float 0..1, blown up with nearest-neighbour so pixels stay crisp."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)
    return np.repeat(np.repeat(array, scale, axis=0), scale, axis=1)


# Colour ramps as (position, RGB) anchors, interpolated linearly: no matplotlib needed.
HEAT_COLOURS = ((0.0, (0, 0, 140)), (0.35, (0, 160, 255)), (0.6, (90, 230, 90)), (0.8, (255, 210, 0)), (1.0, (220, 20, 20)))
MAP_COLOURS = ((0.0, (10, 10, 30)), (0.3, (60, 40, 120)), (0.6, (40, 150, 140)), (0.85, (170, 220, 60)), (1.0, (255, 240, 90)))


def colourise(values: np.ndarray, anchors=HEAT_COLOURS) -> np.ndarray:
    """Values in 0..1, any shape -> float RGB in 0..1, shape + (3,)."""
    positions = [position for position, _ in anchors]
    channels = [np.interp(values, positions, [colour[channel] / 255 for _, colour in anchors]) for channel in range(3)]
    return np.stack(channels, axis=-1)


def grad_cam_overlay(
    model_input: np.ndarray, heatmap: np.ndarray, scale: int = PIXEL_SCALE, strength: float = 0.65
) -> np.ndarray:
    """The 28x28 model input in grey with the Grad-CAM heatmap coloured on top, upscaled: uint8 RGB.

    The colour's opacity follows the heat, so regions the network ignores stay plain grey.
    """
    grey = np.repeat(np.asarray(model_input, dtype=np.float32)[..., np.newaxis], 3, axis=-1)
    opacity = strength * np.asarray(heatmap, dtype=np.float32)[..., np.newaxis]
    return upscale((1 - opacity) * grey + opacity * colourise(heatmap), scale)


def heat_legend(width: int = 28 * PIXEL_SCALE, height: int = 12) -> np.ndarray:
    """The Grad-CAM colour ramp as a strip, from 'ignored' (left) to 'decisive' (right): uint8 RGB."""
    ramp = colourise(np.linspace(0.0, 1.0, width))
    return (np.repeat(ramp[np.newaxis], height, axis=0) * 255).round().astype(np.uint8)


def feature_map_grid(maps: np.ndarray, columns: int | None = None, tile: int | None = None, gap: int = 2) -> np.ndarray:
    """A layer's activations (H, W, C) as one uint8 RGB mosaic, each channel scaled to its own peak.

    Per-channel scaling shows each filter's pattern; a channel that stays silent is left dark.
    By default the mosaic is about 920 px wide: 8 large tiles a row up to 32 channels, else 16.
    """
    height, width, channels = maps.shape
    columns = min(columns or (8 if channels <= 32 else 16), channels)
    tile = tile or 920 // columns - gap
    rows = -(-channels // columns)
    scale = max(1, tile // max(height, width))
    peaks = maps.max(axis=(0, 1))
    normalised = np.divide(maps, peaks, out=np.zeros_like(maps, dtype=np.float32), where=peaks > 0)
    cell_h, cell_w = height * scale + gap, width * scale + gap
    mosaic = np.full((rows * cell_h - gap, columns * cell_w - gap, 3), 255, dtype=np.uint8)
    for channel in range(channels):
        row, column = divmod(channel, columns)
        tile_image = upscale(colourise(normalised[..., channel], MAP_COLOURS), scale)
        mosaic[row * cell_h : row * cell_h + height * scale, column * cell_w : column * cell_w + width * scale] = tile_image
    return mosaic


# ---------------------------------------------------------------------------------------
# Training page: curves, confusion matrix, comparison.


def history_chart(history: dict, metric: str, best_epoch: int | None = None) -> "alt.Chart":
    """Train and validation `metric` ("loss" or "accuracy") per epoch, the kept epoch marked."""
    import altair as alt  # Only the Training page draws Altair charts: other pages spare its 26 MB.

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


@st.cache_data(show_spinner="Timing the models...")
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
    """The shipped benchmark's single-image latency (`python -m cnn.bench`), for the one model it measured."""
    benchmark = load_benchmark()
    if not benchmark or "single_image" not in benchmark:
        return None
    latency = benchmark["single_image"]["predict_ms"]
    return (
        f"`python -m cnn.bench` measured predict() for {MODEL_LABELS.get(benchmark.get('model'), benchmark.get('model'))} "
        f"on 280x280 canvas PNGs at {latency['p50']:.2f} ms (p50) and {latency['p99']:.2f} ms (p99)."
    )


def targets_table(targets: list[dict]) -> pd.DataFrame:
    """One row per target of a report (`python -m cnn.bench`, `python -m cnn.robustness`): measured, goal, verdict."""
    rows = []
    for target in targets:
        unit = " ".join(target["target"].split()[2:])  # "<= 2 ms" -> "ms", ">= 75 %" -> "%", ">= 0.8" -> ""
        measured = None if target["measured"] is None else f"{target['measured']:,.2f}" + (unit and f" {unit}").replace(" %", "%")
        verdict = {True: "met", False: "not met", None: "not measured"}[target["met"]]
        rows.append({"measure": target["name"], "measured": measured, "target": target["target"], "verdict": verdict})
    return pd.DataFrame(rows, columns=["measure", "measured", "target", "verdict"])


def trained_models() -> list[str]:
    """The models in assets/ with both a serving model and a metrics file, in MODEL_NAMES order."""
    return [name for name in MODEL_NAMES if serving_model_path(name).is_file() and load_metrics(name) is not None]


def comparison_table() -> pd.DataFrame:
    """CNN vs baseline vs MLP: accuracy and size from their metrics files, latency timed here the same way for all."""
    rows = []
    for model_name in trained_models():
        metrics = load_metrics(model_name)
        rows.append(
            {
                "model": MODEL_LABELS.get(model_name, model_name),
                "test accuracy": metrics["test_accuracy"],
                "macro F1": metrics["macro_f1"],
                "parameters": metrics["parameters"],
                "Keras file (MB)": metrics["model_file_bytes"] / 1e6,
                "served file (MB)": metrics["serving_file_bytes"] / 1e6,
                "latency (ms)": measure_latency_ms(model_name),
            }
        )
    return pd.DataFrame(rows)


def misclassified_indices(labels: np.ndarray, probabilities: np.ndarray, true_class: int | None = None) -> np.ndarray:
    """Indices of wrong predictions, the most confident mistakes first, optionally of one true class."""
    predictions = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predictions != labels)
    if true_class is not None:
        wrong = wrong[labels[wrong] == true_class]
    return wrong[np.argsort(-probabilities[wrong].max(axis=1), kind="stable")]

