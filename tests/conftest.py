"""Shared fixtures: the shipped test sample and the official test set. Helpers live in tests/helpers.py."""

import os

import numpy as np
import pytest

# Keras picks its backend once per process, at its import. The training and export tests need TensorFlow's
# (Keras's default), so this process imports Keras first: the Playground would otherwise choose JAX if its tests
# ran first. Not an environment variable: the app servers the end-to-end tests start would inherit it.
if "KERAS_BACKEND" not in os.environ:
    import keras  # noqa: F401

from cnn.data import find_data_dir, load_fashion_mnist, load_test_sample


@pytest.fixture(scope="session")
def sample() -> tuple[np.ndarray, np.ndarray]:
    """The 300-image stratified test sample shipped in assets/: uint8 (300, 28, 28), labels (300,)."""
    return load_test_sample()


@pytest.fixture(scope="session")
def test_set() -> tuple[np.ndarray, np.ndarray]:
    """The official 10,000-image test set; skipped where the dataset is not installed."""
    if find_data_dir() is None:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); .ci/run installs it.")
    _, test = load_fashion_mnist()
    return test
