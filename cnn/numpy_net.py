"""The trained network as plain NumPy: every layer's activation and Grad-CAM's gradient, without TensorFlow.

The app and the server must run where TensorFlow has no wheels (Community Cloud's newest Python), yet
the Feature maps and Draw pages show every conv layer and Grad-CAM. The export command therefore writes
the model's layers and weights to `assets/<model>_layers.npz` (see export_layers), and this module runs
them: a forward pass that keeps each layer's output, and a backward pass from one class score down to
any layer. The networks are small chains (conv, BatchNorm, ReLU, max-pool, dense), so each layer is a
few lines of NumPy. Predictions still come from the LiteRT serving model; tests check these maps and
gradients against Keras where TensorFlow is installed.

Shapes: one image at a time, (H, W, C) float32 through the conv part and (units,) after Flatten.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnn.artifacts import write_atomically

FORMAT_VERSION = 1
SUPPORTED = ("Conv2D", "BatchNormalization", "ReLU", "MaxPooling2D", "Dropout", "Flatten", "Dense")


@dataclass(frozen=True)
class Layer:
    kind: str  # one of SUPPORTED
    name: str
    config: dict  # padding, pool size, activation...
    weights: tuple  # arrays, as the kind needs them


def use_one_blas_thread() -> None:
    """NumPy's matrix products on one thread from now on, in this whole process: for the app's server.

    Each session's forward and backward pass runs on that session's own thread; a BLAS thread pool
    per product would have several sessions drawing at once fight over the same cores instead
    (bench.apps measures the sessions).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


# ---------------------------------------------------------------------------------------
# Export (needs Keras) and loading (does not).


def layer_chain(model) -> list[Layer]:
    """The Keras model's chain of layers with their weights as NumPy; BatchNorm becomes its affine map."""
    chain = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind not in SUPPORTED:
            raise ValueError(f"Layer {layer.name!r} of type {kind} cannot be exported to NumPy.")
        config = layer.get_config()
        entry: dict[str, Any] = {"kind": kind, "name": layer.name}
        weights = [np.asarray(weight, dtype=np.float32) for weight in layer.get_weights()]
        if kind == "Conv2D":
            entry |= {"padding": config["padding"], "activation": config["activation"]}
        elif kind == "Dense":
            entry["activation"] = config["activation"]
        elif kind == "MaxPooling2D":
            entry |= {"padding": config["padding"], "pool_size": list(config["pool_size"]), "strides": list(config["strides"])}
        elif kind == "BatchNormalization":
            gamma, beta, mean, variance = weights
            scale = gamma / np.sqrt(variance + config["epsilon"])
            weights = [scale, beta - mean * scale]
        entry["weights"] = len(weights)
        chain.append(Layer(kind, layer.name, entry, tuple(weights)))
    return chain


def export_layers(model, path: Path) -> None:
    """Write the Keras model's layer chain and weights to path (.npz)."""
    chain = layer_chain(model)
    arrays = {f"{layer.name}/{index}": weight for layer in chain for index, weight in enumerate(layer.weights)}
    header = json.dumps({"format": FORMAT_VERSION, "model": model.name, "layers": [layer.config for layer in chain]})
    write_atomically(path, lambda temp: np.savez(open(temp, "wb"), header=np.array(header), **arrays))


class NumpyNet:
    """The exported chain of layers, run one image at a time."""

    def __init__(self, layers: list[Layer], name: str):
        self.layers = layers
        self.name = name
        self.conv_names = [layer.name for layer in layers if layer.kind == "Conv2D"]
        # Each conv is shown after its non-linearity: its own ReLU or the ReLU layer right after its BatchNorm.
        self.shown_after = {name: self.activation_layer(name) for name in self.conv_names}

    @classmethod
    def from_file(cls, path: Path) -> "NumpyNet":
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(str(archive["header"]))
            if header.get("format") != FORMAT_VERSION:
                raise ValueError(f"{path} is in layer format {header.get('format')}; export the model again.")
            layers = [
                Layer(entry["kind"], entry["name"], entry, tuple(archive[f"{entry['name']}/{index}"] for index in range(entry["weights"])))
                for entry in header["layers"]
            ]  # fmt: skip
        return cls(layers, header["model"])

    def activation_layer(self, conv_name: str) -> str:
        """The layer whose output is the conv's map after its non-linearity."""
        names = [layer.name for layer in self.layers]
        index = names.index(conv_name)
        if self.layers[index].config.get("activation") == "relu":
            return conv_name
        for layer in self.layers[index + 1 :]:
            if layer.kind == "ReLU":
                return layer.name
            if layer.kind not in ("BatchNormalization",):
                break
        return conv_name

    # -----------------------------------------------------------------------------------
    # Forward: (28, 28, 1) -> every layer's output; the last Dense is kept as logits.

    def forward(self, image: np.ndarray) -> list[np.ndarray]:
        """Outputs of every layer for one image (H, W, 1); the classifier's output is its logits (no softmax)."""
        outputs = []
        x = np.asarray(image, dtype=np.float32)
        for layer in self.layers:
            x = forward_layer(layer, x)
            outputs.append(x)
        return outputs

    def feature_maps(self, outputs: list[np.ndarray]) -> dict[str, np.ndarray]:
        """conv layer name -> (H, W, channels) after its non-linearity."""
        index = {layer.name: position for position, layer in enumerate(self.layers)}
        return {name: outputs[index[self.shown_after[name]]] for name in self.conv_names}

    def probabilities(self, image: np.ndarray) -> np.ndarray:
        """Softmax of the classifier's logits for one image (H, W, 1): (10,)."""
        logits = self.forward(image)[-1].astype(np.float64)
        exponentials = np.exp(logits - logits.max())
        return (exponentials / exponentials.sum()).astype(np.float32)

    def penultimate(self, outputs: list[np.ndarray]) -> np.ndarray:
        """The classifier's input: the network's embedding of the image, (units,)."""
        return outputs[-2]

    # -----------------------------------------------------------------------------------
    # Backward: d(logit of class_id) / d(a layer's output).

    def gradient(self, image: np.ndarray, outputs: list[np.ndarray], class_id: int, layer_name: str) -> np.ndarray:
        """The gradient of the class's logit with respect to layer_name's output, shaped like that output."""
        names = [layer.name for layer in self.layers]
        stop = names.index(layer_name)
        classifier = self.layers[-1]
        grad = classifier.weights[0][:, class_id].astype(np.float32)  # d logit / d classifier input
        for position in range(len(self.layers) - 2, stop, -1):
            layer_input = outputs[position - 1] if position > 0 else image
            grad = backward_layer(self.layers[position], layer_input, outputs[position], grad)
        return grad


