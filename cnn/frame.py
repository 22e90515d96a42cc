"""Frame: grey and alpha planes -> the 28x28 model input, item bright on black.

Framing repeats the dataset's own conversion (https://github.com/zalandoresearch/fashion-mnist:
trim to the item, longest edge to 28, centre, negate to bright-on-black) so product photos,
transparent cut-outs and canvas drawings look like the training images. The sketch path
(sketch=True, the Draw page's) first evens pen strokes out to the width of the training outlines.
"""

from typing import NamedTuple

import numpy as np
from PIL import Image

from cnn.config import IMAGE_SIZE
from cnn.decode import border_medians, inks_from_greys, read_planes
from cnn.errors import InvalidImageError, NothingDrawnError

BLANK_INK = 0.08  # peak contrast below which an image counts as empty
CROP_FRACTION = 0.2  # pixels above this share of the peak contrast belong to the item (0.1: JPEG noise widens the crop)
LIGHT_ITEM_INK = 0.25  # a transparent-background item fainter than this on white is light-coloured
SKETCH_STROKE_WIDTH = 2.0  # pixels at 28x28: what the training outlines look like
BLANK_IMAGE = "Nothing drawn: the image is blank (one flat colour)."


def preprocess(image, sketch: bool = False, box=None) -> np.ndarray:
    """The exact image the model sees: (28, 28) float32 in 0..1, item bright on black.

    sketch=True is the Draw page's path for pen strokes on a canvas (see sketch_to_ink).
    box (left, top, width, height) in the image's pixels: the item is in there (the Upload page's canvas).

    A 28x28 input is taken as already framed (only its polarity is fixed), so a dataset
    image passes through unchanged; larger inputs are trimmed, scaled and centred.
    Raises InvalidImageError for anything that cannot be classified.
    """
    return frame(image, sketch, box).model_input


def frame(image, sketch: bool = False, box=None) -> "Framed":
    """preprocess(), with the garment's box where it found one (see Framed); raises InvalidImageError."""
    (framed,) = frame_many([image], sketch, [box])
    if isinstance(framed, InvalidImageError):
        raise framed
    return framed


def preprocess_many(images: list, sketch: bool = False, boxes: list | None = None) -> list[np.ndarray | InvalidImageError]:
    """preprocess() for each image: its model input, or the InvalidImageError that says why there is none.
    boxes: one box (or None) per image."""
    return [framed if isinstance(framed, InvalidImageError) else framed.model_input for framed in frame_many(images, sketch, boxes)]


class Framed(NamedTuple):
    """One image framed: the (28, 28) model input, and the box the garment was found in on a photo of a
    person wearing it ((left, top, width, height) in the photo's pixels), None otherwise."""

    model_input: np.ndarray
    garment_box: tuple[int, int, int, int] | None = None


def frame_many(images: list, sketch: bool = False, boxes: list | None = None) -> list[Framed | InvalidImageError]:
    """Each image framed, or the InvalidImageError that says why it cannot be. boxes: one box (or None) per image.

    Opaque 28x28 images (dataset images) are finished together in whole-array steps: NumPy's
    fixed cost per call is then paid once per batch, not once per image.
    """
    framed: list[Framed | InvalidImageError | None] = [None] * len(images)
    dataset_like = {}  # index -> (28, 28) grey plane, for the opaque 28x28 images
    boxes = boxes or [None] * len(images)
    for index, (image, box) in enumerate(zip(images, boxes)):
        try:
            grey, alpha, garment_box = read_planes(image, box, look_for_wearer=not sketch)  # a drawing is never worn
            if alpha is None and grey.shape == (IMAGE_SIZE, IMAGE_SIZE):
                dataset_like[index] = grey
            else:
                framed[index] = Framed(model_input_from_planes(grey, alpha, sketch), garment_box)
        except InvalidImageError as error:
            framed[index] = error
    if dataset_like:
        inks = inks_from_greys(np.stack(list(dataset_like.values())))  # (N, 28, 28)
        for index, ink, peak in zip(dataset_like, inks, inks.max(axis=(1, 2)).tolist()):
            framed[index] = Framed(ink) if peak >= BLANK_INK else NothingDrawnError(BLANK_IMAGE)
    return [InvalidImageError("Not classified.") if result is None else result for result in framed]


def ink_from_planes(grey: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """How much each pixel differs from the background, 0..1, so the item ends up bright on black."""
    if alpha is not None:
        if not (alpha > 0.5).any():
            raise NothingDrawnError("Nothing drawn: the image is fully transparent.")
        # Like the dataset's studio photos, put the item on white; one too light to show
        # there (a white pen on a transparent canvas, a white shirt) goes on black instead.
        on_white = (1.0 - grey) * alpha
        return on_white if on_white.max() >= LIGHT_ITEM_INK else grey * alpha
    return inks_from_greys(grey[np.newaxis])[0]


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
    resized = Image.fromarray(item.astype(np.float32), mode="F").resize(new_size, Image.Resampling.LANCZOS, reducing_gap=2.0)
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


def model_input_from_planes(grey: np.ndarray, alpha: np.ndarray | None, sketch: bool) -> np.ndarray:
    """One image's grey and alpha planes -> its (28, 28) model input."""
    ink = ink_from_planes(grey, alpha)
    if float(ink.max()) < BLANK_INK:
        raise NothingDrawnError(BLANK_IMAGE)
    if ink.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return ink.astype(np.float32)
    if sketch:
        ink = sketch_to_ink(ink)
    return crop_and_centre(ink)
