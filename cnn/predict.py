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
from typing import Any, NamedTuple

import numpy as np

from cnn import activity
from cnn.artifacts import read_json
from cnn.calibration import UNLIKE_TRAINING, UnsureRule
from cnn.config import CLASS_NAMES, DEFAULT_MODEL, IMAGE_SIZE, metrics_path, neighbours_path, serving_model_path
from cnn.errors import InvalidImageError, NothingDrawnError  # noqa: F401  part of the public API
from cnn.frame import Framed, frame, frame_many, preprocess  # noqa: F401  preprocess is part of the public API
from cnn.neighbours import NeighbourIndex
from cnn.registry import DRAWING_MODEL
from cnn.serving import CHUNK_SIZE, ServingModel


class Classified(NamedTuple):
    """classify()'s answer: predict()'s result, the (28, 28) model input it was computed from and the
    model's embedding of it (units,), None for a model exported without one."""

    result: dict
    model_input: np.ndarray
    embedding: np.ndarray | None = None


def predict(image, top_k: int = 3, model_name: str | None = None, sketch: bool = False, box=None) -> dict:
    """Classify one image; `flask.jsonify(predict(request.files["file"]))` just works.

    Returns {"prediction", "class_id", "confidence", "unsure", "unsure_reason", "headline", "top_k":
    [{"label", "class_id", "probability"}, ...], "probabilities": {class name: probability}, "model",
    "garment_box"}.
    Probabilities are calibrated; "unsure" is the model's calibrated rule (cnn/calibration.py) and
    "unsure_reason" why: "low_confidence", "unlike_training" (far from everything the model learnt
    from: "not one of my ten") or None; "headline" is the answer as the pages word it. model_name None runs
    what the app runs: the drawing model for sketch=True (the Draw page's path), else the cnn.
    box (left, top, width, height) in the image's pixels: classify what is inside it only. Without one, a photo
    of a person wearing the garment is classified on the garment, and "garment_box" says where it was found
    ([left, top, width, height] in the image's pixels; None otherwise).
    Raises InvalidImageError (a ValueError) with a readable message for bad input.
    """
    return classify(image, top_k, model_name, sketch, box).result


def predict_batch(images, top_k: int = 3, model_name: str | None = None, sketch: bool = False, boxes=None) -> list[dict]:
    """Classify many images, chunk by chunk; a bad image gets {"error": message} in its place.
    boxes: one box (or None) per image, as predict() takes it."""
    model_name = resolve_model_name(model_name, sketch)
    load_model(model_name)  # a missing model fails here, before any image is read

    def classify_chunk(framed_chunk: list) -> list[dict]:
        good = [framed for framed in framed_chunk if not isinstance(framed, InvalidImageError)]
        classified = iter(results_from_model_inputs(np.stack([framed.model_input for framed in good]), top_k, model_name) if good else [])
        return [
            {"error": str(framed)} if isinstance(framed, InvalidImageError) else with_garment_box(next(classified), framed)
            for framed in framed_chunk
        ]

    images = list(images)
    boxes = list(boxes) if boxes is not None else [None] * len(images)
    if len(boxes) != len(images):
        raise ValueError(f"{len(boxes)} boxes for {len(images)} images: give one box (or None) per image.")
    chunks = [(images[start : start + CHUNK_SIZE], boxes[start : start + CHUNK_SIZE]) for start in range(0, len(images), CHUNK_SIZE)]
    classified_chunks = overlapped(lambda chunk: frame_many(chunk[0], sketch, chunk[1]), classify_chunk, chunks)
    return [result for chunk_results in classified_chunks for result in chunk_results]


def classify(image, top_k: int = 3, model_name: str | None = None, sketch: bool = False, box=None) -> Classified:
    """predict()'s result together with the (28, 28) model input it was computed from, for UIs that show both."""
    framed = frame(image, sketch=sketch, box=box)
    results, embeddings = results_and_embeddings(framed.model_input[np.newaxis], top_k, resolve_model_name(model_name, sketch))
    return Classified(with_garment_box(results[0], framed), framed.model_input, None if embeddings is None else embeddings[0])


def with_garment_box(result: dict, framed: Framed) -> dict:
    """The result with "garment_box": where, on a photo of a person wearing it, the garment was found and
    classified ([left, top, width, height] in the photo's pixels), or None."""
    return result if framed.garment_box is None else result | {"garment_box": list(framed.garment_box)}


def predict_model_input(model_input: np.ndarray, top_k: int = 3, model_name: str = DEFAULT_MODEL) -> dict:
    """predict()'s result for an image preprocess() has already turned into the (28, 28) model input."""
    return results_from_model_inputs(model_input[np.newaxis], top_k, model_name)[0]


def results_from_model_inputs(model_inputs: np.ndarray, top_k: int, model_name: str) -> list[dict]:
    """(N, 28, 28) model inputs -> predict()'s results."""
    return results_and_embeddings(model_inputs, top_k, model_name)[0]


