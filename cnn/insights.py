"""Everything the Draw page shows beside its answer, from one forward and backward pass.

For one model input and the prediction already made for it: Grad-CAM for the chosen class, the most
active channels of every conv layer, the nearest training images in the network's own embedding, and
the same input through the comparison models (the photo CNN, the seeds' baseline CNN, an MLP with
no convolutions), each a LiteRT call of a fraction of a millisecond.
"""

from dataclasses import dataclass

import numpy as np

from cnn.config import CLASS_NAMES
from cnn.explain import Explanation, explain
from cnn.neighbours import Neighbour
from cnn.numpy_net import NumpyNet
from cnn.predict import load_neighbours, predict_model_input
from cnn.registry import MODEL_NAMES
from cnn.render import most_active_channels

CHANNELS_PER_LAYER = 4  # the compact view: each layer's strongest channels for this input
NEIGHBOURS = 6


@dataclass(frozen=True)
class LayerGlimpse:
    name: str
    shape: tuple[int, int, int]  # (H, W, channels) of the whole layer
    channels: tuple[int, ...]  # the most active channels, strongest first
    maps: np.ndarray  # (H, W, len(channels)) their activations


@dataclass(frozen=True)
class Insights:
    explanation: Explanation
    layers: list[LayerGlimpse]
    neighbours: list[Neighbour]
    comparison: dict[str, dict]  # model name -> predict()'s result for the same model input


def insights(model_input: np.ndarray, result: dict, model_name: str, class_id: int | None = None,
             compare_with: tuple[str, ...] = (), net: NumpyNet | None = None) -> Insights:  # fmt: skip
    """The Draw page's views for a model input whose prediction `result` came from `model_name`.

    class_id None explains the predicted class. compare_with: other trained models to run on the same input.
    net: a network that is not in assets/ (the Playground's): it has no index of training images to show.
    Raises ValueError for a network without conv layers.
    """
    probabilities = np.array([result["probabilities"][name] for name in CLASS_NAMES], dtype=np.float32)
    explanation = explain(model_input, class_id, model_name=model_name, probabilities=probabilities, net=net)
    layers = []
    for name, maps in explanation.feature_maps.items():
        channels = most_active_channels(maps, CHANNELS_PER_LAYER)
        layers.append(LayerGlimpse(name, maps.shape, tuple(int(c) for c in channels), maps[..., channels]))
    neighbours = [] if net is not None else load_neighbours(model_name).nearest(explanation.embedding, NEIGHBOURS)
    comparison = {other: predict_model_input(model_input, 3, other) for other in compare_with if other in MODEL_NAMES}
    return Insights(explanation, layers, neighbours, comparison)
