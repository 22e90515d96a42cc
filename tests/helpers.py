"""Helpers the tests share: render the shipped sample the way users send images."""

import io

import numpy as np
from PIL import Image


def encode(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def as_photo(image: np.ndarray, size: int = 140) -> Image.Image:
    """A dataset image rendered as a product photo: dark item on a white background, upscaled."""
    return Image.fromarray(255 - image).resize((size, size), Image.Resampling.BICUBIC)
