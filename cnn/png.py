"""Faster PNG decoding, in two ways that leave every pixel as Pillow decodes it.

Small plain PNGs (a batch of 28x28 images) skip Image.open: see open_small_png.

Big PNGs: zlib-ng inflates the pixel data, Pillow does everything else.

Pillow's Linux wheels inflate PNG data with the system's zlib, which spends most of the time
Pillow takes to open a canvas PNG: a mostly black canvas is long runs of short repeats, zlib's
slowest case, and zlib-ng inflates it many times faster, but Pillow cannot be pointed at another
zlib. So a large PNG's pixel data is inflated here and handed back to Pillow stored (deflate level
0: copied, not compressed): Pillow still parses the header, unfilters the rows and checks every
size, as for any PNG. docs/performance.md has the figures.
"""

import struct

import zlib_ng.zlib_ng as zlib_ng
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SAMPLES_PER_PIXEL = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by PNG colour type: grey, RGB, palette, grey+alpha, RGBA
# Below 64 KB of pixel data the extra copy costs more than zlib-ng saves; above 16 MB the two
# extra copies cost memory a small server may not have, and the time saved matters less.
MIN_PIXEL_BYTES = 64 * 1024
MAX_PIXEL_BYTES = 16 * 1024 * 1024
PNG_START = PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR"  # the signature, then the header chunk: first, 13 bytes long
EIGHT_BIT_MODES = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}  # colour types Pillow decodes 8-bit into the same mode
# Chunks that change nothing about the decoded image. Any other sends the file to Image.open:
# tRNS (a transparent colour), eXIf and text (an EXIF rotation may hide there), PLTE, APNG's...
PLAIN_CHUNKS = frozenset({b"IHDR", b"IDAT", b"IEND", b"pHYs", b"sRGB", b"gAMA", b"cHRM", b"iCCP"})


def open_png(data: bytes) -> Image.Image | bytes:
    """The fast path for PNGs: a small plain PNG opened directly (no EXIF to apply, its size known to be
    safe), or else the bytes for Image.open: a big PNG with its pixels inflated by zlib-ng, anything else
    as it came."""
    small = open_small_png(data)
    return small if small is not None else with_stored_pixels(data)


def open_small_png(data: bytes) -> Image.Image | None:
    """A small, plain 8-bit PNG decoded by Pillow's own PNG decoder, or None for Image.open to read.

    Image.open parses chunks and sets up its decoder in Python, which is a third of its time on
    a 28x28 PNG. Here the chunks are checked (types, order, CRCs) and the image data goes
    straight to the same C decoder, which unfilters the rows and refuses short or bad data
    (bench.speed's decode_images_per_second measures the difference).
    Anything unusual or damaged returns None, so Image.open reads it (or rejects it) as before.
    """
    if not data.startswith(PNG_START):
        return None
    pixel_bytes = filtered_size(data[16:29])  # None if interlaced
    if pixel_bytes is None or pixel_bytes >= MIN_PIXEL_BYTES:
        return None
    width, height, bit_depth, colour_type, compression, filter_method, _ = struct.unpack_from(">IIBBBBB", data, 16)
    mode = EIGHT_BIT_MODES.get(colour_type)
    if mode is None or bit_depth != 8 or compression or filter_method or not width or not height:
        return None
    chunks = list(png_chunks(data))
    # A chunk's CRC covers its type and data, and follows the data.
    for kind, start, end in chunks:
        if kind not in PLAIN_CHUNKS or zlib_ng.crc32(data[start - 4 : end]) != int.from_bytes(data[end : end + 4]):
            return None
    image_data = joined_image_data(data, chunks)
    if image_data is None:
        return None
    compressed, _, _ = image_data
    try:  # short or damaged data (a truncated file) raises: Image.open then decides
        return Image.frombytes(mode, (width, height), compressed, "zip", mode)
    except (ValueError, OSError):
        return None


def with_stored_pixels(data: bytes) -> bytes:
    """The same PNG with its image data inflated by zlib-ng and stored uncompressed.

    Anything else is returned unchanged for Pillow to read (or reject) as before: other
    formats, small or huge images, interlaced or animated PNGs, and damaged files.
    """
    if not data.startswith(PNG_START):
        return data
    pixel_bytes = filtered_size(data[16:29])
    if pixel_bytes is None or not MIN_PIXEL_BYTES <= pixel_bytes <= MAX_PIXEL_BYTES:
        return data  # decided before reading any further: small PNGs (a batch of 28x28 images) pay nothing
    chunks = list(png_chunks(data))  # (type, data start, data end)
    image_data = joined_image_data(data, chunks)
    if image_data is None or any(kind == b"acTL" for kind, _, _ in chunks):
        return data
    compressed, first_chunk_start, last_chunk_end = image_data
    inflater = zlib_ng.decompressobj()
    try:
        pixels = inflater.decompress(compressed, pixel_bytes + 1)  # never more than the header promises
    except zlib_ng.error:  # type: ignore[misc]  # zlib-ng's stub types error as a function; it is zlib's exception class
        return data
    if len(pixels) != pixel_bytes or not inflater.eof:
        return data
    stored = zlib_ng.compress(pixels, 0)
    idat = struct.pack(">I4s", len(stored), b"IDAT") + stored + struct.pack(">I", zlib_ng.crc32(stored, zlib_ng.crc32(b"IDAT")))
    return data[:first_chunk_start] + idat + data[last_chunk_end:]


def png_chunks(data: bytes):
    """(type, data start, data end) for each whole chunk after the signature; stops at a truncated one."""
    position = len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        start, end = position + 8, position + 8 + length
        if end + 4 > len(data):
            return
        yield kind, start, end
        if kind == b"IEND":
            return
        position = end + 4


def joined_image_data(data: bytes, chunks: list[tuple[bytes, int, int]]) -> tuple[bytes, int, int] | None:
    """(the IDAT chunks' data joined, where the first of them starts, where the last ends), or None if
    there are none or another chunk comes between them (not a valid PNG)."""
    positions = [index for index, (kind, _, _) in enumerate(chunks) if kind == b"IDAT"]
    if not positions or positions[-1] - positions[0] + 1 != len(positions):
        return None
    image_data = chunks[positions[0] : positions[-1] + 1]
    # Chunk data starts 8 bytes after the chunk does (length, type) and ends 4 bytes before the next (CRC).
    return b"".join(data[start:end] for _, start, end in image_data), image_data[0][1] - 8, image_data[-1][2] + 4


def filtered_size(header: bytes) -> int | None:
    """Bytes of a non-interlaced PNG's inflated image data (each row: a filter byte, then the row), or None."""
    if len(header) != 13:
        return None
    width, height, bit_depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if interlace or colour_type not in SAMPLES_PER_PIXEL or bit_depth not in (1, 2, 4, 8, 16):
        return None
    row_bytes = (width * SAMPLES_PER_PIXEL[colour_type] * bit_depth + 7) // 8
    return height * (1 + row_bytes)
