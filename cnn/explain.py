"""What the network sees: feature maps of every conv layer and Grad-CAM heatmaps.

Pure functions on the preprocessed (28, 28) model input that return NumPy arrays;
drawing them is the UI's job. Grad-CAM follows Selvaraju et al. (2017) as in the keras-io
example `examples/vision/grad_cam.py`.
"""

import threading
from dataclasses import dataclass

import numpy as np

from cnn.config import DEFAULT_MODEL, IMAGE_SIZE
from cnn.predict import load_keras_model
from cnn.serving import FLIP_AXIS, averages_flips

CLASSIFIER_LAYER = "probabilities"  # the last layer of every model in cnn/model.py


@dataclass
class Explanation:
    probabilities: np.ndarray  # (10,)
    feature_maps: dict[str, np.ndarray]  # conv layer name -> (H, W, channels), after the activation
    heatmap: np.ndarray  # (28, 28) in 0..1, Grad-CAM for class_id
    class_id: int
    heatmap_layer: str


class Explainer:
    """One model that returns every conv layer's activation and the probabilities in one pass."""

    def __init__(self, model, average_flips: bool):
        import keras
        import tensorflow as tf

        conv_names = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        if not conv_names:
            raise ValueError(f"Model {model.name!r} has no conv layers to explain.")
        layer_names = {layer.name for layer in model.layers}
        # Show each conv after its non-linearity: that is what the next layer receives.
        outputs = [model.get_layer(f"{name}_relu" if f"{name}_relu" in layer_names else name).output for name in conv_names]
        self.conv_names = conv_names
        self.average_flips = average_flips
        # Grad-CAM follows the class score before the softmax, as the keras-io example does: a
        # confident softmax is flat, and its tiny gradients drew heatmaps off the item.
        self.classifier = model.get_layer(CLASSIFIER_LAYER)  # Dense(10) with the softmax
        self.model = keras.Model(model.inputs, [*outputs, self.classifier.input])
        self.forward = tf.function(self.forward_and_gradients, reduce_retracing=True)

    def forward_and_gradients(self, images, class_id):
        import tensorflow as tf

        # Where the serving model averages flips, the mirror image rides along so the probabilities
        # are the ones predict() shows; maps and gradients are read at index 0, the image itself.
        if self.average_flips:
            images = tf.concat([images, tf.reverse(images, axis=[FLIP_AXIS])], axis=0)  # (2, 28, 28, 1)
        with tf.GradientTape() as tape:
            *activations, features = self.model(images, training=False)
            logits = tf.matmul(features, self.classifier.kernel) + self.classifier.bias  # (1 or 2, 10)
            probabilities = tf.reduce_mean(tf.nn.softmax(logits), axis=0)  # (10,)
            target = tf.where(class_id < 0, tf.argmax(probabilities, output_type=tf.int32), class_id)
            score = logits[0, target]
        gradients = tape.gradient(score, activations)
        return activations, gradients, probabilities, target


_explainers = {}
_explainers_lock = threading.Lock()


def get_explainer(model_name: str = DEFAULT_MODEL) -> Explainer:
    with _explainers_lock:
        if model_name not in _explainers:
            _explainers[model_name] = Explainer(load_keras_model(model_name), averages_flips(model_name))
        return _explainers[model_name]


def as_batch(model_input: np.ndarray) -> np.ndarray:
    """(28, 28) float in 0..1 -> (1, 28, 28, 1) float32, with a readable error otherwise."""
    array = np.asarray(model_input, dtype=np.float32)
    if array.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"Expected the preprocessed (28, 28) model input, got shape {array.shape}.")
    return array[np.newaxis, :, :, np.newaxis]


def grad_cam_from(activation: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """Grad-CAM from one layer's activation and gradient (H, W, C): (28, 28) heatmap in 0..1."""
    from PIL import Image

    channel_weights = gradient.mean(axis=(0, 1))  # (C,) global-average-pooled gradients
    heatmap = np.maximum(activation @ channel_weights, 0.0)  # (H, W), only what raises the score
    peak = heatmap.max()
    heatmap = heatmap / peak if peak > 0 else heatmap
    resized = Image.fromarray(heatmap.astype(np.float32), mode="F").resize(
        (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR
    )
    return np.clip(np.asarray(resized), 0.0, 1.0)


def explain(
    model_input: np.ndarray,
    class_id: int | None = None,
    heatmap_layer: str | None = None,
    model_name: str = DEFAULT_MODEL,
) -> Explanation:
    """Probabilities, all feature maps and a Grad-CAM heatmap from one forward and backward pass.

    class_id None explains the predicted class; heatmap_layer None uses the last conv layer.
    """
    explainer = get_explainer(model_name)
    heatmap_layer = heatmap_layer or explainer.conv_names[-1]
    if heatmap_layer not in explainer.conv_names:
        raise ValueError(f"Unknown conv layer {heatmap_layer!r}; choose one of {', '.join(explainer.conv_names)}.")
    activations, gradients, probabilities, target = explainer.forward(
        as_batch(model_input), np.int32(-1 if class_id is None else class_id)
    )
    maps = {name: np.asarray(activation[0]) for name, activation in zip(explainer.conv_names, activations)}
    index = explainer.conv_names.index(heatmap_layer)
    heatmap = grad_cam_from(maps[heatmap_layer], np.asarray(gradients[index][0]))
    return Explanation(np.asarray(probabilities), maps, heatmap, int(target), heatmap_layer)


def feature_maps(model_input: np.ndarray, model_name: str = DEFAULT_MODEL) -> dict[str, np.ndarray]:
    """Every conv layer's activation for one input: layer name -> (H, W, channels)."""
    return explain(model_input, model_name=model_name).feature_maps


def grad_cam(
    model_input: np.ndarray, class_id: int | None = None, layer: str | None = None, model_name: str = DEFAULT_MODEL
) -> np.ndarray:
    """Grad-CAM heatmap (28, 28) in 0..1 for the predicted class or class_id."""
    return explain(model_input, class_id, layer, model_name).heatmap
