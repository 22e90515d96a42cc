"""Inference: turn what users send into the image the model sees, and classify it.

`predict()` is Flask-compatible: it takes `request.files["file"]`, raw bytes, any binary
file object, a PIL image or a NumPy array and returns a JSON-ready dict. Preprocessing
repeats the dataset's own conversion (https://github.com/zalandoresearch/fashion-mnist:
trim to the item, longest edge to 28, centre, negate to bright-on-black) so product photos,
transparent cut-outs and canvas drawings look like the training images.
"""

import io
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnn.config import CLASS_NAMES, DEFAULT_MODEL, IMAGE_SIZE, model_path, serving_model_path
from cnn.png import open_small_png, with_stored_pixels
from cnn.serving import CHUNK_SIZE, ServingModel

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000  # 7071 x 7071; Pillow's bomb guard would only warn here
WORKING_SIZE = 1024  # large inputs are shrunk to this before the pixel work: the output is 28 px
BLANK_INK = 0.08  # peak contrast below which an image counts as empty
OPAQUE_ALPHA = 0.99  # an alpha plane at least this everywhere carries no shape (a canvas with a background)
CROP_FRACTION = 0.2  # pixels above this share of the peak contrast belong to the item (0.1: JPEG noise widens the crop)
LIGHT_ITEM_INK = 0.25  # a transparent-background item fainter than this on white is light-coloured
SKETCH_STROKE_WIDTH = 2.0  # pixels at 28x28: what the training outlines look like
BLANK_IMAGE = "Nothing drawn: the image is blank (one flat colour)."


# Leading bytes of the common formats: a file that starts like an image but cannot be opened is damaged.
IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF", b"II*\x00", b"MM\x00*")


class InvalidImageError(ValueError):
    """The input cannot be classified; the message says why in words a user understands."""


# ---------------------------------------------------------------------------------------
# Reading: any accepted input -> grey (H, W) float32 in 0..1 and alpha (H, W) or None.


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
            f"Cannot read an image from a {type(source).__name__}; "
            "send image bytes, a file, a PIL image or a NumPy array."
        )
    if not data:
        raise InvalidImageError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidImageError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    return data


def decode_image(data: bytes) -> Image.Image:
    """Decode image bytes safely: the first frame, EXIF rotation applied, size checked before decoding."""
    small_png = open_small_png(data)  # a plain small PNG: no EXIF to apply, size known to be safe
    if small_png is not None:
        return small_png
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(with_stored_pixels(data)))  # a big PNG inflated by zlib-ng: 2x faster
            check_pixel_count(image.width, image.height)
            if image.format == "JPEG":
                # Let libjpeg decode a big photo at a fraction of its size: much faster, same 28x28 result.
                image.draft(image.mode, (WORKING_SIZE, WORKING_SIZE))
            image.load()
            ImageOps.exif_transpose(image, in_place=True)  # in place: no copy for the usual unrotated image
            return image
    except InvalidImageError:
        raise
    except UnidentifiedImageError as error:
        if data.startswith(IMAGE_SIGNATURES):
            raise InvalidImageError("The image file is truncated or corrupt.") from error
        raise InvalidImageError("This file is not an image (or not a format Pillow can read).") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidImageError("The image is too large to decode safely.") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # Pillow's own wording ("image file is truncated") would only repeat this; it stays chained for logs.
        raise InvalidImageError("The image file is truncated or corrupt.") from error


