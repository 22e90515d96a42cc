"""Training data for the way people draw: procedural doodles and dataset images abstracted into doodles.

People draw iconic, simplified shapes in a few strokes: a T for a T-shirt, long sleeves with cuff
bands for a sweater, a zip line for a jacket, two legs under a waistband for trousers, a sole with
a V strap seen from above for a flip flop. Nothing in Fashion-MNIST looks like that, so the
drawing model (see cnn/registry.py) also learns from two generated families:

- procedural doodles: one generator per class, strokes in a unit box with wide variation
  (proportions, views, open and closed outlines, optional details);
- abstracted dataset images: a training image's outline simplified to a few segments, with its
  strongest inner edges as detail lines.

Both are drawn by a "hand" (wobble, overshoot, gaps, a slanted and stretched frame), rendered the
way the Draw page's canvas sends a drawing (a round white pen on a black 280x280 canvas, at any
size and place) and framed by the same sketch path predict(png, sketch=True) runs. Everything is
seeded: the same seed gives the same images on every machine.

Strokes are lists of (N, 2) float arrays of (x, y), x to the right and y down, the item inside
about [0, 1] x [0, 1].
"""

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from cnn.config import CANVAS_SIZE, IMAGE_SIZE, NUM_CLASSES

Strokes = list[np.ndarray]

MIN_PEN, MAX_PEN = 3, 24  # canvas pixels: the Draw page's pen slider spans 4-40, most people keep it thin
MIN_ITEM_SIDE = 90  # canvas pixels: the longest side of a doodle
POINT_SPACING = 0.01  # unit-box distance between resampled points: smooth curves, cheap rendering


# ---------------------------------------------------------------------------------------
# Stroke primitives.


def line(*points) -> np.ndarray:
    """A polyline through the given (x, y) points."""
    return np.array(points, dtype=np.float64)


def arc(centre_x, centre_y, radius_x, radius_y, start_degrees, end_degrees, points: int = 16) -> np.ndarray:
    """An elliptical arc; angles in degrees, 0 to the right, 90 down (y grows downwards)."""
    angles = np.radians(np.linspace(start_degrees, end_degrees, points))
    return np.stack([centre_x + radius_x * np.cos(angles), centre_y + radius_y * np.sin(angles)], axis=1)


def closed(points: np.ndarray) -> np.ndarray:
    return np.vstack([points, points[:1]])


def mirror_x(points: np.ndarray, centre_x: float = 0.5) -> np.ndarray:
    return np.stack([2 * centre_x - points[:, 0], points[:, 1]], axis=1)


def maybe(rng: np.random.Generator, probability: float) -> bool:
    return bool(rng.random() < probability)


def scribble_pattern(rng, left, top, right, bottom) -> Strokes:
    """Stripes, a zigzag or a motif inside a region: the prints people put on clothes."""
    kind = rng.integers(0, 4)
    if kind == 0:  # horizontal stripes
        rows = np.linspace(top, bottom, int(rng.integers(2, 5)) + 2)[1:-1]
        return [line((left, y), (right, y)) for y in rows]
    if kind == 1:  # a zigzag band
        y = rng.uniform(top, bottom)
        xs = np.linspace(left, right, int(rng.integers(4, 9)))
        return [np.stack([xs, y + (np.arange(len(xs)) % 2 - 0.5) * rng.uniform(0.03, 0.07)], axis=1)]
    if kind == 2:  # a circle or heart-ish motif in the middle
        centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
        radius = min(right - left, bottom - top) * rng.uniform(0.15, 0.3)
        return [closed(arc(centre_x, centre_y, radius, radius, 0, 350, 20))]
    # diamonds across
    centre_y = (top + bottom) / 2
    size = (bottom - top) * 0.2
    strokes = []
    for centre_x in np.linspace(left, right, int(rng.integers(2, 4)) + 2)[1:-1]:
        strokes.append(line((centre_x, centre_y - size), (centre_x + size, centre_y), (centre_x, centre_y + size),
                            (centre_x - size, centre_y), (centre_x, centre_y - size)))  # fmt: skip
    return strokes


# ---------------------------------------------------------------------------------------
# Upper-body garments share one skeleton: a body, two sleeves and a neckline.


