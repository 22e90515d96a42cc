"""The serving model predict() runs: the LiteRT export of the Keras model, averaged with its mirror image."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from cnn.model import load_keras_model
from cnn.predict import load_model
from cnn.registry import MODEL_NAMES, averages_flips, model_spec
from cnn.serving import CHUNK_SIZE, MIN_PADDED_CHUNK, serving_keras_model
from cnn.train import to_model_input


@pytest.fixture(scope="module")
def inputs(sample):
    images, _ = sample
    return to_model_input(images)  # (300, 28, 28, 1)


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_export_computes_what_the_keras_model_computes(inputs, model_name):
    keras_model = load_keras_model(model_name)
    # Only the flip-trained cnn is averaged with mirror images; the others are served as trained.
    assert averages_flips(model_name) == (model_name in ("cnn", "sketch"))
    with_embedding = model_spec(model_name).explained
    reference = serving_keras_model(keras_model, averages_flips(model_name), with_embedding)
    outputs = reference(inputs, training=False)
    expected = (outputs[0] if with_embedding else outputs).numpy()
    served, embeddings = load_model(model_name).with_embeddings(inputs)
    # int8 weights move probabilities by at most about 0.03 and almost never the answer.
    np.testing.assert_allclose(served, expected, atol=0.05)
    assert (served.argmax(axis=1) == expected.argmax(axis=1)).mean() >= 0.99
    # The explained models also serve their embedding, the one the "not one of my ten" check reads.
    assert (embeddings is not None) == with_embedding
    if with_embedding:
        keras_embeddings = outputs[1].numpy()
        cosine = (embeddings * keras_embeddings).sum(axis=1) / (
            np.linalg.norm(embeddings, axis=1) * np.linalg.norm(keras_embeddings, axis=1)
        )
        assert cosine.min() > 0.98


def test_an_image_and_its_mirror_image_get_the_same_probabilities(inputs):
    model = load_model()
    np.testing.assert_allclose(model(inputs[:32]), model(inputs[:32, :, ::-1]), atol=1e-5)


@pytest.mark.parametrize("leftover", [7, MIN_PADDED_CHUNK])  # run one by one, and in a padded chunk
def test_batches_across_chunks_match_single_images(inputs, leftover):
    batch_size = CHUNK_SIZE + leftover
    model = load_model()
    batch = model(inputs[:batch_size])
    assert batch.shape == (batch_size, 10)
    for index in (0, CHUNK_SIZE - 1, CHUNK_SIZE, batch_size - 1):
        np.testing.assert_allclose(batch[index], model(inputs[index : index + 1])[0], atol=1e-5)
    assert model(inputs[:0]).shape == (0, 10)


def test_concurrent_batches_of_different_sizes_get_their_own_answers(inputs):
    model = load_model()
    expected = {size: model(inputs[:size]) for size in (1, 2, 5, 40)}

    def worker(size: int) -> list[np.ndarray]:
        return [model(inputs[:size]) for _ in range(20)]

    with ThreadPoolExecutor(max_workers=len(expected)) as pool:
        futures = {size: pool.submit(worker, size) for size in expected}
    for size, future in futures.items():
        answers = future.result()  # raises here what the worker thread raised
        assert len(answers) == 20
        for answer in answers:
            np.testing.assert_allclose(answer, expected[size], atol=1e-5)


def test_wrong_input_shape_is_a_readable_error():
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28, 1\)"):
        load_model()(np.zeros((28, 28), dtype=np.float32))
