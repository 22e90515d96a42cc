"""cnn.png: small PNGs opened without Image.open, and big PNGs re-wrapped with their pixels inflated
by zlib-ng, decode to exactly the same image as Pillow's own way; anything else is left to Pillow."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnn.decode import decode_image
from cnn.png import MIN_PIXEL_BYTES, open_small_png, png_chunks, with_stored_pixels
from cnn.predict import InvalidImageError, preprocess
from tests.helpers import encode


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


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One whole chunk: length, type, data, CRC."""
    return struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))


def replace_image_data(data: bytes, compressed: bytes) -> bytes:
    """The PNG with all its IDAT chunks replaced by one holding `compressed`."""
    chunks = list(png_chunks(data))
    idat = [(start, end) for kind, start, end in chunks if kind == b"IDAT"]
    return data[: idat[0][0] - 8] + png_chunk(b"IDAT", compressed) + data[idat[-1][1] + 4 :]


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


# --- Small PNGs ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["L", "RGB", "LA", "RGBA"])
def test_small_pngs_open_to_the_same_image(noise, mode):
    image = Image.fromarray(noise[90:150, :60]).convert(mode)  # smooth and noisy rows: every row filter
    opened = open_small_png(encode(image))
    assert opened is not None and opened.mode == mode and opened.size == image.size
    np.testing.assert_array_equal(np.asarray(opened), np.asarray(image))


def with_chunk(data: bytes, kind: bytes, body: bytes) -> bytes:
    """The PNG with one more chunk just before its image data."""
    first_idat = next(start for chunk_kind, start, _ in png_chunks(data) if chunk_kind == b"IDAT") - 8
    return data[:first_idat] + png_chunk(kind, body) + data[first_idat:]


def with_header_byte(data: bytes, index: int, value: int) -> bytes:
    """The PNG with byte `index` of its 13-byte header set to `value`, and the header's CRC to match."""
    header = bytearray(data[16:29])
    header[index] = value
    return data[:8] + png_chunk(b"IHDR", bytes(header)) + data[33:]


def test_small_pngs_that_are_left_to_pillow(noise):
    grey = Image.fromarray(noise[100:128, :28, 0])  # noisy: its image data does not compress
    plain = encode(grey)
    unfiltered_rows = b"".join(b"\x00" + row.tobytes() for row in noise[100:128, :28, 0])
    compressed = zlib.compress(unfiltered_rows)
    rotated = Image.fromarray(noise[:28, :20, 0])
    exif = rotated.getexif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90 degrees on display
    unusual = {
        "palette": encode(grey.quantize(16)),
        "16-bit": encode(Image.fromarray(noise[:28, :28, 0].astype(np.uint16) * 257)),
        "interlaced": with_header_byte(plain, 12, 1),  # the header's last byte: Adam7 interlacing
        "transparent colour": encode(grey, "PNG", transparency=0),
        "EXIF rotation": encode(rotated, "PNG", exif=exif),
        "text": with_chunk(plain, b"tEXt", b"Comment\x00hello"),
        "bad header CRC": plain[:29] + bytes([plain[29] ^ 1]) + plain[30:],
        "truncated": plain[: len(plain) // 2],
        # Image data in two chunks with another between them: Pillow reads the first only.
        "split image data": plain[:33]
        + png_chunk(b"IDAT", compressed[:100])
        + png_chunk(b"pHYs", bytes(9))
        + png_chunk(b"IDAT", compressed[100:])
        + png_chunk(b"IEND", b""),
        "big": encode(Image.fromarray(noise)),
    }
    for name, data in unusual.items():
        assert open_small_png(data) is None, name
    # Image.open reads them as before: rotated by its EXIF, or rejected as damaged.
    assert decode_image(unusual["EXIF rotation"]).size == (28, 20)
    assert decode_image(unusual["transparent colour"]).info["transparency"] == 0
    for name in ("bad header CRC", "truncated", "split image data"):
        with pytest.raises(InvalidImageError, match="truncated or corrupt"):
            preprocess(unusual[name])


def test_small_png_with_too_little_image_data_is_left_to_pillow(noise):
    grey = Image.fromarray(noise[100:128, :28, 0])
    short = replace_image_data(encode(grey), zlib.compress(grey.tobytes()[:500]))
    assert open_small_png(short) is None
    with pytest.raises(InvalidImageError, match="truncated or corrupt"):
        preprocess(short)