def results_and_embeddings(model_inputs: np.ndarray, top_k: int, model_name: str) -> tuple[list[dict], np.ndarray | None]:
    """(N, 28, 28) model inputs -> predict()'s results, from the model's probabilities and, where it has a
    reference set, how far each input's embedding lies from what it learnt ("not one of my ten"); and the
    embeddings (N, units), None for a model exported without them."""
    activity.answering()  # the Playground's trainer steps aside while people wait for answers
    probabilities, embeddings = load_model(model_name).with_embeddings(model_inputs[..., np.newaxis])
    return results_from_probabilities(probabilities, top_k, model_name, reference_distances(model_name, embeddings)), embeddings


def reference_distances(model_name: str, embeddings: np.ndarray | None) -> np.ndarray | None:
    """(N, units) embeddings -> (N,) distances to the model's reference embeddings; None where it has none."""
    if embeddings is None or not neighbours_path(model_name).is_file():
        return None
    index = load_neighbours(model_name)
    return index.reference_distances(embeddings) if index.unit_references is not None else None


# ---------------------------------------------------------------------------------------
# Models: loaded once, shared read-only by every thread and session.

_loaded: dict[tuple[str, str], Any] = {}  # (kind, model name) -> model
_loading_locks: dict[tuple[str, str], threading.Lock] = {}  # one per (kind, model): loading one never waits on another
_locks_lock = threading.Lock()  # guards _loading_locks only, held for a dictionary lookup


def load_once(kind: str, model_name: str, path, load):
    """load(path) once per process and kind, shared by every thread; a clear error if it is missing.
    Once loaded, a lookup takes no lock (a dict read is atomic); while one thread loads a model, the
    others wanting the same one wait for it, and those wanting anything else do not."""
    key = (kind, model_name)
    loaded = _loaded.get(key)
    if loaded is not None:
        return loaded
    with loading_lock(key):
        if key not in _loaded:
            if not path.is_file():
                raise FileNotFoundError(f"No trained model at {path}. Train one with: python -m cnn.train --model {model_name}")
            _loaded[key] = load(path)
        return _loaded[key]


def unload(model_name: str) -> None:
    """Forget everything loaded for the model (serving model, unsure rule, neighbours, layers): the next use
    reads its files again. The app's cached loader calls it, so clearing that cache really reloads."""
    for key in [key for key in list(_loaded) if key[1] == model_name]:
        with loading_lock(key):
            _loaded.pop(key, None)


def loading_lock(key: tuple[str, str]) -> threading.Lock:
    """The lock that one (kind, model name) is loaded and forgotten under."""
    with _locks_lock:
        return _loading_locks.setdefault(key, threading.Lock())


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


def load_neighbours(model_name: str) -> NeighbourIndex:
    """The model's nearest-neighbour index and reference embeddings (cnn/neighbours.py)."""
    return load_once("neighbours", model_name, neighbours_path(model_name), NeighbourIndex.from_file)


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


def results_from_probabilities(probabilities: np.ndarray, top_k: int, model_name: str = DEFAULT_MODEL,
                               distances: np.ndarray | None = None, rule: UnsureRule | None = None) -> list[dict]:  # fmt: skip
    """JSON-ready results from the model's (N, 10) probabilities, calibrated and flagged by its unsure
    rule (with the (N,) reference distances, where the model has them): the sorting and rounding done
    once for the batch. "unsure_reason" says why: "unlike_training", "low_confidence" or None.
    rule: for a model without files in assets/ (the Playground's), its own rule."""
    rule = rule or load_unsure_rule(model_name)
    probabilities = rule.calibrate(probabilities)
    reasons = rule.reasons(probabilities, distances)
    top_k = max(1, min(int(top_k), len(CLASS_NAMES)))
    orders = np.argsort(probabilities, axis=1)[:, ::-1][:, :top_k].tolist()  # (N, top_k), most likely first
    results = []
    for order, rounded, reason in zip(orders, np.round(probabilities.astype(np.float64), 6).tolist(), reasons):
        results.append({
            "prediction": CLASS_NAMES[order[0]],
            "class_id": order[0],
            "confidence": rounded[order[0]],
            "unsure": reason is not None,
            "unsure_reason": reason,
            "headline": headline(CLASS_NAMES[order[0]], [CLASS_NAMES[i] for i in order[:3]], reason),
            "top_k": [{"label": CLASS_NAMES[i], "class_id": i, "probability": rounded[i]} for i in order],
            "probabilities": dict(zip(CLASS_NAMES, rounded)),
            "model": model_name,
            "garment_box": None,  # set by classify() where a photo of a person was cut to the garment
        })  # fmt: skip
    return results


NOT_ONE_OF_MY_TEN = "This doesn't look like any of the ten items I know"


def headline(prediction: str, top_three: list[str], reason: str | None) -> str:
    """What every page and the Flask page say as the answer: the label, "Not sure: maybe A, B or C?" for a
    low-confidence answer, or that the input is unlike anything the model learnt from."""
    if reason == UNLIKE_TRAINING:
        return NOT_ONE_OF_MY_TEN
    if reason is None:
        return prediction
    maybe = top_three[0] if len(top_three) == 1 else ", ".join(top_three[:-1]) + " or " + top_three[-1]
    return f"Not sure: maybe {maybe}?"


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