def garment(rng: np.random.Generator, sleeve_length: float, body_length: float, sleeve_drop: tuple[float, float]):
    """The outline of a top with sleeves, as one closed stroke, and the landmarks details attach to.

    sleeve_length 0 draws a sleeveless top (armholes instead of sleeves). sleeve_drop is the range of the
    sleeves' angle below the horizontal, in degrees.
    """
    centre = 0.5
    half_width = rng.uniform(0.17, 0.27)
    shoulder_y = rng.uniform(0.05, 0.15)
    neck_half = rng.uniform(0.05, 0.1)
    shoulder_slope = rng.uniform(0.0, 0.06)
    hem_y = min(shoulder_y + body_length, 1.0)
    flare = rng.uniform(-0.03, 0.06)
    shoulder = (centre - half_width, shoulder_y + shoulder_slope)
    hem = (centre - half_width - flare, hem_y)
    if sleeve_length > 0:
        angle = np.radians(rng.uniform(*sleeve_drop))
        direction = np.array([-np.cos(angle), np.sin(angle)])
        sleeve_width = rng.uniform(0.09, 0.15) * (1.0 if sleeve_length < 0.25 else 0.85)
        outer = np.array(shoulder) + sleeve_length * direction
        inner = outer + sleeve_width * np.array([np.sin(angle), np.cos(angle)])
        armpit_y = shoulder[1] + sleeve_width / max(np.cos(angle), 0.35) * rng.uniform(0.8, 1.2)
        armpit = (centre - half_width, min(armpit_y, hem_y - 0.15))
        left_side = [shoulder, tuple(outer), tuple(inner), armpit, hem]
        cuff = (outer, inner)
    else:
        armpit = (centre - half_width + rng.uniform(0.0, 0.05), shoulder_y + rng.uniform(0.15, 0.25))
        armhole = arc(centre - half_width - 0.02, shoulder[1], 0.07, armpit[1] - shoulder[1], -80, 80, 8)
        left_side = [shoulder, *map(tuple, armhole[1:-1]), armpit, hem]
        cuff = None
    left = np.array(left_side)
    right = mirror_x(left)[::-1]
    neck_left, neck_right = (centre - neck_half, shoulder_y), (centre + neck_half, shoulder_y)
    outline = np.vstack([line(neck_left), left, right, line(neck_right)])
    neck_depth = rng.uniform(0.03, 0.12)
    if maybe(rng, 0.25):  # V neck
        neckline = line(neck_right, (centre, shoulder_y + neck_depth * 1.5), neck_left)
    else:
        neckline = arc(centre, shoulder_y, neck_half, neck_depth, 0, 180, 10)
    landmarks = {
        "centre": centre, "half_width": half_width, "shoulder_y": shoulder_y, "hem_y": hem_y,
        "neck_half": neck_half, "neck_depth": neck_depth, "cuff": cuff, "armpit_y": armpit[1], "hem": hem,
    }  # fmt: skip
    if maybe(rng, 0.2):  # drawn as one closed loop including the neckline
        return [np.vstack([outline, neckline[1:]])], landmarks
    return [outline, neckline], landmarks


def cuff_bands(rng, landmarks, depth: float) -> Strokes:
    """A band across each sleeve end: the cuff of a sweater or a shirt."""
    outer, inner = landmarks["cuff"]
    along = outer - np.array([landmarks["centre"] - landmarks["half_width"], landmarks["shoulder_y"]])
    along = along / np.linalg.norm(along)
    band = [line(outer - depth * along, inner - depth * along)]
    return band + [mirror_x(stroke) for stroke in band]


def hem_band(rng, landmarks, depth: float) -> Strokes:
    centre, hem_x, hem_y = landmarks["centre"], landmarks["hem"][0], landmarks["hem_y"]
    y = hem_y - depth
    strokes = [line((hem_x + 0.01, y), (2 * centre - hem_x - 0.01, y))]
    if maybe(rng, 0.3):  # ribbing
        for x in np.linspace(hem_x, 2 * centre - hem_x, int(rng.integers(5, 10)))[1:-1]:
            strokes.append(line((x, y), (x, hem_y)))
    return strokes


def draw_tshirt(rng: np.random.Generator) -> Strokes:
    sleeveless = maybe(rng, 0.12)
    strokes, marks = garment(rng, 0.0 if sleeveless else rng.uniform(0.1, 0.24), rng.uniform(0.55, 0.85), (5, 50))
    if not sleeveless and maybe(rng, 0.3):
        strokes += cuff_bands(rng, marks, rng.uniform(0.02, 0.04))
    if maybe(rng, 0.25):
        strokes += hem_band(rng, marks, rng.uniform(0.03, 0.06))
    if maybe(rng, 0.3):
        strokes += scribble_pattern(rng, marks["centre"] - marks["half_width"] * 0.6, marks["shoulder_y"] + 0.15,
                                    marks["centre"] + marks["half_width"] * 0.6, marks["hem_y"] - 0.12)  # fmt: skip
    if maybe(rng, 0.1):  # a chest pocket
        x, y = marks["centre"] + marks["half_width"] * 0.3, marks["shoulder_y"] + 0.15
        strokes.append(line((x, y), (x, y + 0.1), (x + 0.09, y + 0.1), (x + 0.09, y)))
    return strokes


def draw_pullover(rng: np.random.Generator) -> Strokes:
    strokes, marks = garment(rng, rng.uniform(0.35, 0.6), rng.uniform(0.55, 0.85), (35, 85))
    if maybe(rng, 0.65):
        strokes += cuff_bands(rng, marks, rng.uniform(0.03, 0.07))
    if maybe(rng, 0.6):
        strokes += hem_band(rng, marks, rng.uniform(0.04, 0.09))
    if maybe(rng, 0.4):  # a crew neck drawn as a double band
        centre, y, half, depth = marks["centre"], marks["shoulder_y"], marks["neck_half"], marks["neck_depth"]
        strokes.append(arc(centre, y, half + 0.02, depth + 0.03, 0, 180, 10))
    if maybe(rng, 0.35):
        strokes += scribble_pattern(rng, marks["centre"] - marks["half_width"] * 0.7, marks["shoulder_y"] + 0.15,
                                    marks["centre"] + marks["half_width"] * 0.7, marks["hem_y"] - 0.1)  # fmt: skip
    return strokes