def check_pixel_count(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise InvalidImageError("The image has no pixels.")
    if width * height > MAX_PIXELS:
        raise InvalidImageError(
            f"The image is too large to decode safely ({width}x{height} pixels; "
            f"the limit is {MAX_PIXELS // 1_000_000} megapixels)."
        )


def pil_to_arrays(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey and alpha planes in 0..1 from a PIL image of any mode."""
    if image.width > WORKING_SIZE or image.height > WORKING_SIZE:
        image = image.copy()
        image.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BOX)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit and float greyscale: scale by the type's range, not the image's own peak.
        values = np.asarray(image, dtype=np.float32)
        full_scale = 1.0 if image.mode == "F" and values.max() <= 1.0 else 255.0 if values.max() <= 255 else 65535.0
        return np.clip(values / full_scale, 0.0, 1.0), None
    # Pillow's own conversions run in C, several times faster than the same arithmetic in NumPy.
    if has_alpha:
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))  # NumPy's min is 7x faster than Pillow's getextrema here
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
        raise InvalidImageError(
            f"Expected an image array of shape (H, W) or (H, W, 1|3|4), got shape {array.shape}."
        )
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


def read_planes(image) -> tuple[np.ndarray, np.ndarray | None]:
    """Any accepted input -> (grey, alpha or None), each (H, W) float32 in 0..1; no alpha if it is opaque."""
    if image is None:
        raise InvalidImageError("No image was given.")
    if isinstance(image, np.ndarray):
        if image.size == 0:
            raise InvalidImageError("The image array is empty.")
        return array_to_planes(image)
    if isinstance(image, Image.Image):
        check_pixel_count(image.width, image.height)
        return pil_to_arrays(image)
    return pil_to_arrays(decode_image(read_bytes(image)))


# ---------------------------------------------------------------------------------------
# Preprocessing: (grey, alpha) -> the 28x28 bright-on-black image the model sees.


def ink_from_planes(grey: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """How much each pixel differs from the background, 0..1, so the item ends up bright on black."""
    if alpha is not None:
        if not (alpha > 0.5).any():
            raise InvalidImageError("Nothing drawn: the image is fully transparent.")
        # Like the dataset's studio photos, put the item on white; one too light to show
        # there (a white pen on a transparent canvas, a white shirt) goes on black instead.
        on_white = (1.0 - grey) * alpha
        return on_white if on_white.max() >= LIGHT_ITEM_INK else grey * alpha
    return inks_from_greys(grey[np.newaxis])[0]


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


def crop_and_centre(ink: np.ndarray) -> np.ndarray:
    """Trim to the item, stretch contrast, scale the longest edge to 28 and centre: (28, 28) float32."""
    peak = float(ink.max())
    item_pixels = ink > CROP_FRACTION * peak
    rows, cols = np.flatnonzero(item_pixels.any(axis=1)), np.flatnonzero(item_pixels.any(axis=0))
    item = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    # Background noise (JPEG ringing, paper texture) is what the border typically holds.
    floor = min(float(border_medians(ink[np.newaxis])[0]), 0.5 * peak)
    item = np.clip((item - floor) / (peak - floor), 0.0, 1.0)

    height, width = item.shape
    scale = IMAGE_SIZE / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # reducing_gap: a fast box reduction first, then Lanczos for the last factor of two: same look, less work.
    resized = Image.fromarray(item.astype(np.float32), mode="F").resize(
        new_size, Image.Resampling.LANCZOS, reducing_gap=2.0
    )
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    top, left = (IMAGE_SIZE - new_size[1]) // 2, (IMAGE_SIZE - new_size[0]) // 2
    canvas[top : top + new_size[1], left : left + new_size[0]] = np.asarray(resized)
    return np.clip(canvas, 0.0, 1.0)


def sketch_to_ink(ink: np.ndarray) -> np.ndarray:
    """Thicken thin pen strokes to about 2 px at the model's scale, the width of the training outlines.

    A thin outline shrunk to 28 px fades to faint grey dots. (Filling closed outlines was
    measured too and did not help: the model learnt outlines during training.)
    """
    from scipy import ndimage  # Imported here: only the Draw page's path needs it.

    strokes = ink > 0.5 * float(ink.max())
    rows, cols = np.flatnonzero(strokes.any(axis=1)), np.flatnonzero(strokes.any(axis=0))
    strokes = np.pad(strokes[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], 1)
    edge_pixels = max(int((strokes & ~ndimage.binary_erosion(strokes)).sum()), 1)
    stroke_width = 2.0 * strokes.sum() / edge_pixels  # area over length, both edges of a stroke counted
    target_width = SKETCH_STROKE_WIDTH * max(strokes.shape) / IMAGE_SIZE
    grow = int(round((target_width - stroke_width) / 2))  # each dilation adds a pixel on both sides
    if grow >= 1:
        strokes = ndimage.binary_dilation(np.pad(strokes, grow), iterations=grow)
    return strokes.astype(np.float32)


def preprocess(image, sketch: bool = False) -> np.ndarray:
    """The exact image the model sees: (28, 28) float32 in 0..1, item bright on black.

    sketch=True is the Draw page's path for pen strokes on a canvas (see sketch_to_ink).

    A 28x28 input is taken as already framed (only its polarity is fixed), so a dataset
    image passes through unchanged; larger inputs are trimmed, scaled and centred.
    Raises InvalidImageError for anything that cannot be classified.
    """
    (model_input,) = preprocess_many([image], sketch)
    if isinstance(model_input, InvalidImageError):
        raise model_input
    return model_input


def preprocess_many(images: list, sketch: bool = False) -> list[np.ndarray | InvalidImageError]:
    """preprocess() for each image: its model input, or the InvalidImageError that says why there is none.

    Opaque 28x28 images (dataset images) are finished together in whole-array steps: NumPy's
    fixed cost per call is then paid once per batch, not once per image.
    """
    model_inputs = [None] * len(images)
    framed = {}  # index -> (28, 28) grey plane, for the opaque 28x28 images
    for index, image in enumerate(images):
        try:
            grey, alpha = read_planes(image)
            if alpha is None and grey.shape == (IMAGE_SIZE, IMAGE_SIZE):
                framed[index] = grey
            else:
                model_inputs[index] = model_input_from_planes(grey, alpha, sketch)
        except InvalidImageError as error:
            model_inputs[index] = error
    if framed:
        inks = inks_from_greys(np.stack(list(framed.values())))  # (N, 28, 28)
        for index, ink, peak in zip(framed, inks, inks.max(axis=(1, 2)).tolist()):
            model_inputs[index] = ink if peak >= BLANK_INK else InvalidImageError(BLANK_IMAGE)
    return model_inputs


def model_input_from_planes(grey: np.ndarray, alpha: np.ndarray | None, sketch: bool) -> np.ndarray:
    """One image's grey and alpha planes -> its (28, 28) model input."""
    ink = ink_from_planes(grey, alpha)
    if float(ink.max()) < BLANK_INK:
        raise InvalidImageError(BLANK_IMAGE)
    if ink.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return ink.astype(np.float32)
    if sketch:
        ink = sketch_to_ink(ink)
    return crop_and_centre(ink)


# ---------------------------------------------------------------------------------------
# Model: loaded once, shared read-only by every thread and session.

_loaded = {}  # (kind, model name) -> model
_loaded_lock = threading.Lock()


def load_once(kind: str, model_name: str, path, load):
    """load(path) once per process and kind, shared by every thread; a clear error if it is missing."""
    with _loaded_lock:
        if (kind, model_name) not in _loaded:
            if not path.is_file():
                raise FileNotFoundError(
                    f"No trained model at {path}. Train one with: python -m cnn.train --model {model_name}"
                )
            _loaded[(kind, model_name)] = load(path)
        return _loaded[(kind, model_name)]


def load_model(model_name: str = DEFAULT_MODEL) -> ServingModel:
    """The serving model predict() uses (LiteRT, see cnn/serving.py): images (N, 28, 28, 1) -> (N, 10)."""
    return load_once("serving", model_name, serving_model_path(model_name), ServingModel.from_file)


def load_keras_model(model_name: str = DEFAULT_MODEL):
    """The trained Keras model, for what needs its layers: feature maps, Grad-CAM, the seeds' path."""

    def load(path):
        import keras  # Imported here: predict() itself never needs TensorFlow.

        return keras.saving.load_model(path, compile=False)

    return load_once("keras", model_name, model_path(model_name), load)


def warm_up(model_name: str = DEFAULT_MODEL) -> ServingModel:
    """Load the serving model and run it once now, so the first user does not wait for it."""
    model = load_model(model_name)
    model(np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 1), dtype=np.float32))
    return model


