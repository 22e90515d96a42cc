"""Decode: whatever users send -> grey and alpha planes, with the safety checks untrusted input needs.

Accepted: raw bytes, any binary file object (werkzeug's FileStorage, Streamlit's UploadedFile,
BytesIO), a PIL image or a NumPy array. Out: grey (H, W) float32 in 0..1 and alpha (H, W) or None
when the image is opaque. Files are size-checked before decoding, decoded to their first frame with
the EXIF rotation applied; anything wrong becomes an InvalidImageError whose message a user reads.

Only the formats in FORMAT_EXTENSIONS reach a decoder (never Pillow's PSD, ICO, FITS or EPS plugins), told
apart by their content, not their name. Untrusted files must not stall or exhaust a small server: the pixel
count is checked from the header before anything is decoded, a JPEG is decoded at a fraction of its size,
and the pixel work (grey, colour for the cut-out) runs on one shrunk working copy.
"""

import functools
import io
import struct
import warnings
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnn.config import MAX_UPLOAD_BYTES
from cnn.cutout import MIN_CUTOUT_SIDE, boxed_region, busy_background, cut_out, worn_garment_box
from cnn.errors import InvalidImageError
from cnn.png import open_png

MAX_FILE_BYTES = MAX_UPLOAD_BYTES
MAX_PIXELS = 50_000_000  # 7071 x 7071; Pillow's bomb guard would only warn here
# Every format but JPEG (which libjpeg decodes at 1/8 of its size when asked) is decoded at full size, and
# each decoder needs its own number of bytes per pixel while it works (WebP's keeps a whole RGBA canvas
# besides the frame). The pixel limit of each format keeps one decode's peak under DECODE_BUDGET_BYTES, so
# a few uploads at once cannot exhaust a small server; a phone's 12-megapixel HEIC passes.
DECODE_BUDGET_BYTES = 96 * 1024 * 1024
PEAK_BYTES_PER_PIXEL = {"PNG": 4.5, "TIFF": 4.5, "BMP": 4.5, "GIF": 9.0, "AVIF": 9.0, "HEIF": 7.5, "WEBP": 15.0}
WORKING_SIZE = 1024  # large inputs are shrunk to this before the pixel work: the output is 28 px
WEARER_SIDE = 256  # pixels: a person wearing the item is looked for on a copy this size (a head and neck need no more)
OUTLINE_NOISE = 0.05  # grey levels: less than this from the background is noise (JPEG's ringing), not outline
OUTLINE_INK = 0.1  # of the peak difference from a plain background: the item's (or person's) outline, as framing trims to it
OPAQUE_ALPHA = 0.99  # an alpha plane at least this everywhere carries no shape (a canvas with a background)

# What the app decodes, by Pillow's format name, with the extensions devices save each as: a .jfif or .jpe
# from a Windows browser is a JPEG, an iPhone saves .heic (read by pillow-heif). Every uploader and the
# Flask page take these extensions; predict() goes by the content, so a PNG named .jpg works.
FORMAT_EXTENSIONS = {
    "PNG": ("png",),
    "JPEG": ("jpg", "jpeg", "jpe", "jfif"),
    "WEBP": ("webp",),
    "GIF": ("gif",),
    "BMP": ("bmp",),
    "TIFF": ("tif", "tiff"),
    "AVIF": ("avif",),
    "HEIF": ("heic", "heif"),
}
ACCEPTED_FORMATS = tuple(FORMAT_EXTENSIONS)
UPLOAD_EXTENSIONS = [extension for extensions in FORMAT_EXTENSIONS.values() for extension in extensions]
FORMATS_IN_WORDS = "PNG, JPEG, WebP, GIF, BMP, TIFF, AVIF or HEIC"

# Leading bytes of the accepted formats: a file that starts like an image but cannot be opened is damaged.
IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF", b"II*\x00", b"MM\x00*")
ISO_MEDIA_TYPE = b"ftyp"  # AVIF and HEIC: bytes 4-8 of an ISO media file
DECODED_SCALE = "decoded_scale"  # PIL info key: the photo's own size over the decoded one (a JPEG's draft)


class Planes(NamedTuple):
    """read_planes' answer: (H, W) float32 planes in 0..1, and the box it found the garment in, if it did."""

    grey: np.ndarray
    alpha: np.ndarray | None  # None for an opaque image
    garment_box: tuple[int, int, int, int] | None = None  # (left, top, width, height) in the photo's own pixels