# ---------------------------------------------------------------------------------------
# The layers.


def windows(x: np.ndarray, size: int) -> np.ndarray:
    """(H, W, C) -> (H - size + 1, W - size + 1, size * size * C): each position's patch, row-major."""
    patches = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(0, 1))  # (H', W', C, size, size)
    return patches.transpose(0, 1, 3, 4, 2).reshape(patches.shape[0], patches.shape[1], -1)


def convolve(x: np.ndarray, kernel: np.ndarray, padding: str) -> np.ndarray:
    """Keras Conv2D (stride 1, odd square kernel): (H, W, C) * (k, k, C, F) -> (H', W', F)."""
    size = kernel.shape[0]
    if padding == "same":
        pad = size // 2
        x = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    return windows(x, size) @ kernel.reshape(-1, kernel.shape[-1])


def max_pool(x: np.ndarray, padding: str) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max-pool with stride 2: output (H', W', C) and the padded input as (H', W', 4, C) blocks."""
    height, width, channels = x.shape
    if padding == "same":
        x = np.pad(x, ((0, height % 2), (0, width % 2), (0, 0)), constant_values=-np.inf)
    else:
        x = x[: height - height % 2, : width - width % 2]
    blocks = x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2, channels).transpose(0, 2, 1, 3, 4)
    blocks = blocks.reshape(blocks.shape[0], blocks.shape[1], 4, channels)
    return blocks.max(axis=2), blocks


def activate(x: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(x, 0.0)
    if activation in ("linear", "softmax"):  # the classifier stays at its logits: Grad-CAM follows the score
        return x
    raise ValueError(f"Activation {activation!r} is not supported.")


def forward_layer(layer: Layer, x: np.ndarray) -> np.ndarray:
    kind, weights = layer.kind, layer.weights
    if kind == "Conv2D":
        out = convolve(x, weights[0], layer.config["padding"])
        if len(weights) > 1:
            out = out + weights[1]
        return activate(out, layer.config["activation"]).astype(np.float32)
    if kind == "BatchNormalization":
        return x * weights[0] + weights[1]
    if kind == "ReLU":
        return np.maximum(x, 0.0)
    if kind == "MaxPooling2D":
        return max_pool(x, layer.config["padding"])[0]
    if kind == "Dropout":
        return x
    if kind == "Flatten":
        return x.reshape(-1)
    # Dense
    out = x @ weights[0]
    if len(weights) > 1:
        out = out + weights[1]
    return activate(out, layer.config["activation"]).astype(np.float32)


def backward_layer(layer: Layer, x: np.ndarray, out: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """d score / d x from d score / d out, for one layer whose input was x and output out."""
    kind, weights = layer.kind, layer.weights
    if kind in ("Conv2D", "Dense") and layer.config["activation"] == "relu":
        grad = grad * (out > 0)
    if kind == "Conv2D":
        kernel = weights[0]  # (k, k, C, F)
        size = kernel.shape[0]
        # The input gradient is the output gradient convolved with the kernel turned 180 degrees,
        # its in and out channels swapped; "valid" needs the full padding, "same" the usual one.
        flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)  # (k, k, F, C)
        pad = size // 2 if layer.config["padding"] == "same" else size - 1
        return convolve(np.pad(grad, ((pad, pad), (pad, pad), (0, 0))), flipped, "valid")
    if kind == "BatchNormalization":
        return grad * weights[0]
    if kind == "ReLU":
        return grad * (out > 0)
    if kind == "MaxPooling2D":
        height, width, channels = x.shape
        _, blocks = max_pool(x, layer.config["padding"])  # (H', W', 4, C)
        winners = blocks == blocks.max(axis=2, keepdims=True)
        winners = winners & (np.cumsum(winners, axis=2) == 1)  # ties: the first, as TensorFlow routes them
        routed = winners * grad[:, :, np.newaxis, :]
        full = routed.reshape(grad.shape[0], grad.shape[1], 2, 2, channels).transpose(0, 2, 1, 3, 4)
        full = full.reshape(grad.shape[0] * 2, grad.shape[1] * 2, channels)
        result = np.zeros_like(x)
        rows, cols = min(height, full.shape[0]), min(width, full.shape[1])
        result[:rows, :cols] = full[:rows, :cols]
        return result
    if kind == "Dropout":
        return grad
    if kind == "Flatten":
        return grad.reshape(x.shape)
    # Dense
    return grad @ weights[0].T