def draw_coat(rng: np.random.Generator) -> Strokes:
    strokes, marks = garment(rng, rng.uniform(0.3, 0.55), rng.uniform(0.65, 0.95), (25, 85))
    centre, top, hem_y = marks["centre"], marks["shoulder_y"], marks["hem_y"]
    front = rng.integers(0, 3)
    if front == 0:  # a zip down the middle
        strokes.append(line((centre, top + marks["neck_depth"]), (centre, hem_y)))
        if maybe(rng, 0.4):  # zip teeth
            for y in np.linspace(top + 0.1, hem_y - 0.05, int(rng.integers(4, 9))):
                strokes.append(line((centre - 0.015, y), (centre + 0.015, y)))
    elif front == 1:  # open front with lapels
        depth = rng.uniform(0.2, 0.4)
        strokes.append(line((centre - marks["neck_half"], top), (centre, top + depth), (centre + marks["neck_half"], top)))
        strokes.append(line((centre, top + depth), (centre, hem_y)))
    else:  # buttons down the front
        strokes.append(line((centre, top + marks["neck_depth"]), (centre, hem_y)))
        for y in np.linspace(top + 0.12, hem_y - 0.08, int(rng.integers(3, 6))):
            strokes.append(closed(arc(centre + 0.04, y, 0.015, 0.015, 0, 330, 6)))
    if maybe(rng, 0.35):  # a hood
        strokes.append(arc(centre, top, marks["neck_half"] + rng.uniform(0.04, 0.1), rng.uniform(0.1, 0.18), 180, 360, 14))
    elif maybe(rng, 0.4):  # a collar
        half = marks["neck_half"]
        strokes.append(line((centre - half, top), (centre - half - 0.05, top + 0.08), (centre - 0.01, top + 0.06)))
        strokes.append(line((centre + half, top), (centre + half + 0.05, top + 0.08), (centre + 0.01, top + 0.06)))
    if maybe(rng, 0.5):  # pockets
        width = rng.uniform(0.06, 0.1)
        y = hem_y - rng.uniform(0.15, 0.25)
        for x in (centre - marks["half_width"] * 0.7, centre + marks["half_width"] * 0.7 - width):
            strokes.append(
                line((x, y), (x + width, y)) if maybe(rng, 0.5) else line((x, y), (x, y + 0.08), (x + width, y + 0.08), (x + width, y))
            )
    if maybe(rng, 0.4):
        strokes += cuff_bands(rng, marks, rng.uniform(0.02, 0.05))
    return strokes


def draw_shirt(rng: np.random.Generator) -> Strokes:
    long_sleeves = maybe(rng, 0.6)
    strokes, marks = garment(rng, rng.uniform(0.3, 0.5) if long_sleeves else rng.uniform(0.12, 0.22),
                             rng.uniform(0.6, 0.85), (25, 75) if long_sleeves else (10, 45))  # fmt: skip
    centre, top, hem_y, half = marks["centre"], marks["shoulder_y"], marks["hem_y"], marks["neck_half"]
    # A pointed collar and a button placket: what tells a shirt apart.
    strokes.append(line((centre - half, top), (centre - 0.02, top + rng.uniform(0.08, 0.14)), (centre - half * 0.2, top)))
    strokes.append(line((centre + half, top), (centre + 0.02, top + rng.uniform(0.08, 0.14)), (centre + half * 0.2, top)))
    strokes.append(line((centre, top + 0.1), (centre, hem_y)))
    for y in np.linspace(top + 0.16, hem_y - 0.06, int(rng.integers(3, 7))):
        if maybe(rng, 0.85):
            strokes.append(closed(arc(centre + 0.03, y, 0.012, 0.012, 0, 330, 6)))
    if maybe(rng, 0.4):
        x, y = centre - marks["half_width"] * 0.7, top + 0.16
        strokes.append(line((x, y), (x, y + 0.09), (x + 0.08, y + 0.09), (x + 0.08, y)))
    if long_sleeves and maybe(rng, 0.5):
        strokes += cuff_bands(rng, marks, rng.uniform(0.03, 0.05))
    return strokes


def draw_dress(rng: np.random.Generator) -> Strokes:
    centre = 0.5
    top = rng.uniform(0.0, 0.1)
    bodice_half = rng.uniform(0.08, 0.15)
    waist_y = top + rng.uniform(0.25, 0.42)
    waist_half = bodice_half * rng.uniform(0.7, 1.0)
    hem_y = rng.uniform(0.85, 1.0)
    hem_half = rng.uniform(0.2, 0.42)
    strokes: Strokes = []
    sleeves = rng.integers(0, 3)  # 0 straps, 1 short sleeves, 2 sleeveless shoulders
    if sleeves == 1:
        tip = (centre - bodice_half - rng.uniform(0.08, 0.14), top + rng.uniform(0.08, 0.14))
        left = [(centre - bodice_half * 0.6, top), tip, (tip[0] + 0.04, tip[1] + 0.07), (centre - bodice_half, top + 0.14)]
    else:
        left = [(centre - bodice_half * 0.7, top), (centre - bodice_half, top + 0.12)]
    skirt = [(centre - waist_half, waist_y), (centre - hem_half, hem_y)]
    left_side = np.array(left + skirt)
    outline = np.vstack([left_side, mirror_x(left_side)[::-1]])
    if maybe(rng, 0.3):  # a wavy hem
        xs = np.linspace(centre - hem_half, centre + hem_half, 9)
        outline = np.vstack([left_side, np.stack([xs, hem_y + 0.02 * np.sin(np.arange(9) * np.pi)], 1)[1:-1], mirror_x(left_side)[::-1]])
    neck = arc(centre, outline[0, 1], abs(outline[0, 0] - centre), rng.uniform(0.03, 0.1), 180, 0, 8)
    strokes.append(np.vstack([outline, neck[1:]]) if maybe(rng, 0.5) else outline)
    if not len(strokes) > 1 and maybe(rng, 0.5):
        strokes.append(neck)
    if sleeves == 0:  # straps over the shoulders
        for x in (centre - bodice_half * 0.7, centre + bodice_half * 0.7):
            strokes.append(line((x, top), (x, top - rng.uniform(0.05, 0.1))))
    if maybe(rng, 0.45):  # a waist seam or belt
        strokes.append(line((centre - waist_half, waist_y), (centre + waist_half, waist_y)))
    if maybe(rng, 0.25):  # pleats
        for x in np.linspace(-0.6, 0.6, int(rng.integers(2, 5))):
            strokes.append(line((centre + x * waist_half, waist_y + 0.03), (centre + x * hem_half, hem_y - 0.03)))
    return strokes


