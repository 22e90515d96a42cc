"""What the network sees: feature maps of every conv layer and Grad-CAM heatmaps.

Pure functions on the preprocessed (28, 28) model input that return NumPy arrays; drawing them
is the UI's job. Grad-CAM follows Selvaraju et al. (2017) as in the keras-io example
`examples/vision/grad_cam.py`. Both run on the NumPy copy of the network the export command
writes (cnn/numpy_net.py), so the app needs no TensorFlow; the probabilities and the class
explained by default are the serving model's, the ones predict() shows.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

from cnn.config import DEFAULT_MODEL, IMAGE_SIZE, layers_path
from cnn.numpy_net import NumpyNet
from cnn.predict import load_model, load_once, load_unsure_rule


@dataclass
class Explanation:
    probabilities: np.ndarray  # (10,), the serving model's, calibrated: what predict() shows
    feature_maps: dict[str, np.ndarray]  # conv layer name -> (H, W, channels), after the activation
    heatmap: np.ndarray  # (28, 28) in 0..1, Grad-CAM for class_id
    class_id: int
    heatmap_layer: str
    embedding: np.ndarray  # (units,), the classifier's input: the network's own description of the image


def load_layers(model_name: str = DEFAULT_MODEL) -> NumpyNet:
    """The model's NumPy copy, loaded once per process."""
    return load_once("layers", model_name, layers_path(model_name), NumpyNet.from_file)


def as_model_input(model_input: np.ndarray) -> np.ndarray:
    """(28, 28) float in 0..1 -> (28, 28) float32, with a readable error otherwise."""
    array = np.asarray(model_input, dtype=np.float32)
    if array.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"Expected the preprocessed (28, 28) model input, got shape {array.shape}.")
    return array


def grad_cam_from(activation: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """Grad-CAM from one layer's activation and gradient (H, W, C): (28, 28) heatmap in 0..1."""
    channel_weights = gradient.mean(axis=(0, 1))  # (C,) global-average-pooled gradients
    heatmap = np.maximum(activation @ channel_weights, 0.0)  # (H, W), only what raises the score
    peak = heatmap.max()
    heatmap = heatmap / peak if peak > 0 else heatmap
    resized = Image.fromarray(heatmap.astype(np.float32), mode="F").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized), 0.0, 1.0)


def explain(
    model_input: np.ndarray,
    class_id: int | None = None,
    heatmap_layer: str | None = None,
    model_name: str = DEFAULT_MODEL,
    probabilities: np.ndarray | None = None,
    net: NumpyNet | None = None,
) -> Explanation:
    """Probabilities, all feature maps, the embedding and a Grad-CAM heatmap from one forward and backward pass.

    class_id None explains the predicted class; heatmap_layer None uses the last conv layer.
    probabilities: the calibrated (10,) probabilities predict() already computed for this input, if at hand.
    net: a network that is not in assets/ (the Playground's), with its probabilities.
    """
    image = as_model_input(model_input)
    if net is None:
        net = load_layers(model_name)
    elif probabilities is None:
        probabilities = net.probabilities(image[:, :, np.newaxis])
    if not net.conv_names:
        raise ValueError(f"Model {net.name!r} has no conv layers to explain.")
    heatmap_layer = heatmap_layer or net.conv_names[-1]
    if heatmap_layer not in net.conv_names:
        raise ValueError(f"Unknown conv layer {heatmap_layer!r}; choose one of {', '.join(net.conv_names)}.")
    if probabilities is None:
        served = load_model(model_name)(image[np.newaxis, :, :, np.newaxis])  # (1, 10)
        probabilities = load_unsure_rule(model_name).calibrate(served)[0]
    target = int(np.argmax(probabilities)) if class_id is None else int(class_id)
    # Grad-CAM follows the class score before the softmax, as the keras-io example does: a
    # confident softmax is flat, and its tiny gradients drew heatmaps off the item.
    outputs = net.forward(image[:, :, np.newaxis])
    maps = net.feature_maps(outputs)
    gradient = net.gradient(image[:, :, np.newaxis], outputs, target, net.shown_after[heatmap_layer])
    heatmap = grad_cam_from(maps[heatmap_layer], gradient)
    return Explanation(probabilities, maps, heatmap, target, heatmap_layer, net.penultimate(outputs))


def feature_maps(model_input: np.ndarray, model_name: str = DEFAULT_MODEL) -> dict[str, np.ndarray]:
    """Every conv layer's activation for one input: layer name -> (H, W, channels)."""
    return explain(model_input, model_name=model_name).feature_maps


def grad_cam(model_input: np.ndarray, class_id: int | None = None, layer: str | None = None, model_name: str = DEFAULT_MODEL) -> np.ndarray:
    """Grad-CAM heatmap (28, 28) in 0..1 for the predicted class or class_id."""
    return explain(model_input, class_id, layer, model_name).heatmap


def where_it_looked(heatmap: np.ndarray) -> str:
    """Words for a Grad-CAM heatmap (H, W) in 0..1, for a screen reader: the third of the image, across and
    down, that holds most of the heat, e.g. "it looked most at the bottom centre"."""
    heat = np.asarray(heatmap, dtype=np.float32)
    if heat.size == 0 or float(heat.sum()) <= 0:
        return "no region stands out"
    rows = np.array_split(np.arange(heat.shape[0]), 3)
    columns = np.array_split(np.arange(heat.shape[1]), 3)
    sums = np.array([[heat[np.ix_(row, column)].sum() for column in columns] for row in rows])  # (3, 3)
    row, column = np.unravel_index(int(np.argmax(sums)), sums.shape)
    place = {(1, 1): "the centre"}.get(
        (int(row), int(column)), f"the {('top', 'middle', 'bottom')[row]} {('left', 'centre', 'right')[column]}"
    )
    return f"it looked most at {place} of the image"
