"""Paths and constants shared by every part of the project: one place to change them."""

import os
from pathlib import Path

from cnn.registry import DEFAULT_MODEL

PROJECT_DIR = Path(__file__).resolve().parent.parent
ASSETS_DIR = Path(os.environ.get("CNN_ASSETS_DIR", PROJECT_DIR / "assets"))

# The label order of the official dataset (https://github.com/zalandoresearch/fashion-mnist).
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 28
INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
CANVAS_SIZE = 280  # pixels: the Draw page's canvas, ten times the model input
# The largest upload, everywhere an image is taken: predict(), the Flask server and the Streamlit uploader
# (.streamlit/config.toml's server.maxUploadSize repeats it: TOML cannot import it, a test checks the two agree).
# Photos of clothing are small; the bound keeps a busy server's memory in check.
MAX_UPLOAD_MB = 10
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024

SEED = 42


def model_path(model_name: str = DEFAULT_MODEL) -> Path:
    return ASSETS_DIR / f"{model_name}.keras"


def serving_model_path(model_name: str = DEFAULT_MODEL) -> Path:
    """The LiteRT export predict() runs (see cnn/serving.py)."""
    return ASSETS_DIR / f"{model_name}.tflite"


def layers_path(model_name: str = DEFAULT_MODEL) -> Path:
    """The model's layers as NumPy arrays: feature maps and Grad-CAM without TensorFlow (see cnn/numpy_net.py)."""
    return ASSETS_DIR / f"{model_name}_layers.npz"


def neighbours_path(model_name: str = DEFAULT_MODEL) -> Path:
    """The nearest-neighbour index of the model's embeddings of training images (see cnn/neighbours.py)."""
    return ASSETS_DIR / f"{model_name}_neighbours.npz"


def history_path(model_name: str = DEFAULT_MODEL) -> Path:
    return ASSETS_DIR / f"{model_name}_history.json"


def metrics_path(model_name: str = DEFAULT_MODEL) -> Path:
    return ASSETS_DIR / f"{model_name}_metrics.json"


SAMPLE_PATH = ASSETS_DIR / "test_sample.npz"
ROBUSTNESS_PATH = ASSETS_DIR / "robustness.json"
BENCHMARK_PATH = ASSETS_DIR / "benchmark.json"