def draw_trouser(rng: np.random.Generator) -> Strokes:
    """Trousers in the proportions people draw them: long legs, or a wide upside-down U or Π as wide as
    it is tall, with short legs."""
    strokes = trouser_outline(rng)
    if maybe(rng, 0.4):  # squat: as wide as tall, short legs
        widen = np.array([rng.uniform(1.3, 2.2), rng.uniform(0.55, 0.85)])
        strokes = [0.5 + (stroke - 0.5) * widen for stroke in strokes]
    return strokes


def trouser_outline(rng: np.random.Generator) -> Strokes:
    centre = 0.5
    waist_half = rng.uniform(0.15, 0.26)
    waist_y = rng.uniform(0.0, 0.06)
    band = rng.uniform(0.0, 0.08) if maybe(rng, 0.7) else 0.0
    crotch_y = waist_y + band + rng.uniform(0.18, 0.4)
    leg_bottom = rng.uniform(0.9, 1.0)
    flare = rng.uniform(-0.04, 0.08)
    leg_width = rng.uniform(0.12, 0.22)
    gap = rng.uniform(0.0, 0.06)
    outer_bottom = centre - waist_half - flare
    inner_bottom = max(outer_bottom + leg_width, centre - gap - 0.02)
    style = rng.integers(0, 4)
    strokes: Strokes = []
    if style == 3:  # a Π: waistband across, outer legs down, inner legs up to a notch, the hems left open
        notch = (centre, crotch_y if maybe(rng, 0.6) else waist_y + band + rng.uniform(0.05, 0.12))
        for side in (-1, 1):
            strokes.append(line((centre + side * waist_half, waist_y + band), (centre + side * (centre - outer_bottom), leg_bottom)))
            strokes.append(line((centre + side * (centre - inner_bottom), leg_bottom), notch))
        if maybe(rng, 0.5):  # hems
            for side in (-1, 1):
                strokes.append(
                    line((centre + side * (centre - outer_bottom), leg_bottom), (centre + side * (centre - inner_bottom), leg_bottom))
                )
        strokes.append(line((centre - waist_half, waist_y + band), (centre + waist_half, waist_y + band)))
    elif style == 0:  # one outline: waist, outer leg, hem, inner leg, crotch and back
        left = np.array([(centre - waist_half, waist_y), (outer_bottom, leg_bottom), (inner_bottom, leg_bottom), (centre, crotch_y)])
        strokes.append(closed(np.vstack([left, mirror_x(left[:-1])[::-1]])))
    elif style == 1:  # an inverted V or H under the waistband, drawn as separate lines
        for side in (-1, 1):
            strokes.append(line((centre + side * waist_half, waist_y + band), (centre + side * (centre - outer_bottom), leg_bottom)))
            strokes.append(line((centre, crotch_y), (centre + side * (centre - inner_bottom), leg_bottom)))
            if maybe(rng, 0.7):
                strokes.append(
                    line((centre + side * (centre - outer_bottom), leg_bottom), (centre + side * (centre - inner_bottom), leg_bottom))
                )
        strokes.append(line((centre - waist_half, waist_y + band), (centre + waist_half, waist_y + band)))
    else:  # two leg tubes under a waistband
        for side in (-1, 1):
            outer_top, inner_top = centre + side * waist_half, centre + side * gap
            outer, inner = centre + side * (centre - outer_bottom), centre + side * max(gap, centre - inner_bottom)
            strokes.append(line((outer_top, waist_y + band), (outer, leg_bottom), (inner, leg_bottom), (inner_top, crotch_y)))
        strokes.append(line((centre - gap, crotch_y), (centre + gap, crotch_y)))
    if band > 0:
        strokes.append(line((centre - waist_half, waist_y), (centre + waist_half, waist_y), (centre + waist_half, waist_y + band),
                            (centre - waist_half, waist_y + band), (centre - waist_half, waist_y)))  # fmt: skip
        if maybe(rng, 0.3):  # belt loops or a button
            for x in np.linspace(-0.7, 0.7, int(rng.integers(2, 5))):
                strokes.append(line((centre + x * waist_half, waist_y), (centre + x * waist_half, waist_y + band)))
    if maybe(rng, 0.4):  # the fly
        strokes.append(line((centre, waist_y + band), (centre, crotch_y - 0.05)))
    if maybe(rng, 0.3):  # pockets
        for side in (-1, 1):
            x = centre + side * waist_half
            strokes.append(arc(x, waist_y + band, 0.07, 0.08, 90 if side < 0 else 90, 0 if side < 0 else 180, 6))
    if maybe(rng, 0.2):  # cuffs
        for side in (-1, 1):
            strokes.append(
                line(
                    (centre + side * (centre - outer_bottom), leg_bottom - 0.05),
                    (centre + side * (centre - inner_bottom), leg_bottom - 0.05),
                )
            )
    return strokes


