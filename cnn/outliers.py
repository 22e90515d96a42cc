"""Doodles of things that are none of the ten: what the drawing model learns to be unsure about.

A softmax always sums to one, so a network trained only on the ten classes calls a hat a confident
Sandal. Outlier exposure (Hendrycks, Mazeika and Dietterich, 2019, "Deep Anomaly Detection with Outlier
Exposure") also shows it things outside the ten and teaches it the uniform answer for them; the trainer
(cnn/train.py) gives these doodles the label OUTLIER, which its loss reads as "every class 10%".

The generators below draw, by the same hand and through the same canvas and sketch path as the clothing
doodles (cnn/doodles.py), what people draw on a clothing app that is not one of the ten (hats, caps,
socks, gloves, scarves, ties, bow ties, belts, glasses), everyday things (faces, houses, trees, suns,
cars, cups, fish, flowers, hearts, stars, arrows, umbrellas), letters and digits, and shapes with no
meaning at all (scribbles, spirals, zigzags, polygons). Each is a few lines of geometry of the
project's own; none is traced from a drawing.
"""

from collections.abc import Callable

import numpy as np

from cnn.config import IMAGE_SIZE, NUM_CLASSES
from cnn.doodles import CHUNK, Strokes, arc, closed, drawn, frame_canvas, gather, line, maybe, mirror_x

OUTLIER = NUM_CLASSES  # the training label of "none of the ten": a uniform target, never a prediction


# ---------------------------------------------------------------------------------------
# Worn with clothes, but none of the ten.


def draw_cap(rng) -> Strokes:
    """A cap or a brimmed hat from the side: a dome on a brim."""
    width, height = rng.uniform(0.5, 0.8), rng.uniform(0.3, 0.6)
    dome = arc(0.5, 0.75, width / 2, height, 180, 360, 18)
    brim_left, brim_right = 0.5 - width / 2 - rng.uniform(0.0, 0.25), 0.5 + width / 2 + rng.uniform(0.0, 0.4)
    strokes = [dome, line((brim_left, 0.75), (brim_right, 0.75 + rng.uniform(-0.05, 0.05)))]
    if maybe(rng, 0.5):
        strokes.append(line((brim_left, 0.75), (brim_left + 0.05, 0.82), (brim_right - 0.05, 0.82), (brim_right, 0.75)))
    if maybe(rng, 0.4):  # a band or a pompom
        strokes.append(
            arc(0.5, 0.75 - height * 0.25, width * 0.48, 0.03, 180, 360, 10)
            if maybe(rng, 0.5)
            else closed(arc(0.5, 0.75 - height, 0.05, 0.05, 0, 350, 10))
        )
    return strokes


def draw_top_hat(rng) -> Strokes:
    """A tall crown on a wide brim, or a beanie folded at the bottom."""
    width, height = rng.uniform(0.35, 0.6), rng.uniform(0.4, 0.8)
    top = 0.9 - height
    crown = line(
        (0.5 - width / 2, 0.85),
        (0.5 - width / 2 * rng.uniform(0.8, 1.1), top),
        (0.5 + width / 2 * rng.uniform(0.8, 1.1), top),
        (0.5 + width / 2, 0.85),
    )
    brim = closed(arc(0.5, 0.87, width / 2 + rng.uniform(0.1, 0.3), rng.uniform(0.02, 0.08), 0, 350, 16))
    return [crown, brim] + ([line((0.5 - width / 2, 0.75), (0.5 + width / 2, 0.75))] if maybe(rng, 0.5) else [])


def draw_sock(rng) -> Strokes:
    """A sock: a leg tube turning into a foot, the toe rounded, sometimes a cuff band and a heel patch."""
    leg_width, foot_length = rng.uniform(0.2, 0.35), rng.uniform(0.35, 0.6)
    left, top, ankle = 0.25, 0.05, rng.uniform(0.5, 0.7)
    right = left + leg_width
    toe_x = right + foot_length
    outline = np.vstack([line((left, top), (left, ankle + 0.15)), arc(left + 0.12, ankle + 0.15, 0.12, 0.15, 180, 90, 8),
                         line((left + 0.12, ankle + 0.3), (toe_x - 0.1, ankle + 0.3)), arc(toe_x - 0.1, ankle + 0.2, 0.1, 0.1, 90, -90, 10),
                         line((toe_x - 0.1, ankle + 0.1), (right, ankle + 0.05 - rng.uniform(0.0, 0.1)), (right, top))])  # fmt: skip
    strokes = [outline]
    if maybe(rng, 0.6):
        strokes.append(line((left, top + 0.1), (right, top + 0.1)))
    if maybe(rng, 0.3):
        strokes += [line((left, y), (right, y)) for y in np.linspace(top + 0.2, ankle - 0.05, int(rng.integers(2, 5)))]
    return strokes


