"""The app's cached models and files.

Caching follows Streamlit's rule: a model is a shared read-only resource (st.cache_resource), files
and computed arrays are data (st.cache_data, which hands every session its own copy). Anything a
user does lives in st.session_state.
"""

import numpy as np
import streamlit as st

from cnn.activity import set_aside_loaded_objects
from cnn.artifacts import read_json
from cnn.config import BENCHMARK_PATH, DEFAULT_MODEL, ROBUSTNESS_PATH, history_path, metrics_path, serving_model_path
from cnn.data import DatasetError, load_test_sample, load_test_split
from cnn.numpy_net import use_one_blas_thread
from cnn.predict import unload, warm_up
from cnn.registry import DRAWING_MODEL, MODEL_NAMES, model_spec
from ui.layout import stop_with_error

SAMPLE_NAME = "the shipped test sample ({count} images; the full set is not installed here)"


def require_model(model_name: str = DEFAULT_MODEL):
    """The shared model, or a readable error that stops the page when it has not been trained."""
    try:
        return get_model(model_name)
    except FileNotFoundError as error:
        stop_with_error(str(error))


@st.cache_resource(show_spinner="Loading the model...")
def get_model(model_name: str = DEFAULT_MODEL):
    """One read-only serving model per process, shared by every session, ready for its first prediction.

    cnn.predict keeps the model for the whole process (Flask and scripts use it without Streamlit); this
    cache decides when the app loads it: clearing it (get_model.clear()) reads the model's files again."""
    use_one_blas_thread()  # the sessions run side by side, each explanation on one core
    unload(model_name)
    model = warm_up(model_name)
    set_aside_loaded_objects()
    return model


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


def random_sample_index() -> int:
    """A random position in the shipped test sample: the Explore and Feature maps pages' "another image"."""
    images, _ = load_sample()
    return int(np.random.default_rng().integers(len(images)))


@st.cache_data(show_spinner="Loading the test set...")
def load_test_set() -> tuple[np.ndarray, np.ndarray, str]:
    """The full 10,000-image test set when installed, else the shipped sample, and which one it is."""
    try:
        images, labels = load_test_split()
        return images, labels, f"the full test set ({len(images):,} images)"
    except DatasetError:
        images, labels = load_test_sample()
        return images, labels, SAMPLE_NAME.format(count=len(images))


def required_metrics(model_name: str = DEFAULT_MODEL) -> dict:
    metrics = load_metrics(model_name)
    if metrics is None:
        stop_with_error(
            f"No metrics file at {metrics_path(model_name)}. Train the model first: "
            f"`python -m cnn.train --model {model_name} --out assets/`."
        )
    return metrics


@st.cache_data(show_spinner=False)  # asked on every stroke: load_metrics hands back a copy of each model's metrics
def trained_models() -> list[str]:
    """The models in assets/ with both a serving model and a metrics file, in the registry's order."""
    return [name for name in MODEL_NAMES if serving_model_path(name).is_file() and load_metrics(name) is not None]


def model_label(model_name: str) -> str:
    return model_spec(model_name).label


def sidebar_model_note() -> None:
    """Under the page menu: which models answer, and how they score on the test set."""
    notes = []
    for purpose, model_name in (("Photos", DEFAULT_MODEL), ("Drawings", DRAWING_MODEL)):
        metrics = load_metrics(model_name)
        if metrics is not None:
            notes.append(f"{purpose}: {model_label(model_name)}, {metrics['test_accuracy']:.1%} test accuracy")
    if notes:
        st.sidebar.caption("  \n".join(notes))