def draw_bag(rng: np.random.Generator) -> Strokes:
    kind = int(rng.choice(4, p=(0.3, 0.35, 0.2, 0.15)))  # handbag, backpack, tote or shoulder bag, clutch
    top, bottom = rng.uniform(0.3, 0.5), rng.uniform(0.9, 1.0)
    half_top, half_bottom = rng.uniform(0.22, 0.4), rng.uniform(0.28, 0.45)
    centre = 0.5
    strokes: Strokes = []
    if kind == 1:  # backpack: a tall rounded body, a front pocket, a carry loop on top, straps at the sides
        return draw_backpack(rng)
    if kind == 3:  # clutch: a flat rectangle with a flap
        top, bottom = rng.uniform(0.3, 0.4), rng.uniform(0.7, 0.85)
        half_top = half_bottom = rng.uniform(0.35, 0.48)
    body = line(
        (centre - half_top, top),
        (centre + half_top, top),
        (centre + half_bottom, bottom),
        (centre - half_bottom, bottom),
        (centre - half_top, top),
    )
    strokes.append(body)
    if kind == 0:  # handbag: one or two round handles
        for offset in [0.0] if maybe(rng, 0.6) else [-0.04, 0.04]:
            width = half_top * rng.uniform(0.4, 0.8)
            strokes.append(arc(centre + offset, top, width, rng.uniform(0.12, 0.28), 180, 360, 12))
    elif kind == 2:  # tote or shoulder bag: long handles or a strap
        width = half_top * rng.uniform(0.5, 0.95)
        strokes.append(arc(centre, top, width, rng.uniform(0.2, 0.32), 180, 360, 12))
    if kind == 3 or maybe(rng, 0.45):  # a flap
        depth = (bottom - top) * rng.uniform(0.3, 0.6)
        strokes.append(line((centre - half_top, top), (centre, top + depth), (centre + half_top, top)) if maybe(rng, 0.6)
                       else line((centre - half_top, top + depth), (centre + half_top, top + depth)))  # fmt: skip
    if maybe(rng, 0.4):  # a clasp
        strokes.append(closed(arc(centre, top + (bottom - top) * 0.35, 0.03, 0.03, 0, 330, 6)))
    return strokes


def draw_backpack(rng: np.random.Generator) -> Strokes:
    centre, top, bottom = 0.5, rng.uniform(0.08, 0.2), rng.uniform(0.9, 1.0)
    half = rng.uniform(0.2, 0.34)
    body_kind = rng.integers(0, 3)
    if body_kind == 0:  # rounded top, straight sides
        body = np.vstack(
            [
                arc(centre, top + half, half, half, 180, 360, 12),
                line((centre + half, bottom), (centre - half, bottom), (centre - half, top + half)),
            ]
        )
    elif body_kind == 1:  # a rounded rectangle
        radius = half * rng.uniform(0.3, 0.6)
        body = np.vstack([
            arc(centre - half + radius, top + radius, radius, radius, 180, 270, 5),
            arc(centre + half - radius, top + radius, radius, radius, 270, 360, 5),
            arc(centre + half - radius, bottom - radius, radius, radius, 0, 90, 5),
            arc(centre - half + radius, bottom - radius, radius, radius, 90, 180, 5),
        ])  # fmt: skip
        body = closed(body)
    else:  # an oval
        body = closed(arc(centre, (top + bottom) / 2, half, (bottom - top) / 2, 0, 355, 24))
    strokes: Strokes = [body]
    pocket_top = rng.uniform(0.5, 0.7)
    pocket_half = half * rng.uniform(0.5, 0.8)
    if maybe(rng, 0.6):  # a box pocket
        pocket_bottom = bottom - rng.uniform(0.05, 0.12)
        strokes.append(closed(line((centre - pocket_half, pocket_top), (centre + pocket_half, pocket_top),
                                   (centre + pocket_half, pocket_bottom), (centre - pocket_half, pocket_bottom))))  # fmt: skip
    else:  # a pocket as an arc, or a flap
        strokes.append(arc(centre, pocket_top, pocket_half, rng.uniform(0.08, 0.18), 0, 180, 10))
        if maybe(rng, 0.6):
            strokes.append(line((centre - pocket_half, pocket_top), (centre + pocket_half, pocket_top)))
    if maybe(rng, 0.8):  # the carry loop
        strokes.append(arc(centre, top + 0.01, rng.uniform(0.04, 0.1), rng.uniform(0.05, 0.1), 180, 360, 8))
    if maybe(rng, 0.6):  # shoulder straps as arcs at the sides
        depth = rng.uniform(0.3, 0.6) * (bottom - top)
        for side in (-1, 1):
            x = centre + side * half
            strokes.append(arc(x, top + half * 0.8 + depth / 2, rng.uniform(0.04, 0.09), depth / 2,
                               -90 if side > 0 else 90, 90 if side > 0 else 270, 8))  # fmt: skip
    if maybe(rng, 0.4):  # a zip around the top
        strokes.append(arc(centre, top + half + 0.05, half * 0.75, half * 0.7, 200, 340, 10))
    return strokes


def shoe_side(rng: np.random.Generator, height: float, heel: float) -> tuple[Strokes, dict]:
    """A shoe seen from the side, toe to the left: sole, toe, vamp and the ankle opening."""
    sole_y = rng.uniform(0.85, 0.95)
    toe_x, back_x = rng.uniform(0.0, 0.05), rng.uniform(0.9, 1.0)
    top_y = sole_y - height
    opening_x = rng.uniform(0.55, 0.7)
    toe_height = rng.uniform(0.12, 0.22)
    upper = np.vstack([
        arc(toe_x + toe_height, sole_y - toe_height, toe_height, toe_height, 90, 250, 8),
        line((opening_x - 0.1, top_y + height * rng.uniform(0.3, 0.6)), (opening_x, top_y), (back_x, top_y), (back_x, sole_y - heel)),
    ])  # fmt: skip
    sole_thickness = rng.uniform(0.03, 0.09)
    sole = line((toe_x + toe_height, sole_y), (back_x, sole_y - heel), (back_x, sole_y - heel + sole_thickness))
    if heel > 0.05:  # a heel block under the back
        sole = np.vstack([sole[:2], line((back_x, sole_y), (back_x - 0.1, sole_y), (back_x - 0.15, sole_y - heel))])
    strokes = [np.vstack([upper, line((back_x, sole_y - heel), (toe_x + toe_height, sole_y))]), sole]
    if maybe(rng, 0.6):  # the sole's top edge
        strokes.append(line((toe_x + 0.05, sole_y - sole_thickness), (back_x, sole_y - heel - sole_thickness)))
    return strokes, {"sole_y": sole_y, "top_y": top_y, "opening_x": opening_x, "toe_x": toe_x, "back_x": back_x}


