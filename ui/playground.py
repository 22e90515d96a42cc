"""The Playground page's helpers: the shared trainer, its knobs in the session state, the live views.

The trainer (cnn/playground.py) is one per server behind st.cache_resource; each session keeps its own
run and its trained model in st.session_state. Nothing here imports Keras: only the training process does.
"""

from dataclasses import asdict, fields

import numpy as np
import streamlit as st

from cnn.config import CLASS_NAMES
from cnn.playground import PLAYGROUND, Settings, TrainedModel, Trainer
from cnn.render import feature_map_grid, tile_row
from ui.loaders import get_model, model_label, trained_models

RUN = "playground_run"  # this session's latest Run
TRAINED = "playground_model"  # this session's latest TrainedModel
USE_ON_DRAW = "use_playground_model"  # the switch to the Playground model, shared by its pages (not a widget's key)
KNOB = "playground_{}"  # the session-state key of each Settings field


@st.cache_resource(show_spinner=False)
def get_trainer() -> Trainer:
    """The process's one trainer, shared by every session: one run trains at a time."""
    return Trainer()


def trained_model() -> TrainedModel | None:
    """This session's Playground model, if it has trained one."""
    return st.session_state.get(TRAINED)


def own_model_switch(widget_key: str, label: str = "Answer with my Playground network") -> TrainedModel | None:
    """Where this session has a Playground model: a switch to answer with it (one setting for the Draw, Feature
    maps and Playground pages), and the model while it is on. Streamlit forgets a widget's state on the pages
    that do not show it, so the choice itself lives under its own key."""
    trained = trained_model()
    if trained is None:
        return None
    st.session_state[widget_key] = st.session_state.get(USE_ON_DRAW, False)
    st.toggle(label, key=widget_key, help=f"Trained on the Playground page: {trained.settings.describe()}",
              on_change=lambda: st.session_state.update({USE_ON_DRAW: st.session_state[widget_key]}))  # fmt: skip
    return trained if st.session_state.get(USE_ON_DRAW) else None


def network_label(model_name: str) -> str:
    """What the pages call a model that answered: a shipped one by its registry label, or the user's own."""
    return "Your Playground network" if model_name == PLAYGROUND else model_label(model_name)


def apply_settings(settings: Settings) -> None:
    """Set every knob's widget to the settings (a preset's, or the defaults on the first visit)."""
    for name, value in asdict(settings).items():
        st.session_state[KNOB.format(name)] = value


def knob_settings() -> Settings:
    """The settings the knobs show now."""
    return Settings(**{item.name: st.session_state[KNOB.format(item.name)] for item in fields(Settings)})


CURVE_COLUMNS = ("epoch", "value", "split")


def curve_points(progress, metric: str) -> list[dict]:
    """The curves' points of `metric` ("loss" or "accuracy"), in epoch order: training (every quarter second),
    validation (every second and at each epoch's end). Each second's new points come last, so the page's chart
    adds them to what it shows (Streamlit's Vega-Lite charts do, for data passed beside an unchanged spec)
    instead of drawing itself again in every browser that watches."""
    column = 1 if metric == "loss" else 2
    points = [{"epoch": point[0], "value": point[column], "split": "training"} for point in progress.training_curve]
    points += [{"epoch": point[0], "value": point[column], "split": "validation"} for point in progress.validation_curve]
    return sorted(points, key=lambda point: point["epoch"])


def curve_chart(metric: str) -> dict:
    """Vega-Lite spec of one curve chart, for curve_points as its data: the same spec all run long (the current
    figures are in the status line above it)."""
    return {
        "description": f"{metric.capitalize()} while training, by epoch: training every quarter second, validation every "
        "second and at the end of each epoch",
        "mark": {"type": "line", "interpolate": "monotone"},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": "Epoch", "axis": {"tickMinStep": 1}},
            "y": {"field": "value", "type": "quantitative", "title": metric.capitalize(),
                  "scale": {"zero": False}, "axis": {"format": "%" if metric == "accuracy" else ""}},
            # The legend inside the plot, in the corner the curves leave empty (accuracy rises, loss falls): below
            # the plot, Streamlit's fitting to the container's width left the plot a sliver of its height.
            "color": {"field": "split", "type": "nominal", "title": None, "scale": {"range": ["#4C5FD5", "#F28E2B"]},
                      "legend": {"orient": "bottom-right" if metric == "accuracy" else "top-right"}},
        },
    }  # fmt: skip


CURVE_CHART_HEIGHT = 220  # pixels, the axes included: given to st.vega_lite_chart, which sizes the plot within it


def filter_picture(filters: np.ndarray, tile: int = 40) -> np.ndarray:
    """The first layer's kernels (k, k, F) as a row of grey tiles: mid-grey 0, white the strongest positive weight."""
    scaled = filters / max(float(np.abs(filters).max()), 1e-8)  # -1..1, one scale for all, so strengths compare
    return tile_row([(0.5 + 0.5 * scaled[..., channel]) for channel in range(filters.shape[-1])], tile)


def feature_maps_picture(maps: np.ndarray) -> np.ndarray:
    return feature_map_grid(maps, columns=min(8, maps.shape[-1]), tile=56)


def probes_caption(guesses: list) -> str:
    return " · ".join(f"{CLASS_NAMES[label]}: {CLASS_NAMES[guess]} {probability:.0%}" for label, (guess, probability) in enumerate(guesses))


def probes_picture(images: np.ndarray) -> np.ndarray:
    return tile_row(list(images), 56)


@st.cache_data(show_spinner="Running the shipped models on the same test images...")
def shipped_accuracies(source: str, _images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Each shipped model's accuracy on the Playground's test images (source names which ones, for the cache)."""
    inputs = _images[..., np.newaxis].astype(np.float32) / 255
    accuracies = {}
    for name in trained_models():
        probabilities = np.concatenate([get_model(name)(inputs[start : start + 500]) for start in range(0, len(inputs), 500)])
        accuracies[model_label(name)] = float(np.mean(probabilities.argmax(axis=1) == labels))
    return accuracies
