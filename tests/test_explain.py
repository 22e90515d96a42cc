"""Feature maps and Grad-CAM: shapes, heatmaps on the item, and the NumPy copy of the network against Keras."""

import subprocess
import sys

import numpy as np
import pytest

from cnn.config import PROJECT_DIR
from cnn.explain import explain, feature_maps, grad_cam, load_layers
from cnn.model import load_keras_model
from cnn.predict import load_unsure_rule, predict, preprocess
from cnn.registry import MODEL_SPECS

EXPLAINED = [name for name, spec in MODEL_SPECS.items() if spec.builder != "build_mlp"]
TOLERANCE = 1e-4  # relative to each map's peak: float32 sums in another order, nothing more


@pytest.fixture(scope="module")
def model_input(sample):
    images, _ = sample
    return preprocess(images[0])


def keras_reference(model_name: str, model_input: np.ndarray, class_id: int, layer: str):
    """Feature maps and the Grad-CAM gradient as keras-io's example computes them, with TensorFlow."""
    import keras
    import tensorflow as tf

    model = load_keras_model(model_name)
    net = load_layers(model_name)
    shown = [net.shown_after[name] for name in net.conv_names]
    classifier = model.layers[-1]
    probe = keras.Model(model.inputs, [*(model.get_layer(name).output for name in shown), classifier.input])
    images = tf.constant(model_input[np.newaxis, :, :, np.newaxis], dtype=tf.float32)
    with tf.GradientTape() as tape:
        *activations, features = probe(images, training=False)
        logits = tf.matmul(features, classifier.kernel) + classifier.bias
        score = logits[0, class_id]
    gradients = tape.gradient(score, activations)
    maps = {name: activation[0].numpy() for name, activation in zip(net.conv_names, activations)}
    gradient = gradients[net.conv_names.index(layer)][0].numpy()
    return maps, gradient


@pytest.mark.parametrize("model_name", EXPLAINED)
@pytest.mark.parametrize("layer_position", [0, -1])
def test_numpy_maps_and_grad_cam_match_keras(sample, model_name, layer_position):
    images, _ = sample
    for image in images[:4]:
        model_input = preprocess(image)
        layer = load_layers(model_name).conv_names[layer_position]
        explanation = explain(model_input, heatmap_layer=layer, model_name=model_name)
        maps, gradient = keras_reference(model_name, model_input, explanation.class_id, layer)
        for name, expected in maps.items():
            peak = max(float(np.abs(expected).max()), 1e-6)
            assert np.abs(explanation.feature_maps[name] - expected).max() <= TOLERANCE * peak, name
        np.testing.assert_allclose(explanation.heatmap, reference_grad_cam(maps[layer], gradient), atol=1e-4)


def reference_grad_cam(activation: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """Grad-CAM as Selvaraju et al. define it, written out channel by channel: each channel weighted by its
    spatially averaged gradient, summed, ReLU, scaled to a peak of 1, then bilinearly resized to 28x28."""
    from PIL import Image

    height, width, channels = activation.shape
    heatmap = np.zeros((height, width), np.float64)
    for channel in range(channels):
        heatmap += activation[:, :, channel] * gradient[:, :, channel].sum() / (height * width)
    heatmap = np.maximum(heatmap, 0.0)
    if heatmap.max() > 0:
        heatmap /= heatmap.max()
    resized = Image.fromarray(heatmap.astype(np.float32), mode="F").resize((28, 28), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized), 0.0, 1.0)


def test_every_conv_layer_has_a_feature_map(model_input):
    maps = feature_maps(model_input)
    assert list(maps) == load_layers().conv_names == [f"conv{index}" for index in range(1, 7)]
    assert maps["conv1"].shape == (28, 28, 32) and maps["conv6"].shape == (7, 7, 128)
    assert all(feature_map.min() >= 0 for feature_map in maps.values())  # after the ReLU


def test_explanation_agrees_with_predict(sample):
    images, _ = sample
    net = load_layers()
    for image in images[:10]:
        model_input = preprocess(image)
        explanation = explain(model_input)
        result = predict(image)
        assert explanation.class_id == result["class_id"]
        # The NumPy copy of the layers, run on the image and its mirror image as the served cnn is, then
        # calibrated: the same probabilities as the LiteRT model's within its int8 rounding.
        logits = [net.forward(view[:, :, np.newaxis])[-1] for view in (model_input, model_input[:, ::-1])]
        numpy_probabilities = np.mean([np.exp(z - z.max()) / np.exp(z - z.max()).sum() for z in logits], axis=0)
        calibrated = load_unsure_rule().calibrate(numpy_probabilities[np.newaxis])[0]
        assert calibrated[result["class_id"]] == pytest.approx(result["confidence"], abs=0.03)
        assert explanation.embedding.shape == (256,)


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


def test_a_model_without_conv_layers_is_a_readable_error(model_input):
    with pytest.raises(ValueError, match="no conv layers"):
        explain(model_input, model_name="mlp")


def test_the_app_runs_blas_on_one_thread_per_session():
    # In a fresh interpreter: the limit is process-wide, and this one's BLAS may already be busy.
    script = (
        "from threadpoolctl import threadpool_info\n"
        "from cnn.numpy_net import use_one_blas_thread\n"
        "import numpy, scipy.linalg\n"
        "use_one_blas_thread()\n"
        "print(sorted({pool['num_threads'] for pool in threadpool_info() if pool['user_api'] == 'blas'}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[1]"


def test_grad_cam_is_put_in_words_for_a_screen_reader():
    from cnn.explain import where_it_looked

    heat = np.zeros((28, 28), np.float32)
    heat[20:27, 10:18] = 1.0
    assert where_it_looked(heat) == "it looked most at the bottom centre of the image"
    heat = np.zeros((28, 28), np.float32)
    heat[12:16, 12:16] = 1.0
    assert where_it_looked(heat) == "it looked most at the centre of the image"
    assert where_it_looked(np.zeros((28, 28))) == "no region stands out"


@pytest.mark.parametrize("name", ["HEAT_COLOURS", "MAP_COLOURS"])
def test_the_colour_maps_get_steadily_brighter(name):
    """Perceptually ordered: lightness rises from low to high, so the maps read right in grey and for
    colour-blind eyes (a rainbow's does not: its yellow is brighter than its red)."""
    from cnn import render

    ramp = render.colourise(np.linspace(0.0, 1.0, 64), getattr(render, name))
    luminance = ramp @ np.array([0.2126, 0.7152, 0.0722])
    assert (np.diff(luminance) > 0).all()
