"""cnn.png: big PNGs re-wrapped with their pixels inflated by zlib-ng decode to exactly the same image."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnn.png import MIN_PIXEL_BYTES, png_chunks, with_stored_pixels
from cnn.predict import InvalidImageError, preprocess
from tests.conftest import encode


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    """400x300 RGBA with smooth and noisy parts, so every PNG row filter gets used."""
    rng = np.random.default_rng(0)
    gradient = np.linspace(0, 255, 400, dtype=np.float32)[np.newaxis, :, np.newaxis]
    image = np.broadcast_to(gradient, (300, 400, 4)).copy()
    image[100:200] = rng.integers(0, 256, size=(100, 400, 4))
    image[..., 3] = np.where(np.arange(400) < 200, 255, 128)
    return image.astype(np.uint8)


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "LA", "L", "P", "I;16", "1"])
def test_stored_pixels_decode_to_the_same_image(noise, mode):
    if mode == "P":
        image = Image.fromarray(noise[..., :3]).quantize(64)
    elif mode == "1":  # 8 pixels a byte: wider, to be worth the fast path
        image = Image.fromarray(np.tile(noise[..., 0], (1, 6))).convert("1")
    elif mode == "I;16":
        image = Image.fromarray(noise[..., 0].astype(np.uint16) * 257)
    else:
        image = Image.fromarray(noise).convert(mode)
    original = encode(image)
    rewrapped = with_stored_pixels(original)
    assert rewrapped != original, "a PNG this size should take the fast path"
    assert [kind for kind, _, _ in png_chunks(rewrapped)].count(b"IDAT") == 1
    np.testing.assert_array_equal(pixels(rewrapped), pixels(original))


def test_image_data_in_many_chunks_is_joined(noise):
    original = encode(Image.fromarray(noise), "PNG", compress_level=0)  # stored: Pillow writes it in 64 KB chunks
    assert [kind for kind, _, _ in png_chunks(original)].count(b"IDAT") > 1
    np.testing.assert_array_equal(pixels(with_stored_pixels(original)), pixels(original))


def test_canvas_drawing_gives_the_same_model_input():
    canvas = np.zeros((280, 280, 4), dtype=np.uint8)
    canvas[..., 3] = 255
    canvas[60:220, 100:110, :3] = 255
    canvas[60:70, 100:180, :3] = 255
    data = encode(Image.fromarray(canvas))
    assert with_stored_pixels(data) != data
    np.testing.assert_array_equal(preprocess(data), preprocess(canvas))


def test_what_it_leaves_alone(noise):
    small = encode(Image.fromarray(noise[:20, :20]))
    assert len(noise[:20, :20].tobytes()) < MIN_PIXEL_BYTES and with_stored_pixels(small) == small
    jpeg = encode(Image.fromarray(noise[..., :3]), "JPEG")
    assert with_stored_pixels(jpeg) == jpeg
    animated = encode(Image.fromarray(noise), "PNG", save_all=True, append_images=[Image.fromarray(255 - noise)])
    assert with_stored_pixels(animated) == animated


def replace_image_data(data: bytes, compressed: bytes) -> bytes:
    """The PNG with all its IDAT chunks replaced by one holding `compressed`."""
    chunks = list(png_chunks(data))
    idat = [(start, end) for kind, start, end in chunks if kind == b"IDAT"]
    crc = zlib.crc32(compressed, zlib.crc32(b"IDAT"))
    chunk = struct.pack(">I4s", len(compressed), b"IDAT") + compressed + struct.pack(">I", crc)
    return data[: idat[0][0] - 8] + chunk + data[idat[-1][1] + 4 :]


def test_damaged_files_are_left_for_pillow_to_reject(noise):
    original = encode(Image.fromarray(noise))
    truncated = original[: len(original) // 2]
    pixel_bytes = 300 * (1 + 400 * 4)
    too_much = replace_image_data(original, zlib.compress(b"\0" * (pixel_bytes * 4)))  # a bomb: 4x the header's size
    not_deflate = replace_image_data(original, b"this is not a zlib stream" * 100)
    for damaged in (truncated, too_much, not_deflate):
        assert with_stored_pixels(damaged) == damaged
    for damaged in (truncated, not_deflate):
        with pytest.raises(InvalidImageError, match="truncated or corrupt"):
            preprocess(damaged)
