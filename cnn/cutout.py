"""Busy photos: crop to the user's box, and cut the item out of a background that is not plain.

Fashion-MNIST's photos are single items on a plain studio background, and framing (cnn/frame.py)
relies on that: whatever differs from the border is the item. On wooden floors, fabrics, outdoor
scenes or a person wearing the item, the whole scene differs, so the network saw a texture.

- A box the user drew around the item (the Upload page's canvas) crops the photo to the box and a
  little context, and GrabCut keeps only what is inside the box and unlike what surrounds it.
- A photo whose border is not one flat colour gets the item cut out with OpenCV's GrabCut
  (Rother et al., 2004): a colour model of the border region as background, iterated graph cuts,
  the largest region kept. The cut-out becomes an alpha plane, and framing then treats the photo
  like a transparent-background product image, the path the robustness report measures as
  "cutout". Plain backgrounds never reach GrabCut: their path stays as it was, and as fast.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from cnn.errors import InvalidImageError

# How far, in the median, the border's pixels stray from its median colour (largest channel, 0..1) before
# a background counts as busy: product photos on a plain backdrop stay near 0.01 (noise, JPEG).
BUSY_BORDER_SPREAD = 0.025
FLAT_BORDER = 0.02  # grey levels: a border within this range is one flat colour at once
MIN_CUTOUT_SIDE = 48  # pixels: smaller images (dataset images, icons) are taken as framed
GRABCUT_SIDE = 128  # GrabCut runs on the photo shrunk to this (as accurate as 160 on the busy render sets, a third faster): the mask is then scaled back up
GRABCUT_ITERATIONS = 5
RECT_MARGIN = 0.03  # of each side: GrabCut's rectangle, outside which is surely background
MIN_BOX_SIDE = 2  # pixels
BOX_CONTEXT = 0.1  # of the box's side, added around it: the background GrabCut learns from
MIN_ITEM_SHARE = 0.01  # a cut keeping less of the photo than this failed


@dataclass(frozen=True)
class BoxedRegion:
    """The part of a photo to work on for a user's box: the box with some context around it, and the box inside it."""

    region: tuple[int, int, int, int]  # (left, top, right, bottom) in the photo's pixels
    box: tuple[int, int, int, int]  # (left, top, width, height) within the region


def boxed_region(width: int, height: int, box, scale: float = 1.0) -> BoxedRegion:
    """Validate box = (left, top, width, height) in the photo's own pixels, `scale` times those of the width x
    height image it was decoded to, clipped to the photo, and add BOX_CONTEXT of context on every side:
    GrabCut learns the background from what lies around the box."""
    try:
        left, top, box_width, box_height = (float(value) / scale for value in box)
    except (TypeError, ValueError):
        raise InvalidImageError("The box must be four numbers: left, top, width and height in pixels.") from None
    if not all(math.isfinite(value) for value in (left, top, box_width, box_height)):
        raise InvalidImageError("The box must be four numbers: left, top, width and height in pixels.")
    if box_width < 0:
        left, box_width = left + box_width, -box_width  # dragged from right to left
    if box_height < 0:
        top, box_height = top + box_height, -box_height
    right, bottom = min(left + box_width, width), min(top + box_height, height)
    left, top = max(left, 0.0), max(top, 0.0)
    if right <= 0 or bottom <= 0 or left >= width or top >= height:
        raise InvalidImageError("The box lies outside the photo: draw it around the item.")
    if right - left < MIN_BOX_SIDE or bottom - top < MIN_BOX_SIDE:
        raise InvalidImageError(
            f"The box is too small: draw it around the item, at least {MIN_BOX_SIDE} pixels wide and high in the photo."
        )
    left, top, right, bottom = round(left), round(top), max(round(right), round(left) + 1), max(round(bottom), round(top) + 1)
    pad_x, pad_y = round((right - left) * BOX_CONTEXT), round((bottom - top) * BOX_CONTEXT)
    region = (max(0, left - pad_x), max(0, top - pad_y), min(width, right + pad_x), min(height, bottom + pad_y))
    return BoxedRegion(region, (left - region[0], top - region[1], right - left, bottom - top))


def busy_background(image: Image.Image, grey: np.ndarray) -> bool:
    """Whether the one-pixel border of a photo (grey: its grey plane, (H, W) in 0..1) is more than one flat colour."""
    width, height = image.size
    if min(width, height) < MIN_CUTOUT_SIDE:
        return False
    border_grey = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if float(border_grey.max() - border_grey.min()) <= FLAT_BORDER:
        return False  # one exact colour all round, as a canvas or a clean studio shot: no need to look at colour
    strips = [image.crop(bounds).convert("RGB") for bounds in ((0, 0, width, 1), (0, height - 1, width, height),
                                                                 (0, 0, 1, height), (width - 1, 0, width, height))]  # fmt: skip
    border = np.concatenate([np.asarray(strip, dtype=np.float32).reshape(-1, 3) for strip in strips]) / 255  # (2W + 2H, 3)
    spread = np.abs(border - np.median(border, axis=0)).max(axis=1)
    return float(np.median(spread)) > BUSY_BORDER_SPREAD


def cut_out(rgb: Image.Image, box: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
    """The item's alpha (H, W) float32 in 0..1 for an RGB photo, by GrabCut: everything outside the box
    (or outside a thin margin along the border) is background. None when the cut keeps almost nothing:
    the photo is then framed as it is."""
    import cv2  # Imported here: only busy photos need OpenCV.

    scale = GRABCUT_SIDE / max(rgb.size)
    small = rgb.resize((max(8, round(rgb.width * scale)), max(8, round(rgb.height * scale))), Image.Resampling.BOX)
    pixels = np.ascontiguousarray(np.asarray(small)[..., ::-1])  # OpenCV wants BGR
    height, width = pixels.shape[:2]
    if box is None:
        margin_x, margin_y = max(1, round(width * RECT_MARGIN)), max(1, round(height * RECT_MARGIN))
        rectangle = (margin_x, margin_y, width - 2 * margin_x, height - 2 * margin_y)
    else:
        left, top = int(box[0] * width / rgb.width), int(box[1] * height / rgb.height)
        rectangle = (left, top, max(2, min(width - left, math.ceil(box[2] * width / rgb.width))),
                     max(2, min(height - top, math.ceil(box[3] * height / rgb.height))))  # fmt: skip
    mask = np.zeros((height, width), np.uint8)
    background_model, foreground_model = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut's colour models start from k-means: seeded, the same photo gives the same cut
    cv2.grabCut(pixels, mask, rectangle, background_model, foreground_model, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_RECT)
    foreground = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    count, regions, stats, _ = cv2.connectedComponentsWithStats(foreground, connectivity=8)
    if count > 1:  # the largest region: specks of floor that look like the item are dropped
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        foreground = (regions == largest).astype(np.uint8)
    if foreground.mean() < MIN_ITEM_SHARE:
        return None
    alpha = Image.fromarray(foreground * 255).resize(rgb.size, Image.Resampling.BILINEAR)
    return np.asarray(alpha, dtype=np.float32) / np.float32(255)
