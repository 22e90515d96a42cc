"""Shared fixtures: the shipped test sample and the official test set. Helpers live in tests/helpers.py."""

import os

import numpy as np
import pytest

# Keras picks its backend once per process. The training and export tests need TensorFlow's; the
# Playground would otherwise choose JAX if its tests ran first (it trains on JAX in its own subprocess test).
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

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