def results_from_probabilities(probabilities: np.ndarray, top_k: int) -> list[dict]:
    """JSON-ready results from (N, 10) probabilities: the sorting and rounding done once for the batch."""
    top_k = max(1, min(int(top_k), len(CLASS_NAMES)))
    orders = np.argsort(probabilities, axis=1)[:, ::-1][:, :top_k].tolist()  # (N, top_k), most likely first
    results = []
    for order, rounded in zip(orders, np.round(probabilities.astype(np.float64), 6).tolist()):
        results.append({
            "prediction": CLASS_NAMES[order[0]],
            "class_id": order[0],
            "confidence": rounded[order[0]],
            "top_k": [{"label": CLASS_NAMES[i], "class_id": i, "probability": rounded[i]} for i in order],
            "probabilities": dict(zip(CLASS_NAMES, rounded)),
        })  # fmt: skip
    return results


def result_from_probabilities(probabilities: np.ndarray, top_k: int) -> dict:
    """JSON-ready result for one image from its (10,) probability vector."""
    return results_from_probabilities(probabilities[np.newaxis], top_k)[0]


def classify(image, top_k: int = 3, model_name: str = DEFAULT_MODEL, sketch: bool = False) -> tuple[dict, np.ndarray]:
    """predict()'s result together with the (28, 28) model input it was computed from, for UIs that show both."""
    model_input = preprocess(image, sketch=sketch)
    return predict_model_input(model_input, top_k, model_name), model_input