def draw_bow_tie(rng) -> Strokes:
    """Two triangles (or rounded wings) meeting at a knot, sometimes with a neck band."""
    wing, height = rng.uniform(0.3, 0.45), rng.uniform(0.25, 0.5)
    knot = rng.uniform(0.04, 0.1)
    left_wing = line(
        (0.5 - knot, 0.5 - knot),
        (0.5 - wing, 0.5 - height / 2),
        (0.5 - wing + rng.uniform(-0.05, 0.05), 0.5 + height / 2),
        (0.5 - knot, 0.5 + knot),
    )
    strokes = [
        left_wing,
        mirror_x(left_wing),
        closed(line((0.5 - knot, 0.5 - knot), (0.5 + knot, 0.5 - knot), (0.5 + knot, 0.5 + knot), (0.5 - knot, 0.5 + knot))),
    ]
    if maybe(rng, 0.25):
        strokes.append(arc(0.5, 0.5 - knot, 0.3, 0.35, 180, 360, 14))
    return strokes


def draw_necktie(rng) -> Strokes:
    width = rng.uniform(0.12, 0.22)
    return [closed(line((0.5 - width / 3, 0.05), (0.5 + width / 3, 0.05), (0.5 + width / 4, 0.15), (0.5 + width, 0.8), (0.5, 0.95),
                        (0.5 - width, 0.8), (0.5 - width / 4, 0.15))), line((0.5 - width / 4, 0.15), (0.5 + width / 4, 0.15))]  # fmt: skip


def draw_glove(rng) -> Strokes:
    """A mitten or a five-finger glove: fingers as bumps on top of a palm, a cuff below."""
    fingers = 1 if maybe(rng, 0.4) else 4
    strokes = [line((0.3, 0.95), (0.3, 0.5)), line((0.7, 0.95), (0.7, 0.5)), line((0.3, 0.95), (0.7, 0.95))]
    widths = 0.4 / fingers
    for index in range(fingers):
        centre = 0.3 + widths * (index + 0.5)
        strokes.append(arc(centre, 0.5, widths / 2, rng.uniform(0.2, 0.4), 180, 360, 10))
    strokes.append(arc(0.3, 0.6, rng.uniform(0.1, 0.2), 0.12, 90, 270, 10))  # the thumb
    if maybe(rng, 0.6):
        strokes.append(line((0.3, 0.82), (0.7, 0.82)))
    return strokes


def draw_scarf_or_belt(rng) -> Strokes:
    """A long band: a belt with a buckle, or a scarf with fringed ends."""
    height = rng.uniform(0.1, 0.2)
    strokes = [line((0.0, 0.5 - height / 2), (1.0, 0.5 - height / 2)), line((0.0, 0.5 + height / 2), (1.0, 0.5 + height / 2))]
    if maybe(rng, 0.5):  # buckle and holes
        strokes.append(closed(line((0.2, 0.5 - height), (0.35, 0.5 - height), (0.35, 0.5 + height), (0.2, 0.5 + height))))
        strokes += [closed(arc(x, 0.5, 0.01, 0.01, 0, 300, 5)) for x in np.linspace(0.6, 0.85, int(rng.integers(2, 6)))]
    else:  # fringes
        strokes += [line((1.0, y), (1.08, y)) for y in np.linspace(0.5 - height / 2, 0.5 + height / 2, 4)]
    return strokes


def draw_glasses(rng) -> Strokes:
    radius = rng.uniform(0.12, 0.2)
    lens = closed(arc(0.3, 0.5, radius, radius * rng.uniform(0.6, 1.0), 0, 350, 16))
    return [lens, mirror_x(lens), arc(0.5, 0.5, 0.2 - radius + 0.02, 0.04, 180, 360, 6), line((0.3 - radius, 0.5), (0.0, 0.42))]


# ---------------------------------------------------------------------------------------
# Everyday things.


def draw_face(rng) -> Strokes:
    strokes = [closed(arc(0.5, 0.5, 0.45, rng.uniform(0.4, 0.5), 0, 350, 24))]
    strokes += [closed(arc(x, 0.38, 0.04, 0.04, 0, 330, 6)) for x in (0.35, 0.65)]
    strokes.append(arc(0.5, 0.55, 0.2, rng.uniform(0.05, 0.2), 20, 160, 10) if maybe(rng, 0.7) else line((0.35, 0.7), (0.65, 0.7)))
    return strokes


