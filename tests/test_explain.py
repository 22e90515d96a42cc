"""Feature maps and Grad-CAM: shapes, one pass for all layers, and heatmaps that point at the item."""

import numpy as np
import pytest

from cnn.explain import explain, feature_maps, get_explainer, grad_cam
from cnn.predict import predict, preprocess


@pytest.fixture(scope="module")
def model_input(sample):
    images, _ = sample
    return preprocess(images[0])


def test_every_conv_layer_has_a_feature_map(model_input):
    maps = feature_maps(model_input)
    assert list(maps) == get_explainer().conv_names == [f"conv{index}" for index in range(1, 7)]
    assert maps["conv1"].shape == (28, 28, 32) and maps["conv6"].shape == (7, 7, 128)
    assert all(feature_map.min() >= 0 for feature_map in maps.values())  # after the ReLU


def test_explanation_agrees_with_predict(sample):
    images, _ = sample
    for image in images[:10]:
        explanation = explain(preprocess(image))
        result = predict(image)
        assert explanation.class_id == result["class_id"]
        # The serving model has int8 weights, the explained Keras model float32: close, not equal.
        assert explanation.probabilities[result["class_id"]] == pytest.approx(result["confidence"], abs=0.02)


def test_grad_cam_is_a_normalised_heatmap_on_the_item(sample):
    images, _ = sample
    on_item = []
    for image in images[:30]:
        heatmap = grad_cam(preprocess(image))
        assert heatmap.shape == (28, 28) and heatmap.min() >= 0 and heatmap.max() <= 1
        item = image > 25
        if heatmap.max() > 0 and item.any() and (~item).any():
            on_item.append(heatmap[item].mean() > heatmap[~item].mean())
    assert np.mean(on_item) >= 0.7  # the evidence lies mostly on the garment, not the background


def test_chosen_class_and_layer(model_input):
    explanation = explain(model_input, class_id=3, heatmap_layer="conv4")
    assert explanation.class_id == 3 and explanation.heatmap_layer == "conv4"
    assert explanation.heatmap.shape == (28, 28)


@pytest.mark.parametrize("bad_input", [np.zeros((28, 28, 3)), np.zeros((10, 10))])
def test_wrong_shape_is_a_readable_error(bad_input):
    with pytest.raises(ValueError, match="28, 28"):
        explain(bad_input)


def test_unknown_layer_is_a_readable_error(model_input):
    with pytest.raises(ValueError, match="Unknown conv layer"):
        explain(model_input, heatmap_layer="dense")
