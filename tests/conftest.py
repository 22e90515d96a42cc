"""Shared fixtures: the shipped test sample and helpers that render it the way users send images."""

import io

import numpy as np
import pytest
from PIL import Image

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


def encode(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def as_photo(image: np.ndarray, size: int = 140) -> Image.Image:
    """A dataset image rendered as a product photo: dark item on a white background, upscaled."""
    return Image.fromarray(255 - image).resize((size, size), Image.Resampling.BICUBIC)