def read_planes(image, box=None, look_for_wearer: bool = True) -> Planes:
    """Any accepted input -> its grey and alpha planes; no alpha if it is opaque.

    box (left, top, width, height) in the photo's own pixels (see full_size): the item is inside it. An opaque photo on a
    busy background, or with a box, gets its item cut out as the alpha plane (cnn/cutout.py). Without a box, a
    photo of a person wearing the garment is cut to the garment (cnn.cutout.worn_garment_box), and its box returned;
    look_for_wearer=False (drawings on a canvas) leaves that out.
    """
    if image is None:
        raise InvalidImageError("No image was given.")
    if isinstance(image, np.ndarray):
        if image.size == 0:
            raise InvalidImageError("The image array is empty.")
        if box is not None:  # an array with a box goes the way of a photo
            image = Image.fromarray(array_to_uint8(image))
    elif isinstance(image, Image.Image):
        check_pixel_count(image.width, image.height)
    else:
        image = decode_file(image)
    boxed = None
    if box is not None:
        boxed = boxed_region(image.width, image.height, box, image.info.get(DECODED_SCALE, 1.0))
        image = image.crop(boxed.region)
    if isinstance(image, np.ndarray):
        return Planes(*array_to_planes(image))
    working = working_copy(image)
    grey, alpha = pil_to_arrays(working)
    if alpha is not None:
        return Planes(grey, alpha)
    if boxed is not None:
        scale = working.width / image.width
        return Planes(grey, cut_out(working_rgb(working, grey), tuple(round(value * scale) for value in boxed.box)))
    if min(working.size) < MIN_CUTOUT_SIDE:
        return Planes(grey, None)  # a dataset image or an icon: framed as it is
    alpha = cut_out(working_rgb(working, grey)) if busy_background(working, grey) else None
    if not look_for_wearer:
        return Planes(grey, alpha)
    garment = wearer_garment_box(grey, alpha)
    if garment is None:
        return Planes(grey, alpha)
    # A person wearing the item: cut out the garment, as if the user had drawn its box.
    to_photo = full_size(image)[0] / working.width
    worn = boxed_region(working.width, working.height, garment)
    working = working.crop(worn.region)
    grey, _ = pil_to_arrays(working)
    left, top, width, height = (round(value * to_photo) for value in garment)
    return Planes(grey, cut_out(working_rgb(working, grey), worn.box), (left, top, width, height))


def wearer_garment_box(grey: np.ndarray, alpha: np.ndarray | None) -> tuple[int, int, int, int] | None:
    """cnn.cutout.worn_garment_box on the outline of a copy of the planes (H, W) at most WEARER_SIDE on a
    side, its box (left, top, width, height) in the planes' own pixels."""
    height, width = grey.shape
    if max(height, width) > WEARER_SIDE:
        size = fitted_size(width, height, WEARER_SIDE)
        grey = np.asarray(Image.fromarray(grey).resize(size, Image.Resampling.BOX))
        alpha = None if alpha is None else np.asarray(Image.fromarray(alpha).resize(size, Image.Resampling.BOX))
    box = worn_garment_box(alpha > 0.5 if alpha is not None else plain_background_outline(grey))
    if box is None:
        return None
    to_planes = width / grey.shape[1]
    left, top, box_width, box_height = (round(value * to_planes) for value in box)
    return left, top, box_width, box_height


def plain_background_outline(grey: np.ndarray) -> np.ndarray:
    """(H, W) bool: what differs from the border's typical grey, as framing trims to it (cnn/frame.py)."""
    from scipy import ndimage  # Imported here: only opaque photos need it.

    ink = inks_from_greys(grey[np.newaxis])[0]
    # Filled: an item close to the background's grey shows only its edges.
    return ndimage.binary_fill_holes(ink > max(OUTLINE_INK * float(ink.max()), OUTLINE_NOISE))


def inks_from_greys(greys: np.ndarray) -> np.ndarray:
    """(N, H, W) opaque grey images -> how far each pixel is from its image's background, 0..1."""
    return np.abs(greys - border_medians(greys)[:, np.newaxis, np.newaxis])


