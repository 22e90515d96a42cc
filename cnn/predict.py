"""Predict: classify what users send, one image or many; the public entry points come first.

`predict()` is Flask-compatible: it takes `request.files["file"]`, raw bytes, any binary file
object, a PIL image or a NumPy array and returns a JSON-ready dict. The image goes through
decode (cnn/decode.py: any input -> planes, with the safety checks) and frame (cnn/frame.py:
planes -> the 28x28 model input), then the serving model (cnn/serving.py), whose probabilities
are calibrated and flagged "unsure" by the model's own rule (cnn/calibration.py).
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from cnn.artifacts import read_json
from cnn.calibration import UnsureRule
from cnn.config import CLASS_NAMES, DEFAULT_MODEL, IMAGE_SIZE, metrics_path, serving_model_path
from cnn.errors import InvalidImageError, NothingDrawnError  # noqa: F401  part of the public API
from cnn.frame import preprocess, preprocess_many  # noqa: F401  preprocess is part of the public API
from cnn.registry import DRAWING_MODEL
from cnn.serving import CHUNK_SIZE, ServingModel


class Classified(NamedTuple):
    """classify()'s answer: predict()'s result and the (28, 28) model input it was computed from."""

    result: dict
    model_input: np.ndarray


def predict(image, top_k: int = 3, model_name: str | None = None, sketch: bool = False, box=None) -> dict:
    """Classify one image; `flask.jsonify(predict(request.files["file"]))` just works.

    Returns {"prediction", "class_id", "confidence", "unsure", "top_k": [{"label", "class_id",
    "probability"}, ...], "probabilities": {class name: probability}, "model"}. Probabilities are
    calibrated; "unsure" is the model's calibrated rule (cnn/calibration.py). model_name None runs
    what the app runs: the drawing model for sketch=True (the Draw page's path), else the cnn.
    box (left, top, width, height) in the image's pixels: classify what is inside it only.
    Raises InvalidImageError (a ValueError) with a readable message for bad input.
    """
    return classify(image, top_k, model_name, sketch, box).result


def predict_batch(images, top_k: int = 3, model_name: str | None = None, sketch: bool = False, boxes=None) -> list[dict]:
    """Classify many images, chunk by chunk; a bad image gets {"error": message} in its place.
    boxes: one box (or None) per image, as predict() takes it."""
    model_name = resolve_model_name(model_name, sketch)
    model = load_model(model_name)

    def classify_chunk(model_inputs: list) -> list[dict]:
        good = [model_input for model_input in model_inputs if not isinstance(model_input, InvalidImageError)]
        classified = iter(results_from_probabilities(model(np.stack(good)[..., np.newaxis]), top_k, model_name) if good else [])
        return [
            {"error": str(model_input)} if isinstance(model_input, InvalidImageError) else next(classified)
            for model_input in model_inputs
        ]

    images = list(images)
    boxes = list(boxes) if boxes is not None else [None] * len(images)
    if len(boxes) != len(images):
        raise ValueError(f"{len(boxes)} boxes for {len(images)} images: give one box (or None) per image.")
    chunks = [(images[start : start + CHUNK_SIZE], boxes[start : start + CHUNK_SIZE]) for start in range(0, len(images), CHUNK_SIZE)]
    classified_chunks = overlapped(lambda chunk: preprocess_many(chunk[0], sketch, chunk[1]), classify_chunk, chunks)
    return [result for chunk_results in classified_chunks for result in chunk_results]


def classify(image, top_k: int = 3, model_name: str | None = None, sketch: bool = False, box=None) -> Classified:
    """predict()'s result together with the (28, 28) model input it was computed from, for UIs that show both."""
    model_input = preprocess(image, sketch=sketch, box=box)
    return Classified(predict_model_input(model_input, top_k, resolve_model_name(model_name, sketch)), model_input)


def predict_model_input(model_input: np.ndarray, top_k: int = 3, model_name: str = DEFAULT_MODEL) -> dict:
    """predict()'s result for an image preprocess() has already turned into the (28, 28) model input."""
    probabilities = load_model(model_name)(model_input[np.newaxis, :, :, np.newaxis])[0]
    return result_from_probabilities(probabilities, top_k, model_name)


# ---------------------------------------------------------------------------------------
# Models: loaded once, shared read-only by every thread and session.

_loaded = {}  # (kind, model name) -> model
_loaded_lock = threading.Lock()


def load_once(kind: str, model_name: str, path, load):
    """load(path) once per process and kind, shared by every thread; a clear error if it is missing."""
    with _loaded_lock:
        if (kind, model_name) not in _loaded:
            if not path.is_file():
                raise FileNotFoundError(
                    f"No trained model at {path}. Train one with: python -m cnn.train --model {model_name}"
                )
            _loaded[(kind, model_name)] = load(path)
        return _loaded[(kind, model_name)]


def resolve_model_name(model_name: str | None, sketch: bool) -> str:
    """None picks what the app runs: the drawing model for the sketch path when it is trained, else the cnn."""
    if model_name is not None:
        return model_name
    if sketch and serving_model_path(DRAWING_MODEL).is_file():
        return DRAWING_MODEL
    return DEFAULT_MODEL


def load_model(model_name: str = DEFAULT_MODEL) -> ServingModel:
    """The serving model predict() uses (LiteRT, see cnn/serving.py): images (N, 28, 28, 1) -> (N, 10)."""
    return load_once("serving", model_name, serving_model_path(model_name), ServingModel.from_file)


def load_unsure_rule(model_name: str = DEFAULT_MODEL) -> UnsureRule:
    """The model's calibrated "not sure" rule from its metrics file (see cnn/calibration.py)."""

    def load(path):
        return UnsureRule.from_dict((read_json(path) or {}).get("unsure_rule"))

    return load_once("unsure", model_name, metrics_path(model_name), load)


def warm_up(model_name: str = DEFAULT_MODEL) -> ServingModel:
    """Load the serving model and run it once now, so the first user does not wait for it."""
    model = load_model(model_name)
    model(np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 1), dtype=np.float32))
    return model


