"""Busy photos: crop to the user's box, and cut the item out of a background that is not plain.

Fashion-MNIST's photos are single items on a plain studio background, and framing (cnn/frame.py)
relies on that: whatever differs from the border is the item. On wooden floors, fabrics, outdoor
scenes or a person wearing the item, the whole scene differs, so the network saw a texture.

- A box the user drew around the item (the Upload page's canvas) crops the photo to the box and a
  little context, and GrabCut keeps only what is inside the box and unlike what surrounds it.
- A photo whose border is not one flat colour gets the item cut out with OpenCV's GrabCut
  (Rother et al., 2004): a colour model of the border region as background, iterated graph cuts,
  the largest region kept. Where the border is a pattern of a few colours (a check, planks), pixels
  inside that have one of them start as probable background, so the item's colour model is learnt
  from the item, not from the squares of a check between its legs. The cut-out becomes an alpha
  plane, and framing then treats the photo like a transparent-background product image, the path
  the robustness report measures as "cutout". Plain backgrounds never reach GrabCut: their path
  stays as it was, and as fast.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from cnn.errors import InvalidImageError

# How far a quarter of the border's pixels stray from its median colour (largest channel, 0..1) before a
# background counts as busy: product photos on a plain backdrop stay under it (noise, JPEG). A quarter, not
# half: where only the left and right edges cross a floor's planks, or a fine check averages out, the median
# pixel looks plain. Wrongly busy costs little: GrabCut cuts an item off a plain backdrop too.
BUSY_BORDER_SPREAD = 0.025
BUSY_SHARE = 75  # percentile of the border's pixels
FLAT_BORDER = 0.02  # grey levels: a border within this range is one flat colour at once
MIN_CUTOUT_SIDE = 48  # pixels: smaller images (dataset images, icons) are taken as framed
# GrabCut runs on the photo shrunk to a side of this many pixels, and its mask is scaled back up. A cut that
# starts from the rectangle alone (a lawn, a sky) is as accurate at 128 as larger, and faster. One that starts
# from a floor's pattern, or inside a user's box, keeps more of a fine check or of the item's detail at 160,
# and settles in fewer iterations: about the same time in all.
GRABCUT_SIDE, GRABCUT_ITERATIONS = 128, 5
FINE_SIDE, FINE_ITERATIONS = 160, 3
OPENING = 3  # pixels of GrabCut's image: an opening cuts thin bridges (a horizon, a plank's edge) that join the item to the floor
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
    return float(np.percentile(spread, BUSY_SHARE)) > BUSY_BORDER_SPREAD


def cut_out(rgb: Image.Image, box: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
    """The item's alpha (H, W) float32 in 0..1 for an RGB photo, by GrabCut: everything outside the box
    (or outside a thin margin along the border) is background. None when the cut keeps almost nothing:
    the photo is then framed as it is."""
    pixels, mask = grabcut_start(rgb, box, FINE_SIDE)
    if box is not None:
        # No floor's colours for a user's box: the little context around it may hold the item itself.
        return grabcut_alpha(rgb, pixels, mask, FINE_ITERATIONS)
    if start_floor_as_background(pixels, mask):
        return grabcut_alpha(rgb, pixels, mask, FINE_ITERATIONS)
    return grabcut_alpha(rgb, *grabcut_start(rgb, None, GRABCUT_SIDE), GRABCUT_ITERATIONS)


def grabcut_start(rgb: Image.Image, box: tuple[int, int, int, int] | None, side: int) -> tuple[np.ndarray, np.ndarray]:
    """The photo shrunk to `side` pixels at most, (h, w, 3) BGR uint8 as OpenCV wants, and GrabCut's starting
    mask (h, w): probable item inside the box (or a thin margin along the border), surely background outside."""
    import cv2  # Imported here: only busy photos need OpenCV.

    scale = side / max(rgb.size)
    small = rgb.resize((max(8, round(rgb.width * scale)), max(8, round(rgb.height * scale))), Image.Resampling.BOX)
    pixels = np.ascontiguousarray(np.asarray(small)[..., ::-1])
    height, width = pixels.shape[:2]
    if box is None:
        margin_x, margin_y = max(1, round(width * RECT_MARGIN)), max(1, round(height * RECT_MARGIN))
        left, top, right, bottom = margin_x, margin_y, width - margin_x, height - margin_y
    else:
        left, top = int(box[0] * width / rgb.width), int(box[1] * height / rgb.height)
        right = left + max(2, min(width - left, math.ceil(box[2] * width / rgb.width)))
        bottom = top + max(2, min(height - top, math.ceil(box[3] * height / rgb.height)))
    mask = np.full((height, width), cv2.GC_BGD, np.uint8)
    mask[top:bottom, left:right] = cv2.GC_PR_FGD
    return pixels, mask


def grabcut_alpha(rgb: Image.Image, pixels: np.ndarray, mask: np.ndarray, iterations: int) -> np.ndarray | None:
    """GrabCut from its starting mask (h, w) on pixels (h, w, 3), then the item's alpha at the photo's size."""
    import cv2

    background_model, foreground_model = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut's colour models start from k-means: seeded, the same photo gives the same cut
    no_rectangle = (0, 0, 0, 0)  # GrabCut starts from the mask alone
    cv2.grabCut(pixels, mask, no_rectangle, background_model, foreground_model, iterations, cv2.GC_INIT_WITH_MASK)
    foreground = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, np.ones((OPENING, OPENING), np.uint8))
    foreground = largest_region(foreground).astype(np.uint8)  # specks of floor that look like the item are dropped
    if foreground.mean() < MIN_ITEM_SHARE:
        return None
    alpha = Image.fromarray(foreground * 255).resize(rgb.size, Image.Resampling.BILINEAR)
    return np.asarray(alpha, dtype=np.float32) / np.float32(255)


# The floor's colours: GrabCut learns the item's colours from everything inside its rectangle, which on a
# check or planks is mostly floor, and its graph cut then keeps whole squares beside the item. Pixels inside
# that have a colour of the floor start as probable background instead (the cut can still take them back).
# A colour counts as the floor's when it runs along most sides of the border; an item cut off by the frame
# shows its colour on one or two sides only, and must not be taken for floor. A border of smoothly varying
# colours (grass, sky) is left to GrabCut alone: its cut was no better seeded, and took longer.
BORDER_COLOURS = 6  # k-means clusters of the border band's colours
LIKE_FLOOR = 20.0  # RGB distance (0..255) from a floor colour under which a pixel starts as background
FLOOR_COVER = 0.9  # of the band's pixels lie that close to one of its colours, or the floor is no pattern of a few
FLOOR_SIDES = 3  # of the border's four sides a floor colour covers SIDE_SHARE of, at least
SIDE_SHARE = 0.05
MIN_ITEM_SEED = 0.02  # of the rectangle: fewer pixels left to learn the item from, and the rectangle is used as it is


def start_floor_as_background(pixels: np.ndarray, mask: np.ndarray) -> bool:
    """Mark pixels (h, w, 3) uint8 inside GrabCut's rectangle (mask (h, w): GC_PR_FGD inside, GC_BGD in the
    band around it) that have one of the floor's colours as probable background, in place; whether it did."""
    import cv2

    band = mask == cv2.GC_BGD
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    samples = pixels[band].astype(np.float32)  # (n, 3)
    no_labels = np.zeros((len(samples), 1), np.int32)  # k-means++ chooses the first centres, not these
    _, clusters, centres = cv2.kmeans(samples, min(BORDER_COLOURS, len(samples)), no_labels, criteria, 1, cv2.KMEANS_PP_CENTERS)
    if np.mean(((samples - centres[clusters.ravel()]) ** 2).sum(axis=1) < LIKE_FLOOR**2) < FLOOR_COVER:
        return False  # not a few colours but a range of them (a lawn, a sky): no pattern to learn from
    cluster_of = np.full(band.shape, -1)
    cluster_of[band] = clusters.ravel()  # (h, w): each band pixel's colour cluster, -1 inside
    rows, columns = np.flatnonzero(~band.all(axis=1)), np.flatnonzero(~band.all(axis=0))  # the rectangle's
    sides = (cluster_of[: rows[0]], cluster_of[rows[-1] + 1 :], cluster_of[:, : columns[0]], cluster_of[:, columns[-1] + 1 :])
    shares = np.array([[np.mean(side == cluster) if side.size else 0.0 for side in sides] for cluster in range(len(centres))])
    floor = centres[(shares >= SIDE_SHARE).sum(axis=1) >= FLOOR_SIDES]  # (f, 3)
    if not len(floor):
        return False
    flat = pixels.reshape(-1, 3).astype(np.float32)  # |x - c|^2 = |x|^2 - 2 x.c + |c|^2, as one matrix product: (h * w, f)
    squared = (flat**2).sum(axis=1, keepdims=True) - 2 * flat @ floor.T + (floor**2).sum(axis=1)
    like_floor = (squared.min(axis=1).reshape(band.shape) < LIKE_FLOOR**2) & ~band
    if (~like_floor & ~band).sum() < MIN_ITEM_SEED * (~band).sum():
        return False  # the item looks like the floor all over: GrabCut starts from the rectangle alone
    mask[like_floor] = cv2.GC_PR_BGD
    return True