def draw_sneaker(rng: np.random.Generator) -> Strokes:
    strokes, marks = shoe_side(rng, rng.uniform(0.3, 0.45), 0.0)
    if maybe(rng, 0.7):  # laces
        start, end = marks["opening_x"] - 0.05, marks["opening_x"] - rng.uniform(0.2, 0.35)
        for x in np.linspace(end, start, int(rng.integers(2, 5))):
            y = marks["top_y"] + (start - x) * 0.8 + 0.05
            strokes.append(
                line((x - 0.04, y - 0.02), (x + 0.04, y + 0.02)) if maybe(rng, 0.5) else line((x - 0.04, y), (x + 0.04, y - 0.03))
            )
    if maybe(rng, 0.35):  # a side stripe
        strokes.append(arc(0.6, marks["sole_y"] - 0.1, 0.25, 0.12, 160, 300, 8))
    return strokes


def draw_ankle_boot(rng: np.random.Generator) -> Strokes:
    heel = rng.uniform(0.0, 0.15)
    strokes, marks = shoe_side(rng, rng.uniform(0.6, 0.85), heel)
    if maybe(rng, 0.4):  # laces up the shaft
        for y in np.linspace(marks["top_y"] + 0.1, marks["sole_y"] - 0.3, int(rng.integers(3, 6))):
            strokes.append(line((marks["opening_x"] - 0.05, y), (marks["opening_x"] + 0.08, y + 0.03)))
    elif maybe(rng, 0.4):  # an elastic side panel
        strokes.append(arc(marks["opening_x"] + 0.15, marks["top_y"], 0.08, 0.3, 0, 180, 8))
    if maybe(rng, 0.3):  # a cuff at the top
        strokes.append(line((marks["opening_x"], marks["top_y"] + 0.06), (marks["back_x"], marks["top_y"] + 0.06)))
    return strokes


def flip_flop_top(rng: np.random.Generator, centre_x: float, length: float, width: float) -> Strokes:
    """A sandal or flip flop seen from above: a foot-shaped sole with a V or Y strap."""
    top = 0.5 - length / 2
    toe = arc(centre_x, top + width * 0.55, width * 0.55, width * 0.55, 180, 360, 10)
    heel = arc(centre_x, top + length - width * 0.45, width * 0.45, width * 0.45, 0, 180, 10)
    pinch = rng.uniform(0.0, 0.12) * width
    right = line(
        (centre_x + width * 0.55, top + width * 0.55),
        (centre_x + width * 0.5 - pinch, top + length * 0.55),
        (centre_x + width * 0.45, top + length - width * 0.45),
    )
    left = line(
        (centre_x - width * 0.45, top + length - width * 0.45),
        (centre_x - width * 0.5 - pinch * 0.5, top + length * 0.55),
        (centre_x - width * 0.55, top + width * 0.55),
    )
    sole = np.vstack([toe, right, heel, left])
    post = (centre_x + rng.uniform(-0.1, 0.1) * width, top + length * rng.uniform(0.12, 0.22))
    strap_y = top + length * rng.uniform(0.35, 0.5)
    strokes = [sole]
    if maybe(rng, 0.75):  # a thong: V strap from the toe post
        strokes.append(line((centre_x - width * 0.5, strap_y), post, (centre_x + width * 0.5, strap_y)))
    else:  # slides: a band across the foot
        strokes.append(arc(centre_x, strap_y, width * 0.5, 0.05, 180, 360, 8))
        strokes.append(arc(centre_x, strap_y + 0.08, width * 0.5, 0.05, 180, 360, 8))
    return strokes


def draw_sandal(rng: np.random.Generator) -> Strokes:
    view = rng.integers(0, 3)
    if view == 0:  # one flip flop from above
        return flip_flop_top(rng, 0.5, rng.uniform(0.75, 1.0), rng.uniform(0.25, 0.4))
    if view == 1:  # a pair from above
        length, width = rng.uniform(0.7, 0.95), rng.uniform(0.22, 0.3)
        return flip_flop_top(rng, 0.5 - width * 0.7, length, width) + [
            mirror_x(stroke) for stroke in flip_flop_top(rng, 0.5 - width * 0.7, length, width)
        ]
    # from the side: a sole, straps over the foot and often a heel
    sole_y = rng.uniform(0.75, 0.95)
    heel = rng.uniform(0.0, 0.35) if maybe(rng, 0.5) else 0.0
    back_x = rng.uniform(0.85, 1.0)
    sole = line(
        (0.0, sole_y),
        (back_x - 0.2, sole_y - heel * 0.6),
        (back_x, sole_y - heel),
        (back_x, sole_y - heel + 0.05),
        (0.02, sole_y + 0.05),
        (0.0, sole_y),
    )
    strokes = [sole]
    if heel > 0:
        strokes.append(line((back_x - 0.05, sole_y - heel + 0.05), (back_x - 0.08, sole_y + 0.05)))
    for centre in np.linspace(0.15, back_x - 0.15, int(rng.integers(2, 5))):
        base = sole_y - heel * centre / back_x
        strokes.append(arc(centre, base, rng.uniform(0.06, 0.12), rng.uniform(0.12, 0.3), 180, 360, 8))
    if maybe(rng, 0.5):  # an ankle strap
        strokes.append(closed(arc(back_x - 0.1, sole_y - heel - 0.25, 0.1, 0.06, 0, 340, 10)))
    return strokes