def draw_house(rng) -> Strokes:
    roof = rng.uniform(0.2, 0.4)
    strokes = [
        closed(line((0.15, roof + 0.05), (0.85, roof + 0.05), (0.85, 0.95), (0.15, 0.95))),
        line((0.1, roof + 0.1), (0.5, 0.0), (0.9, roof + 0.1)),
    ]
    if maybe(rng, 0.7):
        strokes.append(line((0.42, 0.95), (0.42, 0.7), (0.58, 0.7), (0.58, 0.95)))
    if maybe(rng, 0.5):
        strokes.append(closed(line((0.22, 0.5), (0.35, 0.5), (0.35, 0.62), (0.22, 0.62))))
    return strokes


def draw_tree(rng) -> Strokes:
    crown = closed(arc(0.5, 0.35, rng.uniform(0.25, 0.45), rng.uniform(0.2, 0.35), 0, 350, 20))
    if maybe(rng, 0.4):  # a fir: stacked triangles
        crown = line((0.2, 0.65), (0.5, 0.05), (0.8, 0.65), (0.2, 0.65))
    return [crown, line((0.45, 0.65), (0.45, 1.0)), line((0.55, 0.65), (0.55, 1.0))]


def draw_sun_or_flower(rng) -> Strokes:
    radius = rng.uniform(0.12, 0.22)
    strokes = [closed(arc(0.5, 0.5, radius, radius, 0, 350, 16))]
    rays = int(rng.integers(5, 12))
    for angle in np.linspace(0, 2 * np.pi, rays, endpoint=False):
        direction = np.array([np.cos(angle), np.sin(angle)])
        if maybe(rng, 0.5):
            strokes.append(line(0.5 + direction * (radius + 0.04), 0.5 + direction * (radius + rng.uniform(0.12, 0.3))))
        else:  # petals
            tip = 0.5 + direction * (radius + 0.25)
            side = np.array([-direction[1], direction[0]]) * 0.08
            strokes.append(line(0.5 + direction * radius + side, tip, 0.5 + direction * radius - side))
    return strokes


def draw_car(rng) -> Strokes:
    body = line((0.05, 0.7), (0.05, 0.5), (0.25, 0.48), (0.35, 0.3), (0.7, 0.3), (0.8, 0.48), (0.95, 0.5), (0.95, 0.7), (0.05, 0.7))
    wheels = [closed(arc(x, 0.72, 0.09, 0.09, 0, 350, 12)) for x in (0.25, 0.75)]
    return [body, *wheels] + ([line((0.5, 0.32), (0.5, 0.48))] if maybe(rng, 0.5) else [])


def draw_cup(rng) -> Strokes:
    width = rng.uniform(0.3, 0.5)
    body = line((0.5 - width / 2, 0.2), (0.5 - width / 2 * 0.8, 0.9), (0.5 + width / 2 * 0.8, 0.9), (0.5 + width / 2, 0.2))
    return [body, closed(arc(0.5, 0.2, width / 2, 0.05, 0, 350, 14)), arc(0.5 + width / 2, 0.5, 0.12, 0.15, -90, 90, 10)]


def draw_fish(rng) -> Strokes:
    body = closed(arc(0.45, 0.5, rng.uniform(0.25, 0.35), rng.uniform(0.12, 0.25), 0, 350, 20))
    tail = line((0.72, 0.5), (0.95, 0.3), (0.95, 0.7), (0.72, 0.5))
    return [body, tail, closed(arc(0.3, 0.45, 0.025, 0.025, 0, 330, 6))]


def draw_heart_or_star(rng) -> Strokes:
    if maybe(rng, 0.5):
        return [
            np.vstack(
                [
                    arc(0.33, 0.35, 0.17, 0.17, 150, 360, 12),
                    arc(0.67, 0.35, 0.17, 0.17, 180, 390, 12),
                    line((0.83, 0.45), (0.5, 0.9), (0.17, 0.45)),
                ]
            )
        ]
    points = int(rng.integers(5, 8))
    angles = np.linspace(-np.pi / 2, 3 * np.pi / 2, 2 * points + 1)
    radii = np.where(np.arange(2 * points + 1) % 2 == 0, 0.48, rng.uniform(0.15, 0.3))
    return [np.stack([0.5 + radii * np.cos(angles), 0.5 + radii * np.sin(angles)], axis=1)]


def draw_arrow_or_bolt(rng) -> Strokes:
    if maybe(rng, 0.5):
        return [line((0.05, 0.5), (0.95, 0.5)), line((0.7, 0.3), (0.95, 0.5), (0.7, 0.7))]
    return [line((0.6, 0.0), (0.3, 0.55), (0.55, 0.5), (0.35, 1.0))]


def draw_umbrella(rng) -> Strokes:
    canopy = np.vstack([arc(0.5, 0.45, 0.45, 0.35, 180, 360, 18), line((0.95, 0.45), (0.05, 0.45))])
    return [canopy, line((0.5, 0.45), (0.5, 0.9)), arc(0.42, 0.9, 0.08, 0.06, 0, 180, 6)]