# ---------------------------------------------------------------------------------------
# Worn garments: a person's outline is narrow at the head (and the legs) and widest across the garment.

GARMENT_BAND = 0.3  # rows at least this share of the widest row's width belong to the garment
MIN_HEAD_SHARE = 0.06  # of the outline's height: a narrower part above the garment at least this tall reads as a head
MIN_LEGS_SHARE = 0.01  # of the outline's height: legs (or a narrower hem) below the garment; a shirt ends wide
LEGS_WIDTH = 0.6  # of the garment's median width: narrower rows at the bottom of the band are legs
MIN_HEAD_FILL = 0.45  # of the head part's bounding box: a head is solid, a bag's handle or a hanger's hook is not
MAX_HEAD_WIDTH = 0.6  # of the widest row: a head is narrower than the shoulders
MIN_HEAD_ASPECT = 0.9  # a head (down to the neck) is about as tall as it is wide, or taller
MAX_NECK_WIDTH = 0.85  # of the head's widest row: a neck narrows the outline below the head
THIN_NECK = 0.5  # of the head's widest row: a neck this thin under a head this small needs no legs below to
SMALL_HEAD = 0.45  # be believed (of the widest row): on a busy background the cut often loses legs to the frame
MIN_PERSON_ASPECT = 1.2  # a standing person's outline is at least this much taller than wide


