"""The serving model: the trained network, averaged with its mirror image, run by LiteRT.

Flip test-time augmentation: a model trained on mirrored images as well sees the same item in
both, so averaging the probabilities of an image and of its mirror image cancels some of its
mistakes (the metrics file records the accuracy with and without it). The training command
exports the model, with that averaging where it applies and int8 weights, as one LiteRT
flatbuffer (`assets/<model>.tflite`). LiteRT's XNNPACK runs it several times faster than
TensorFlow's traced graph, and it needs no TensorFlow: the server and the app start faster and
stay smaller. The Keras model stays the source for training and export."""

import os
import threading
from pathlib import Path

import numpy as np

from cnn.artifacts import write_atomically
from cnn.config import IMAGE_SIZE, NUM_CLASSES

FLIP_AXIS = 2  # width, in (batch, height, width, channels)
# Images per interpreter call. Chunks of 32 to 64 ran fastest per image: bigger calls' activations
# outgrow the CPU's cache. 32 also lets predict_batch overlap preprocessing and the model.
CHUNK_SIZE = 32
MIN_PADDED_CHUNK = 24  # fewer images left over run one by one, which then costs less than a padded chunk


def serving_keras_model(model, average_flips: bool, with_embedding: bool):
    """What the serving model computes, as a Keras model: (N, 28, 28, 1) -> probabilities (N, 10) and, with
    with_embedding, the penultimate layer's embedding (N, units) too (the "not one of my ten" check reads it:
    cnn/neighbours.py). average_flips: each output the mean of the image's and of its mirror image's."""
    import keras

    outputs = [model.outputs[0]] + ([model.layers[-1].input] if with_embedding else [])
    both = keras.Model(model.inputs, outputs, name=f"{model.name}_outputs")
    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1), name="image")
    if average_flips:
        mirrored = keras.ops.flip(inputs, axis=FLIP_AXIS)
        results = [keras.layers.Average(name=f"flip_average_{index}")([plain, flipped])
                   for index, (plain, flipped) in enumerate(zip(both(inputs), both(mirrored)))]  # fmt: skip
    else:
        results = both(inputs)
    return keras.Model(inputs, results, name=f"{model.name}_serving")


def export_serving_model(model, path: Path, average_flips: bool, with_embedding: bool = False) -> None:
    """Convert the Keras model, averaged with its mirror image or not, to a LiteRT flatbuffer written atomically."""
    import tensorflow as tf

    serving_model = serving_keras_model(model, average_flips, with_embedding)
    converter = tf.lite.TFLiteConverter.from_keras_model(serving_model)
    # Dynamic-range quantization: int8 weights, activations quantized per call. On CPUs with int8
    # instructions it runs about twice as fast, in a quarter of the file, at the same test accuracy.
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    flatbuffer = converter.convert()
    write_atomically(path, lambda temp: temp.write_bytes(flatbuffer))


class LockedInterpreter:
    """One LiteRT interpreter behind a lock: an interpreter's tensors are not safe to share."""

    def __init__(self, flatbuffer: bytes, num_threads: int):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_content=flatbuffer, num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        # The probabilities are the output with one value per class; an export with the embedding has a second.
        outputs = self.interpreter.get_output_details()
        self.output_index = next(output["index"] for output in outputs if output["shape"][-1] == NUM_CLASSES)
        self.embedding_index = next((output["index"] for output in outputs if output["index"] != self.output_index), None)
        self.batch_size = int(self.interpreter.get_input_details()[0]["shape"][0])
        self.lock = threading.Lock()

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, 28, 28, 1) float32 -> (N, 10) probabilities and (N, units) embeddings, or None without them."""
        with self.lock:
            if len(images) != self.batch_size:
                self.interpreter.resize_tensor_input(self.input_index, list(images.shape))
                self.interpreter.allocate_tensors()
                self.batch_size = len(images)
            self.interpreter.set_tensor(self.input_index, images)
            self.interpreter.invoke()
            probabilities = self.interpreter.get_tensor(self.output_index).copy()
            if self.embedding_index is None:
                return probabilities, None
            return probabilities, self.interpreter.get_tensor(self.embedding_index).copy()


class ServingModel:
    """The exported model, callable from any thread: (N, 28, 28, 1) float32 in 0..1 -> (N, 10)."""

    def __init__(self, flatbuffer: bytes, num_threads: int | None = None):
        num_threads = num_threads or os.cpu_count() or 1
        # Resizing an interpreter takes milliseconds, so there is one shaped for a single image
        # (every canvas stroke, every Flask request) and one for a chunk, neither ever resized.
        self.single = LockedInterpreter(flatbuffer, num_threads)
        self.batch = LockedInterpreter(flatbuffer, num_threads)

    @classmethod
    def from_file(cls, path: Path) -> "ServingModel":
        return cls(Path(path).read_bytes())

    @property
    def has_embeddings(self) -> bool:
        return self.single.embedding_index is not None

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.with_embeddings(images)[0]

    def with_embeddings(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, 28, 28, 1) -> probabilities (N, 10) and embeddings (N, units), or None for an export without them."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 1):
            raise ValueError(f"Expected model inputs of shape (N, 28, 28, 1), got {images.shape}.")
        if len(images) == 0:
            return np.zeros((0, NUM_CLASSES), dtype=np.float32), None
        # Full chunks, then the rest: in a chunk padded with blank images, or one by one if that is cheaper.
        whole = len(images) - len(images) % CHUNK_SIZE
        outputs = [self.batch.run(images[start : start + CHUNK_SIZE]) for start in range(0, whole, CHUNK_SIZE)]
        rest = images[whole:]
        if len(rest) >= MIN_PADDED_CHUNK:
            padding = np.zeros((CHUNK_SIZE - len(rest), *rest.shape[1:]), dtype=np.float32)
            probabilities, embeddings = self.batch.run(np.concatenate([rest, padding]))
            outputs.append((probabilities[: len(rest)], None if embeddings is None else embeddings[: len(rest)]))
        else:
            outputs.extend(self.single.run(rest[index : index + 1]) for index in range(len(rest)))
        probabilities = np.concatenate([output[0] for output in outputs])
        if not self.has_embeddings:
            return probabilities, None
        return probabilities, np.concatenate([output[1] for output in outputs])
