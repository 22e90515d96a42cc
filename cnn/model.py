"""Model definitions: the shipped CNN, the seeds' tutorial baseline and a fully connected MLP.

All use the functional API with an explicit `keras.Input` and named conv layers
(`conv1`, `conv2`, ...) so feature maps and Grad-CAM can address them by name.
Inputs are (batch, 28, 28, 1) float32 in 0..1; outputs are softmax probabilities (batch, 10).
"""

import keras
from keras import layers

from cnn.config import DEFAULT_MODEL, INPUT_SHAPE, NUM_CLASSES, model_path
from cnn.registry import model_spec


def conv_bn_relu(x, filters: int, name: str, kernel_size: int = 3, padding: str = "same"):
    # The conv has no bias because BatchNorm's shift replaces it.
    x = layers.Conv2D(filters, kernel_size, padding=padding, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_cnn(dropout_rate: float = 0.2, dense_units: int = 256) -> keras.Model:
    """VGG-style CNN: three blocks of two 3x3 convs with BatchNorm, about 0.8M parameters."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")  # (28, 28, 1)
    x = conv_bn_relu(inputs, 32, "conv1")
    x = conv_bn_relu(x, 32, "conv2")
    x = layers.MaxPooling2D(name="pool1")(x)  # (14, 14, 32)
    x = layers.Dropout(dropout_rate, name="dropout1")(x)
    x = conv_bn_relu(x, 64, "conv3")
    x = conv_bn_relu(x, 64, "conv4")
    x = layers.MaxPooling2D(name="pool2")(x)  # (7, 7, 64)
    x = layers.Dropout(dropout_rate, name="dropout2")(x)
    x = conv_bn_relu(x, 128, "conv5")
    x = conv_bn_relu(x, 128, "conv6")
    # "same" padding keeps the 7th row and column that a plain 2x2 pool of 7x7 would drop.
    x = layers.MaxPooling2D(padding="same", name="pool3")(x)  # (4, 4, 128)
    x = layers.Dropout(dropout_rate, name="dropout3")(x)
    x = layers.Flatten(name="flatten")(x)  # (2048,)
    x = layers.Dense(dense_units, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_bn")(x)
    x = layers.ReLU(name="dense_relu")(x)
    x = layers.Dropout(2 * dropout_rate, name="dropout4")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def build_baseline() -> keras.Model:
    """The seeds' tutorial net: Conv32-Pool-Conv64-Pool-Dense128-Dense10 (conv1 (26, 26, 32), pool2 (5, 5, 64))."""
    return build_convnet((32, 64), padding="valid", dense_units=128, name="baseline")


def build_convnet(
    filters: tuple[int, ...],
    kernel_size: int = 3,
    padding: str = "same",
    pooling: bool = True,
    batch_norm: bool = False,
    dropout_rate: float = 0.0,
    dense_units: int = 0,
    name: str = "convnet",
) -> keras.Model:
    """A plain chain the Playground's knobs describe, and the seeds' baseline: one conv block per entry of
    filters (conv -> BatchNorm -> ReLU, or conv with its own ReLU -> 2x2 max-pool -> dropout), then an
    optional hidden dense layer and the classifier. No filters at all is an MLP.

    Layer names follow the shipped models (conv1, pool1, ..., dense, probabilities), so feature maps,
    Grad-CAM and the NumPy export (cnn/numpy_net.py) address them the same way.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")  # (28, 28, 1)
    x = inputs
    for block, block_filters in enumerate(filters, start=1):
        if batch_norm:
            x = conv_bn_relu(x, block_filters, f"conv{block}", kernel_size, padding)
        else:
            x = layers.Conv2D(block_filters, kernel_size, padding=padding, activation="relu", name=f"conv{block}")(x)
        if pooling:
            x = layers.MaxPooling2D(name=f"pool{block}")(x)  # halves each side, rounding down
        if dropout_rate:
            x = layers.Dropout(dropout_rate, name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    if dense_units:
        x = layers.Dense(dense_units, activation="relu", name="dense")(x)
        if dropout_rate:
            x = layers.Dropout(dropout_rate, name="dropout_dense")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def build_mlp(hidden_units: int = 256, dropout_rate: float = 0.2) -> keras.Model:
    """Fully connected network with no convolutions, for the CNN-vs-ANN comparison."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")  # (28, 28, 1)
    x = layers.Flatten(name="flatten")(inputs)  # (784,)
    x = layers.Dense(hidden_units, activation="relu", name="dense1")(x)
    x = layers.Dropout(dropout_rate, name="dropout1")(x)
    x = layers.Dense(hidden_units, activation="relu", name="dense2")(x)
    x = layers.Dropout(dropout_rate, name="dropout2")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mlp")


BUILDERS = {"build_cnn": build_cnn, "build_baseline": build_baseline, "build_mlp": build_mlp}


def build_model(name: str = "cnn") -> keras.Model:
    """Build an untrained model by its registry name (cnn/registry.py); it carries that name."""
    spec = model_spec(name)
    model = BUILDERS[spec.builder]()
    model.name = spec.name  # the drawing model shares the cnn's builder
    return model


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's Conv2D layers, input side first."""
    return [layer.name for layer in model.layers if isinstance(layer, layers.Conv2D)]


_trained: dict[str, keras.Model] = {}  # model name -> loaded Keras model


def load_keras_model(model_name: str = DEFAULT_MODEL) -> keras.Model:
    """The trained Keras model from assets/, loaded once: for training-side tools (export, the seeds' path, tests)."""
    if model_name not in _trained:
        path = model_path(model_name)
        if not path.is_file():
            raise FileNotFoundError(f"No trained model at {path}. Train one with: python -m cnn.train --model {model_name}")
        _trained[model_name] = keras.saving.load_model(path, compile=False)
    return _trained[model_name]