def worn_garment_box(foreground: np.ndarray) -> tuple[int, int, int, int] | None:
    """The garment's box (left, top, width, height) in an outline (H, W) bool that looks like a person wearing
    it: taller than wide, with a solid narrower part above the widest band of rows that narrows again before
    it (a head on a neck), and a narrower part below it (legs). None for anything else: an item lying on a
    floor, a shirt's collar, a boot's shaft, and a person cut off at the waist (the whole photo is classified).

    The band is the run of rows around the widest one that are at least GARMENT_BAND as wide: the torso with
    its sleeves or arms, down to where the legs (or a skirt's hem) narrow the outline."""
    foreground = without_specks(foreground)  # a speck of background above a head would hide it
    rows = np.flatnonzero(foreground.any(axis=1))
    columns = np.flatnonzero(foreground.any(axis=0))
    if len(rows) < MIN_CUTOUT_SIDE // 2:
        return None
    outline_height, outline_width = rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1
    if outline_height < MIN_PERSON_ASPECT * outline_width:
        return None
    smoothing = max(1, outline_height // 100)  # a row or two of speckle is not a neck (and more would smooth the neck away)
    widths = row_widths(foreground, smoothing)
    widest = int(np.argmax(widths))
    in_band = widths >= GARMENT_BAND * widths[widest]
    top = bottom = widest
    while top > 0 and in_band[top - 1]:
        top -= 1
    while bottom < len(widths) - 1 and in_band[bottom + 1]:
        bottom += 1
    garment_width = float(np.median(widths[top : bottom + 1]))
    while bottom > widest and widths[bottom] < LEGS_WIDTH * garment_width:
        bottom -= 1  # legs within the band: clearly narrower than the garment above them
    head = foreground[rows[0] : top]
    if len(head) < MIN_HEAD_SHARE * outline_height:
        return None  # nothing narrow above the widest part: an item, not a person wearing one
    head = largest_region(head)  # the head alone: arms and loose pieces of the garment beside it are not its width
    head_rows, head_columns = np.flatnonzero(head.any(axis=1)), np.flatnonzero(head.any(axis=0))
    if head.sum() < MIN_HEAD_FILL * len(head_rows) * (head_columns[-1] - head_columns[0] + 1):
        return None
    head_widths = row_widths(head, smoothing)
    widest_of_head = int(np.argmax(head_widths))
    if head_widths[widest_of_head] > MAX_HEAD_WIDTH * widths[widest]:
        return None  # as wide as the rest: the item's own top, not a head
    below_head = head_widths[widest_of_head:]
    if below_head.min() > MAX_NECK_WIDTH * head_widths[widest_of_head]:
        return None  # it widens all the way down (a collar, a boot's shaft): no neck under a head
    neck = widest_of_head + int(np.argmin(below_head))  # rows from the top of the outline
    if neck < MIN_HEAD_ASPECT * head_widths[widest_of_head]:
        return None  # wider than tall: a neckline's shoulders, not a head
    unmistakable_head = (
        below_head.min() <= THIN_NECK * head_widths[widest_of_head] and head_widths[widest_of_head] <= SMALL_HEAD * widths[widest]
    )
    if rows[-1] - bottom < MIN_LEGS_SHARE * outline_height and not unmistakable_head:
        return None  # nothing narrow below it either: a shirt whose collar looks like a head, a dress's bodice
    top = rows[0] + neck  # from the neck down: a collar or hood is the garment's
    # The garment is the largest piece within the band: arms apart from the body stay out of its box.
    band = largest_region(foreground[top : bottom + 1])
    band_rows, band_columns = np.flatnonzero(band.any(axis=1)), np.flatnonzero(band.any(axis=0))
    left, width = int(band_columns[0]), int(band_columns[-1] - band_columns[0] + 1)
    return left, int(top + band_rows[0]), width, int(band_rows[-1] - band_rows[0] + 1)


SPECK = 0.01  # of the largest region's area: smaller regions of an outline are noise, not a head or an arm


def row_widths(mask: np.ndarray, smoothing: int) -> np.ndarray:
    """(H,) float32: the pixels of mask (H, W) bool in each row, a running mean over `smoothing` rows."""
    return np.convolve(mask.sum(axis=1).astype(np.float32), np.ones(smoothing, np.float32) / smoothing, mode="same")


def without_specks(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: mask (H, W) bool less its regions smaller than SPECK of its largest."""
    regions, areas = labelled_regions(mask)
    kept = areas >= SPECK * areas[1:].max(initial=0)
    kept[0] = False  # the background
    return kept[regions]


def largest_region(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: the largest 8-connected region of mask (H, W) bool; all False where mask is."""
    regions, areas = labelled_regions(mask)
    if len(areas) <= 1:
        return np.zeros(mask.shape, bool)
    return regions == 1 + int(np.argmax(areas[1:]))


def labelled_regions(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mask (H, W) bool -> each pixel's 8-connected region (H, W), 0 the background, and each region's area."""
    import cv2  # Imported here, as in cut_out: only photos need OpenCV.

    _, regions, stats, _ = cv2.connectedComponentsWithStats(np.ascontiguousarray(mask, dtype=np.uint8), connectivity=8)
    return regions, stats[:, cv2.CC_STAT_AREA]