CLASS_DRAWERS: tuple[Callable[[np.random.Generator], Strokes], ...] = (
    draw_tshirt,  # 0 T-shirt/top
    draw_trouser,  # 1 Trouser
    draw_pullover,  # 2 Pullover
    draw_dress,  # 3 Dress
    draw_coat,  # 4 Coat
    draw_sandal,  # 5 Sandal
    draw_shirt,  # 6 Shirt
    draw_sneaker,  # 7 Sneaker
    draw_bag,  # 8 Bag
    draw_ankle_boot,  # 9 Ankle boot
)


# ---------------------------------------------------------------------------------------
# Dataset images abstracted into doodles (OpenCV: contours and their simplification).


def abstract_image(image: np.ndarray, rng: np.random.Generator) -> Strokes:
    """A dataset image (28, 28) uint8 -> its outline simplified to a few segments, plus inner edges as details."""
    import cv2

    big = cv2.resize(image, (112, 112), interpolation=cv2.INTER_CUBIC)
    mask = (big > rng.uniform(20, 60)).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return []
    outline = max(contours, key=cv2.contourArea)
    perimeter = cv2.arcLength(outline, True)
    simplified = cv2.approxPolyDP(outline, rng.uniform(0.005, 0.03) * perimeter, True)[:, 0, :].astype(np.float64)
    strokes = [closed(simplified) / 112.0]
    if maybe(rng, 0.6):  # inner details: the strongest edges inside the item (a zip, a hem, a strap)
        edges = cv2.Canny(cv2.GaussianBlur(big, (5, 5), 0), 60, 140)
        edges = np.bitwise_and(edges, cv2.erode(mask, np.ones((7, 7), np.uint8)) * 255)
        inner, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        inner = sorted(inner, key=lambda contour: -cv2.arcLength(contour, False))[: int(rng.integers(1, 4))]
        for contour in inner:
            if cv2.arcLength(contour, False) > 25:
                detail = cv2.approxPolyDP(contour, 2.5, False)[:, 0, :].astype(np.float64) / 112.0
                strokes.append(detail[: max(2, len(detail) // 2 + 1)])  # Canny traces both sides: keep one
    return strokes


# ---------------------------------------------------------------------------------------
# The hand and the canvas.


def resample(stroke: np.ndarray, spacing: float = POINT_SPACING) -> np.ndarray:
    """Points every `spacing` along the polyline, so wobble bends long segments too."""
    segments = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    length = float(segments.sum())
    if len(stroke) < 2 or length == 0:
        return stroke
    distances = np.concatenate([[0.0], np.cumsum(segments)])
    samples = np.linspace(0.0, length, max(2, int(length / spacing) + 1))
    return np.stack([np.interp(samples, distances, stroke[:, axis]) for axis in (0, 1)], axis=1)


def by_hand(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """Redraw strokes as a hand would: a slanted, stretched frame, wobble, overshoot and gaps."""
    angle = np.radians(rng.normal(0.0, 7.0))
    stretch = np.exp(rng.uniform(-0.3, 0.3))
    shear = rng.normal(0.0, 0.1)
    frame = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.array([[stretch, shear], [0.0, 1.0 / stretch]])
    wobble = rng.uniform(0.0, 0.025)
    # Corners placed carelessly: a quick drawing is lopsided (one sleeve lower, one leg wider).
    corner_jitter = rng.uniform(0.0, 0.035)
    drawn = []
    for stroke in strokes:
        points = resample(stroke + rng.normal(0.0, corner_jitter, size=stroke.shape))
        if len(points) < 2:
            continue
        if maybe(rng, 0.4):  # overshoot or stop short at the ends
            extend = rng.uniform(-0.05, 0.08)
            direction = points[-1] - points[-2]
            points = np.vstack([points, points[-1] + extend * direction / max(np.linalg.norm(direction), 1e-9)])
        if wobble > 0:
            phase = rng.uniform(0, 2 * np.pi, size=(2, 2))
            frequency = rng.uniform(0.5, 3.0, size=2)
            along = np.linspace(0.0, 1.0, len(points))[:, None]
            points = points + wobble * np.sin(2 * np.pi * frequency * along + phase[0]) * rng.uniform(0.3, 1.0, 2)
            points = points + wobble * 0.4 * rng.normal(0.0, 1.0, size=points.shape) * 0.2
        if len(points) > 12 and maybe(rng, 0.12):  # a gap where the pen lifted
            cut = int(rng.integers(3, len(points) - 3))
            gap = int(rng.integers(1, 4))
            drawn += [points[:cut], points[cut + gap :]]
            continue
        drawn.append(points)
    return [stroke @ frame.T for stroke in drawn if len(stroke) >= 2]


def render_canvas(strokes: Strokes, rng: np.random.Generator, mirror: bool) -> np.ndarray:
    """Strokes -> the canvas as the Draw page sends it: (280, 280) uint8, a round white pen on black."""
    import cv2

    points = np.vstack(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    span = float(max((high - low).max(), 1e-6))
    pen = int(rng.integers(MIN_PEN, MAX_PEN + 1))
    margin = pen + 4
    side = rng.uniform(MIN_ITEM_SIDE, CANVAS_SIZE - 2 * margin)
    scale = side / span
    offset = rng.uniform(margin, CANVAS_SIZE - margin - (high - low) * scale + 1e-6)
    canvas = np.zeros((CANVAS_SIZE, CANVAS_SIZE), dtype=np.uint8)
    for stroke in strokes:
        pixels = (stroke - low) * scale + offset
        if mirror:
            pixels[:, 0] = CANVAS_SIZE - 1 - pixels[:, 0]
        polyline = np.round(pixels * 16).astype(np.int32)  # 4 fractional bits: smooth anti-aliased lines
        cv2.polylines(canvas, [polyline], False, 255, thickness=pen, lineType=cv2.LINE_AA, shift=4)
    return canvas


def frame_canvas(canvas: np.ndarray) -> np.ndarray | None:
    """The canvas through the Draw page's sketch path: the (28, 28) model input, or None if nothing shows."""
    from cnn.frame import InvalidImageError, model_input_from_planes

    try:
        return model_input_from_planes(canvas.astype(np.float32) / np.float32(255), None, sketch=True)
    except InvalidImageError:
        return None


def drawn(strokes: Strokes, rng: np.random.Generator) -> np.ndarray | None:
    """Strokes redrawn by hand, put on the canvas (mirrored or not) and framed by the sketch path: the (28, 28)
    model input, or None if nothing shows."""
    strokes = by_hand(strokes, rng)
    return frame_canvas(render_canvas(strokes, rng, mirror=maybe(rng, 0.5))) if strokes else None


def doodle(class_id: int, seed) -> np.ndarray | None:
    """One procedural doodle of the class, as the model sees it: (28, 28) float32, or None if it came out empty."""
    rng = np.random.default_rng(seed)
    return drawn(CLASS_DRAWERS[class_id](rng), rng)


def abstracted(image: np.ndarray, seed) -> np.ndarray | None:
    """One dataset image abstracted into a doodle, as the model sees it."""
    rng = np.random.default_rng(seed)
    return drawn(abstract_image(image, rng), rng)


# ---------------------------------------------------------------------------------------
# Whole sets, in parallel processes.


def _procedural_chunk(task: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    seed, start, stop = task
    images, labels = [], []
    for index in range(start, stop):
        class_id = index % NUM_CLASSES
        model_input = doodle(class_id, [seed, index])
        if model_input is not None:
            images.append(model_input)
            labels.append(class_id)
    return np.array(images, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE), np.array(labels, dtype=np.uint8)


def _abstracted_chunk(task: tuple[int, np.ndarray, np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
    seed, images, labels, start = task
    kept_images, kept_labels = [], []
    for offset, (image, label) in enumerate(zip(images, labels)):
        model_input = abstracted(image, [seed, start + offset])
        if model_input is not None:
            kept_images.append(model_input)
            kept_labels.append(label)
    return np.array(kept_images, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE), np.array(kept_labels, dtype=np.uint8)


def gather(function, tasks: list, workers: int | None) -> tuple[np.ndarray, np.ndarray]:
    """[function(task) for task in tasks] in spawned processes (or here, for one worker or one task), concatenated."""
    if workers == 1 or len(tasks) == 1:
        parts = [function(task) for task in tasks]
    else:
        # Spawned, not forked: training calls this with TensorFlow's threads already running.
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(function, tasks))
    return np.concatenate([part[0] for part in parts]), np.concatenate([part[1] for part in parts])


CHUNK = 500


def procedural_set(count: int, seed: int, workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """count procedural doodles, the classes in turn: model inputs (N, 28, 28) float32 and labels (N,) uint8."""
    tasks = [(seed, start, min(start + CHUNK, count)) for start in range(0, count, CHUNK)]
    return gather(_procedural_chunk, tasks, workers)


def abstracted_set(images: np.ndarray, labels: np.ndarray, seed: int, workers: int | None = None):
    """Each dataset image abstracted into one doodle: model inputs (N, 28, 28) float32 and labels (N,) uint8."""
    tasks = [(seed, images[start : start + CHUNK], labels[start : start + CHUNK], start) for start in range(0, len(images), CHUNK)]
    return gather(_abstracted_chunk, tasks, workers)


# ---------------------------------------------------------------------------------------
# Contact sheet: what the drawing model learns from.


def contact_sheet(per_class: int = 12, seed: int = 7) -> np.ndarray:
    """One row per class: per_class procedural doodles as the canvas sends them, then as many training images
    abstracted into doodles, each as the model sees it (28x28, enlarged): uint8 (rows, columns)."""
    from PIL import Image

    from cnn.data import load_fashion_mnist

    (images, labels), _ = load_fashion_mnist()
    tile, gap = 84, 4
    rows = []
    for class_id in range(NUM_CLASSES):
        tiles = []
        for index in range(per_class):
            rng = np.random.default_rng([seed, class_id, index])
            strokes = by_hand(CLASS_DRAWERS[class_id](rng), rng)
            canvas = render_canvas(strokes, rng, mirror=maybe(rng, 0.5))
            tiles.append(np.asarray(Image.fromarray(canvas).resize((tile, tile), Image.Resampling.BOX)))
        for index in np.flatnonzero(labels == class_id)[:per_class]:
            model_input = abstracted(images[index], [seed, int(index)])
            model_input = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32) if model_input is None else model_input
            tiles.append(np.repeat(np.repeat((model_input * 255).astype(np.uint8), tile // IMAGE_SIZE, 0), tile // IMAGE_SIZE, 1))
        row = np.full((tile, len(tiles) * (tile + gap)), 90, np.uint8)
        for position, image in enumerate(tiles):
            row[:, position * (tile + gap) : position * (tile + gap) + tile] = image
        rows.append(np.vstack([row, np.full((gap, row.shape[1]), 90, np.uint8)]))
    return np.vstack(rows)


def main(argv: list[str] | None = None) -> None:
    """python -m cnn.doodles [--out docs/doodles.png]: the contact sheet of the training doodles."""
    import argparse

    from PIL import Image

    from cnn.config import PROJECT_DIR

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", default=str(PROJECT_DIR / "docs" / "doodles.png"))
    args = parser.parse_args(argv)
    Image.fromarray(contact_sheet()).save(args.out, optimize=True)
    print(
        f"contact sheet: each row a class (T-shirt/top first); left half procedural doodles as drawn on the canvas, "
        f"right half training images abstracted into doodles as the model sees them -> {args.out}"
    )


if __name__ == "__main__":
    main()