# ---------------------------------------------------------------------------------------
# Results and batches.


def results_from_probabilities(probabilities: np.ndarray, top_k: int, model_name: str = DEFAULT_MODEL) -> list[dict]:
    """JSON-ready results from the model's (N, 10) probabilities, calibrated and flagged by its unsure
    rule: the sorting and rounding done once for the batch."""
    rule = load_unsure_rule(model_name)
    probabilities = rule.calibrate(probabilities)
    unsure = rule.unsure(probabilities).tolist()
    top_k = max(1, min(int(top_k), len(CLASS_NAMES)))
    orders = np.argsort(probabilities, axis=1)[:, ::-1][:, :top_k].tolist()  # (N, top_k), most likely first
    results = []
    for order, rounded, is_unsure in zip(orders, np.round(probabilities.astype(np.float64), 6).tolist(), unsure):
        results.append({
            "prediction": CLASS_NAMES[order[0]],
            "class_id": order[0],
            "confidence": rounded[order[0]],
            "unsure": is_unsure,
            "top_k": [{"label": CLASS_NAMES[i], "class_id": i, "probability": rounded[i]} for i in order],
            "probabilities": dict(zip(CLASS_NAMES, rounded)),
            "model": model_name,
        })  # fmt: skip
    return results


def result_from_probabilities(probabilities: np.ndarray, top_k: int, model_name: str = DEFAULT_MODEL) -> dict:
    """JSON-ready result for one image from its (10,) probability vector."""
    return results_from_probabilities(probabilities[np.newaxis], top_k, model_name)[0]


def overlapped(prepare: Callable, run: Callable, chunks: list) -> list:
    """[run(prepare(chunk)) for chunk in chunks], with a worker thread preparing the next chunks
    while run() works on this one.

    The model releases the GIL and keeps both cores busy, except while Python prepares its
    input: overlapping the two lets it use that idle core.
    """
    if len(chunks) < 2:
        return [run(prepare(chunk)) for chunk in chunks]  # nothing to overlap: a thread would only cost
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare") as worker:
        return [run(prepared) for prepared in worker.map(prepare, chunks)]