def predict_model_input(model_input: np.ndarray, top_k: int = 3, model_name: str = DEFAULT_MODEL) -> dict:
    """predict()'s result for an image preprocess() has already turned into the (28, 28) model input."""
    probabilities = load_model(model_name)(model_input[np.newaxis, :, :, np.newaxis])[0]
    return result_from_probabilities(probabilities, top_k)


def predict(image, top_k: int = 3, model_name: str = DEFAULT_MODEL, sketch: bool = False) -> dict:
    """Classify one image; `flask.jsonify(predict(request.files["file"]))` just works.

    Returns {"prediction", "class_id", "confidence", "top_k": [{"label", "class_id",
    "probability"}, ...], "probabilities": {class name: probability}}.
    Raises InvalidImageError (a ValueError) with a readable message for bad input.
    """
    return classify(image, top_k, model_name, sketch)[0]


def predict_batch(images, top_k: int = 3, model_name: str = DEFAULT_MODEL, sketch: bool = False) -> list[dict]:
    """Classify many images, chunk by chunk; a bad image gets {"error": message} in its place."""
    model = load_model(model_name)

    def classify_chunk(model_inputs: list) -> list[dict]:
        good = [model_input for model_input in model_inputs if not isinstance(model_input, InvalidImageError)]
        classified = iter(results_from_probabilities(model(np.stack(good)[..., np.newaxis]), top_k) if good else [])
        return [
            {"error": str(model_input)} if isinstance(model_input, InvalidImageError) else next(classified)
            for model_input in model_inputs
        ]

    images = list(images)
    chunks = [images[start : start + CHUNK_SIZE] for start in range(0, len(images), CHUNK_SIZE)]
    classified_chunks = overlapped(lambda chunk: preprocess_many(chunk, sketch), classify_chunk, chunks)
    return [result for chunk_results in classified_chunks for result in chunk_results]


def overlapped(prepare: Callable, run: Callable, chunks: list) -> list:
    """[run(prepare(chunk)) for chunk in chunks], with a worker thread preparing the next chunks
    while run() works on this one.

    The model releases the GIL and keeps both cores busy, except while Python prepares its
    input: overlapping the two lets it use that idle core.
    """
    if len(chunks) < 2:
        return [run(prepare(chunk)) for chunk in chunks]  # nothing to overlap: a thread would only cost
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare") as worker:
        return [run(prepared) for prepared in worker.map(prepare, chunks)]