def border_medians(planes: np.ndarray) -> np.ndarray:
    """(N, H, W) -> (N,): each plane's typical value along its edges. The median, because items
    often touch the frame (every dataset image does)."""
    borders = np.concatenate([planes[:, 0], planes[:, -1], planes[:, :, 0], planes[:, :, -1]], axis=1)  # (N, 2H + 2W)
    middle = borders.shape[1] // 2  # the border's length is even: its median is the mean of the middle two
    ordered = np.partition(borders, (middle - 1, middle), axis=1)  # np.median's own method, without its overhead
    return (ordered[:, middle - 1] + ordered[:, middle]) / 2


def full_size(image: Image.Image) -> tuple[int, int]:
    """The photo's own (width, height), in whose pixels a box is given: larger than image.size for a big
    JPEG decoded at a fraction of its size."""
    scale = image.info.get(DECODED_SCALE, 1.0)
    return round(image.width * scale), round(image.height * scale)


def working_copy(image: Image.Image) -> Image.Image:
    """The image shrunk to fit WORKING_SIZE, or itself if it does: every pixel step after decoding runs on it.
    reduce() averages whole blocks into a new, smaller image, so no full-size copy is ever made."""
    factor = max(image.width, image.height) // WORKING_SIZE
    if factor >= 2:
        if image.mode in ("1", "P") or image.mode.startswith("I;16"):  # modes reduce() does not take
            image = image.convert("RGBA" if image.mode == "P" else "L" if image.mode == "1" else "I")
        image = image.reduce(factor)
    if image.width > WORKING_SIZE or image.height > WORKING_SIZE:
        image = image.resize(fitted_size(image.width, image.height, WORKING_SIZE), Image.Resampling.BOX)
    return image


def fitted_size(width: int, height: int, side: int) -> tuple[int, int]:
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def array_to_uint8(array: np.ndarray) -> np.ndarray:
    """An image array as uint8 for PIL, by the same rules as array_to_planes."""
    if array.dtype == np.uint8 and (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4))):
        return array  # PIL takes it as it is
    grey, alpha = array_to_planes(array)
    planes = grey if alpha is None else np.dstack([grey, grey, grey, alpha])
    return np.round(planes * 255).astype(np.uint8)


def working_rgb(working: Image.Image, grey: np.ndarray) -> Image.Image:
    """The working copy in RGB, for the cut-out; grey itself where there is no colour."""
    if working.mode not in ("RGB", "RGBA", "P", "CMYK", "YCbCr", "LAB", "HSV"):
        return Image.fromarray(np.round(grey * 255).astype(np.uint8)).convert("RGB")
    return working.convert("RGB")


def read_bytes(source) -> bytes:
    """Bytes from bytes-like objects and binary file objects (werkzeug FileStorage, UploadedFile, BytesIO)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass  # Non-seekable streams are read from where they are.
        data = source.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            raise InvalidImageError("The file was opened in text mode; open it in binary mode ('rb').")
    else:
        raise InvalidImageError(
            f"Cannot read an image from a {type(source).__name__}; send image bytes, a file, a PIL image or a NumPy array."
        )
    if not data:
        raise InvalidImageError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidImageError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    return data


def decode_file(source) -> Image.Image:
    """Bytes or a binary file object (an upload) -> the decoded image: the file's size checked, then decoded safely."""
    return decode_image(read_bytes(source))


def decode_image(data: bytes) -> Image.Image:
    """Decode image bytes safely: the first frame, EXIF rotation applied, size checked before decoding."""
    opened = open_png(data)  # a plain small PNG opens at once; a big one gets its pixels inflated by zlib-ng
    if isinstance(opened, Image.Image):
        return opened
    register_heif_opener()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged files make Pillow warn about each bad tag: the outcome is what counts
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(opened), formats=ACCEPTED_FORMATS)
            check_pixel_count(image.width, image.height)
            header_width = image.width
            if image.format == "JPEG":
                # Let libjpeg decode a big photo at a fraction of its size: much faster, same 28x28 result.
                image.draft(image.mode, (WORKING_SIZE, WORKING_SIZE))
            else:
                check_decode_budget(image.format or "", image.width, image.height)
            image.load()
            if image.width != header_width:  # a box is given in the photo's own pixels: remember the shrink
                image.info[DECODED_SCALE] = header_width / image.width
            ImageOps.exif_transpose(image, in_place=True)  # in place: no copy for the usual unrotated image
            return image
    except InvalidImageError:
        raise
    except UnidentifiedImageError as error:
        if data.startswith(IMAGE_SIGNATURES) or data[4:8] == ISO_MEDIA_TYPE:
            raise InvalidImageError("The image file is truncated or corrupt.") from error
        raise InvalidImageError(f"This file is not an image the app can read: send a {FORMATS_IN_WORDS} file.") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidImageError("The image is too large to decode safely.") from error
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError, struct.error) as error:
        # RuntimeError: the AVIF and HEIF decoders' word for a damaged file.
        # Pillow's own wording ("image file is truncated") would only repeat this; it stays chained for logs.
        raise InvalidImageError("The image file is truncated or corrupt.") from error