# ---------------------------------------------------------------------------------------
# Shapes with no meaning.


def draw_scribble(rng) -> Strokes:
    """A random walk that turns smoothly: a scrawl, a loop of loops or a knot."""
    steps = int(rng.integers(15, 60))
    headings = np.cumsum(rng.normal(0.0, rng.uniform(0.3, 1.2), steps))
    points = np.cumsum(np.stack([np.cos(headings), np.sin(headings)], axis=1) * 0.05, axis=0)
    return [points]


def draw_spiral_or_zigzag(rng) -> Strokes:
    if maybe(rng, 0.5):
        turns = rng.uniform(1.5, 4)
        angles = np.linspace(0, 2 * np.pi * turns, 60)
        radii = np.linspace(0.02, 0.48, 60)
        return [np.stack([0.5 + radii * np.cos(angles), 0.5 + radii * np.sin(angles)], axis=1)]
    count = int(rng.integers(3, 9))
    xs = np.linspace(0, 1, count)
    return [np.stack([xs, 0.5 + (np.arange(count) % 2 - 0.5) * rng.uniform(0.2, 0.8)], axis=1)]


def draw_polygon(rng) -> Strokes:
    """A circle, triangle, square or any polygon, sometimes two of them."""
    strokes = []
    for _ in range(1 + int(maybe(rng, 0.3))):
        sides = int(rng.integers(3, 9)) if maybe(rng, 0.7) else 40
        angles = np.linspace(0, 2 * np.pi, sides + 1) + rng.uniform(0, np.pi)
        centre, radius = rng.uniform(0.3, 0.7, 2), rng.uniform(0.2, 0.45)
        strokes.append(np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles) * rng.uniform(0.5, 1.0)], axis=1))
    return strokes


def draw_lines(rng) -> Strokes:
    """A few unrelated straight strokes: a cross, a hash, a grid, a stick figure's limbs."""
    return [line(tuple(rng.uniform(0, 1, 2)), tuple(rng.uniform(0, 1, 2))) for _ in range(int(rng.integers(1, 6)))]


OUTLIER_DRAWERS: tuple[Callable[[np.random.Generator], Strokes], ...] = (
    draw_cap, draw_top_hat, draw_sock, draw_bow_tie, draw_necktie, draw_glove, draw_scarf_or_belt, draw_glasses,
    draw_face, draw_house, draw_tree, draw_sun_or_flower, draw_car, draw_cup, draw_fish, draw_heart_or_star,
    draw_arrow_or_bolt, draw_umbrella, draw_scribble, draw_spiral_or_zigzag, draw_polygon, draw_lines,
)  # fmt: skip
TEXT_SHARE = 0.08  # of the outliers: a letter, digit or short word, in one of OpenCV's built-in stroke fonts


def text_canvas(rng: np.random.Generator) -> np.ndarray:
    """A letter, a digit or a short word written on the canvas: (280, 280) uint8, white on black."""
    import cv2

    from cnn.config import CANVAS_SIZE

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?!&@#"
    text = "".join(rng.choice(list(alphabet), size=int(rng.integers(1, 4))))
    font = int(rng.choice([cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX]))
    thickness = int(rng.integers(3, 16))
    (width, height), _ = cv2.getTextSize(text, font, 1.0, thickness)
    scale = rng.uniform(0.4, 0.9) * CANVAS_SIZE / max(width, height, 1)
    canvas = np.zeros((CANVAS_SIZE, CANVAS_SIZE), np.uint8)
    origin = (int(rng.uniform(0, max(CANVAS_SIZE - width * scale, 1))), int(rng.uniform(height * scale, CANVAS_SIZE)))
    cv2.putText(canvas, text, origin, font, scale, 255, max(1, int(thickness * scale / 3)), cv2.LINE_AA)
    return canvas


def outlier(seed) -> np.ndarray | None:
    """One doodle of something that is none of the ten, as the model sees it: (28, 28) float32, or None if empty."""
    rng = np.random.default_rng(seed)
    if maybe(rng, TEXT_SHARE):
        return frame_canvas(text_canvas(rng))
    return drawn(OUTLIER_DRAWERS[int(rng.integers(len(OUTLIER_DRAWERS)))](rng), rng)


def _outlier_chunk(task: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    seed, start, stop = task
    images = [image for image in (outlier([seed, index]) for index in range(start, stop)) if image is not None]
    return np.array(images, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE), np.full(len(images), OUTLIER, np.uint8)


def outlier_set(count: int, seed: int, workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """count outlier doodles: model inputs (N, 28, 28) float32 and labels (N,) uint8, all OUTLIER."""
    tasks = [(seed, start, min(start + CHUNK, count)) for start in range(0, count, CHUNK)]
    return gather(_outlier_chunk, tasks, workers)