@functools.cache
def register_heif_opener() -> None:
    """Teach Pillow HEIC/HEIF (pillow-heif), once, when the first file that may need it arrives: the
    import costs start-up time that pages which never decode a file should not pay."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def full_decode_pixels(image_format: str) -> int:
    """The most pixels a file of this format may have: its decoder's peak stays within DECODE_BUDGET_BYTES."""
    return int(DECODE_BUDGET_BYTES / PEAK_BYTES_PER_PIXEL.get(image_format, max(PEAK_BYTES_PER_PIXEL.values())))


def check_decode_budget(image_format: str, width: int, height: int) -> None:
    limit = full_decode_pixels(image_format)
    if width * height > limit:
        raise InvalidImageError(
            f"The image is too large to decode safely ({width}x{height} pixels; the limit for {image_format} files is "
            f"{limit / 1_000_000:.0f} megapixels). Send a smaller copy, or a JPEG."
        )


def check_pixel_count(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise InvalidImageError("The image has no pixels.")
    if width * height > MAX_PIXELS:
        raise InvalidImageError(
            f"The image is too large to decode safely ({width}x{height} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels)."
        )


def pil_to_arrays(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey and alpha planes in 0..1 from a PIL image of any mode, at most WORKING_SIZE on a side."""
    image = working_copy(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit and float greyscale: scale by the type's range, not the image's own peak.
        values = np.asarray(image, dtype=np.float32)
        full_scale = 1.0 if image.mode == "F" and values.max() <= 1.0 else 255.0 if values.max() <= 255 else 65535.0
        return np.clip(values / full_scale, 0.0, 1.0), None
    # Pillow's own conversions run in C, several times faster than the same arithmetic in NumPy.
    if has_alpha:
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))  # NumPy's min is faster than Pillow's getextrema here
        opaque = alpha.min() >= OPAQUE_ALPHA * 255
        return unit_range(rgba.convert("L")), None if opaque else alpha.astype(np.float32) / np.float32(255)
    if image.mode == "L":
        return unit_range(image), None
    if image.mode != "RGB":
        image = image.convert("RGB")  # 1-bit, palette, CMYK, YCbCr, LAB...
    return unit_range(image.convert("L")), None


def unit_range(image: Image.Image) -> np.ndarray:
    """An 8-bit single-band image as float32 in 0..1."""
    return np.asarray(image, dtype=np.float32) / np.float32(255)


def rgb_to_grey(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma, the weights Pillow's convert("L") uses."""
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def array_to_planes(array: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey and alpha planes in 0..1 from an (H, W) or (H, W, 1|3|4) array, uint8 or float in 0..1."""
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise InvalidImageError(f"Expected an image array of shape (H, W) or (H, W, 1|3|4), got shape {array.shape}.")
    check_pixel_count(array.shape[1], array.shape[0])
    if array.dtype == np.uint8:
        if array.ndim == 2:
            return array.astype(np.float32) / np.float32(255), None  # dataset images: no PIL round trip
        return pil_to_arrays(Image.fromarray(array))  # colour: Pillow's luma conversion in C
    if array.dtype == np.bool_:
        values = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.integer):
        values = array.astype(np.float32) / (65535.0 if array.max() > 255 else 255.0)
    elif np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float32)
        if not np.isfinite(values).all():
            raise InvalidImageError("The image array contains NaN or infinite values.")
        if values.max() > 1.0:
            values = values / 255.0  # Floats in 0..255, a common slip.
    else:
        raise InvalidImageError(f"Unsupported array type {array.dtype}; use uint8 or float in 0..1.")
    values = np.clip(values, 0.0, 1.0)
    if values.ndim == 2:
        return values, None
    alpha = values[..., 3] if values.shape[-1] == 4 else None
    if alpha is not None and alpha.min() >= OPAQUE_ALPHA:
        alpha = None
    return rgb_to_grey(values[..., :3]), alpha
