"""The synthetic doodle benchmark: templates this project wrote, not the training generators.

It measures the project's idea of a doodle: written by the same hands as cnn/doodles.py, it cannot say
how real people draw. bench/real_doodles.py (Quick, Draw! drawings by members of the public) does.

python -m bench.drawn_doodles [--per-style 12] [--model sketch]

Hand-authored stroke templates, several styles per category, written stroke by stroke as people
draw these items quickly (on a 100x100 grid, y down), not produced by cnn/doodles.py: a sweater
as a T with long sleeves and cuff bands, a jacket with a zip, pants as two legs or an "H" under
a waistband, a purse with a handle, a backpack with a pocket, shoes from the side with either
toe, flip flops from above as a sole with a V strap. Each drawing is varied by its own hand
model (vertex jitter, corner smoothing, a turned and stretched frame, a pen from 2 to 30 px),
drawn with Pillow (training draws with OpenCV), encoded as the canvas's PNG and sent through
predict(png, sketch=True): exactly what the Draw page computes.

Scoring follows the hidden set's rule: a shoe or flip flop is right when any footwear class is
named. The report gives top-1 and top-3 per category, and how the unsure rule flags wrong and
right answers.
"""

import argparse
import io
import shlex
import sys
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from cnn.config import CANVAS_SIZE, CLASS_NAMES

FOOTWEAR = (CLASS_NAMES.index("Sandal"), CLASS_NAMES.index("Sneaker"), CLASS_NAMES.index("Ankle boot"))


def ids(*names: str) -> tuple[int, ...]:
    return tuple(CLASS_NAMES.index(name) for name in names)


@dataclass(frozen=True)
class Category:
    name: str
    accepted: tuple[int, ...]  # class ids that count as right
    styles: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]  # style -> strokes -> points


def closed(*points):
    return (*points, points[0])


CATEGORIES = (
    Category(
        "t-shirt",
        ids("T-shirt/top"),
        (
            (
                (  # one outline with short angled sleeves, a round neck
                    (36, 12),
                    (22, 16),
                    (6, 32),
                    (16, 44),
                    (26, 36),
                    (26, 90),
                    (74, 90),
                    (74, 36),
                    (84, 44),
                    (94, 32),
                    (78, 16),
                    (64, 12),
                ),
                ((36, 12), (42, 19), (50, 21), (58, 19), (64, 12)),
            ),
            (
                (  # boxy, horizontal sleeves, V neck
                    (38, 15),
                    (14, 15),
                    (14, 36),
                    (28, 36),
                    (28, 88),
                    (72, 88),
                    (72, 36),
                    (86, 36),
                    (86, 15),
                    (62, 15),
                ),
                ((38, 15), (50, 30), (62, 15)),
            ),
            (
                (  # drawn in pieces, with a print
                    (40, 10),
                    (20, 18),
                    (10, 35),
                    (24, 40),
                    (27, 35),
                    (27, 92),
                ),
                ((60, 10), (80, 18), (90, 35), (76, 40), (73, 35), (73, 92)),
                ((27, 92), (73, 92)),
                ((40, 10), (50, 18), (60, 10)),
                closed((42, 45), (58, 45), (58, 60), (42, 60)),
            ),
            (
                (  # a tank top
                    (35, 8),
                    (30, 28),
                    (25, 40),
                    (25, 92),
                    (75, 92),
                    (75, 40),
                    (70, 28),
                    (65, 8),
                ),
                ((35, 8), (42, 25), (58, 25), (65, 8)),
            ),
        ),
    ),
    Category(
        "pants",
        ids("Trouser"),
        (
            (closed((26, 5), (74, 5), (80, 96), (58, 96), (50, 34), (42, 96), (20, 96)),),
            (closed((25, 4), (75, 4), (75, 13), (25, 13)), ((25, 13), (21, 96), (44, 96), (50, 36), (56, 96), (79, 96), (75, 13))),
            (
                ((30, 8), (70, 8)),
                ((30, 8), (14, 95)),
                ((70, 8), (86, 95)),
                ((50, 30), (34, 95)),
                ((50, 30), (66, 95)),
                ((14, 95), (34, 95)),
                ((66, 95), (86, 95)),
            ),
            (
                ((28, 10), (28, 96), (46, 96), (46, 28)),
                ((72, 10), (72, 96), (54, 96), (54, 28)),
                ((28, 10), (72, 10)),
                ((46, 28), (54, 28)),
                ((50, 10), (50, 22)),
            ),
        ),
    ),
    Category(
        "sweater",
        ids("Pullover"),
        (
            (
                (  # long sleeves hanging down, cuffs and a hem band
                    (38, 10),
                    (22, 14),
                    (8, 62),
                    (19, 65),
                    (27, 36),
                    (27, 88),
                    (73, 88),
                    (73, 36),
                    (81, 65),
                    (92, 62),
                    (78, 14),
                    (62, 10),
                ),
                ((38, 10), (44, 16), (56, 16), (62, 10)),
                ((9, 56), (20, 59)),
                ((91, 56), (80, 59)),
                ((27, 80), (73, 80)),
            ),
            (
                (  # sleeves out to the sides, ribbed cuffs
                    (36, 12),
                    (20, 15),
                    (2, 42),
                    (10, 50),
                    (26, 32),
                    (26, 90),
                    (74, 90),
                    (74, 32),
                    (90, 50),
                    (98, 42),
                    (80, 15),
                    (64, 12),
                ),
                ((36, 12), (50, 20), (64, 12)),
                ((5, 45), (12, 40)),
                ((95, 45), (88, 40)),
                ((26, 82), (74, 82)),
                ((32, 82), (32, 90)),
                ((40, 82), (40, 90)),
                ((48, 82), (48, 90)),
                ((56, 82), (56, 90)),
                ((64, 82), (64, 90)),
            ),
            (
                (  # a turtleneck with a zigzag pattern
                    (40, 14),
                    (24, 18),
                    (10, 60),
                    (20, 62),
                    (28, 40),
                    (28, 92),
                    (72, 92),
                    (72, 40),
                    (80, 62),
                    (90, 60),
                    (76, 18),
                    (60, 14),
                ),
                closed((40, 4), (60, 4), (60, 14), (40, 14)),
                ((30, 50), (37, 44), (44, 50), (51, 44), (58, 50), (65, 44), (70, 50)),
            ),
        ),
    ),
    Category(
        "jacket",
        ids("Coat"),
        (
            (
                (  # a zip down the middle, pockets
                    (38, 8),
                    (22, 12),
                    (8, 64),
                    (19, 67),
                    (27, 36),
                    (27, 94),
                    (73, 94),
                    (73, 36),
                    (81, 67),
                    (92, 64),
                    (78, 12),
                    (62, 8),
                ),
                ((38, 8), (50, 16), (62, 8)),
                ((50, 16), (50, 94)),
                ((32, 72), (42, 72)),
                ((58, 72), (68, 72)),
            ),
            (
                (  # open front with lapels and buttons
                    (36, 8),
                    (20, 12),
                    (6, 70),
                    (17, 72),
                    (26, 36),
                    (26, 96),
                    (74, 96),
                    (74, 36),
                    (83, 72),
                    (94, 70),
                    (80, 12),
                    (64, 8),
                ),
                ((36, 8), (50, 44), (64, 8)),
                ((50, 44), (50, 96)),
                ((36, 8), (30, 22), (42, 26)),
                ((64, 8), (70, 22), (58, 26)),
                closed((53, 55), (56, 55), (56, 58), (53, 58)),
                closed((53, 70), (56, 70), (56, 73), (53, 73)),
            ),
            (
                (  # a hoodie: hood, zip and a front pocket
                    (36, 20),
                    (22, 24),
                    (8, 70),
                    (19, 73),
                    (27, 44),
                    (27, 96),
                    (73, 96),
                    (73, 44),
                    (81, 73),
                    (92, 70),
                    (78, 24),
                    (64, 20),
                ),
                ((36, 20), (34, 8), (50, 2), (66, 8), (64, 20)),
                ((50, 22), (50, 96)),
                ((34, 70), (66, 70), (70, 86), (30, 86), (34, 70)),
            ),
        ),
    ),
    Category(
        "purse",
        ids("Bag"),
        (
            (closed((20, 42), (80, 42), (90, 92), (10, 92)), ((35, 42), (36, 24), (50, 16), (64, 24), (65, 42))),
            (
                closed((12, 40), (88, 40), (88, 88), (12, 88)),
                ((12, 40), (50, 62), (88, 40)),
                closed((47, 60), (53, 60), (53, 66), (47, 66)),
                ((14, 40), (30, 8), (70, 8), (86, 40)),
            ),
            (
                closed((18, 35), (82, 35), (82, 90), (18, 90)),
                ((30, 35), (32, 18), (45, 18), (45, 35)),
                ((55, 35), (55, 18), (68, 18), (70, 35)),
            ),
        ),
    ),
    Category(
        "backpack",
        ids("Bag"),
        (
            (
                ((25, 92), (25, 35), (30, 22), (50, 16), (70, 22), (75, 35), (75, 92), (25, 92)),
                closed((33, 62), (67, 62), (67, 86), (33, 86)),
                ((42, 17), (44, 6), (56, 6), (58, 17)),
            ),
            (
                ((22, 94), (22, 30), (50, 12), (78, 30), (78, 94), (22, 94)),
                ((22, 40), (12, 55), (14, 85), (22, 90)),
                ((78, 40), (88, 55), (86, 85), (78, 90)),
                ((30, 40), (50, 32), (70, 40)),
                closed((35, 58), (65, 58), (65, 80), (35, 80)),
            ),
            (
                closed((28, 20), (72, 20), (76, 94), (24, 94)),
                ((28, 48), (72, 48)),
                ((50, 48), (50, 56)),
                ((45, 20), (45, 10), (55, 10), (55, 20)),
            ),
        ),
    ),
    Category(
        "shoe",
        FOOTWEAR,
        (
            (
                (  # a sneaker, toe to the left, laces and a sole line
                    (5, 82),
                    (5, 66),
                    (20, 60),
                    (40, 52),
                    (54, 36),
                    (66, 32),
                    (90, 32),
                    (95, 48),
                    (95, 82),
                    (5, 82),
                ),
                ((5, 74), (95, 74)),
                ((38, 50), (46, 56)),
                ((44, 44), (52, 50)),
                ((50, 38), (58, 44)),
            ),
            (
                (  # toe to the right
                    (95, 80),
                    (95, 64),
                    (78, 58),
                    (62, 50),
                    (48, 34),
                    (12, 34),
                    (6, 50),
                    (6, 80),
                    (95, 80),
                ),
                ((6, 72), (95, 72)),
                ((56, 46), (62, 40)),
                ((64, 52), (70, 46)),
            ),
            (
                (  # a high heel
                    (8, 70),
                    (20, 58),
                    (40, 56),
                    (62, 40),
                    (82, 30),
                    (92, 34),
                    (90, 46),
                    (86, 90),
                ),
                ((86, 90), (82, 90), (80, 54), (64, 62), (8, 74), (8, 70)),
            ),
            (
                (  # a boot
                    (10, 88),
                    (10, 74),
                    (30, 64),
                    (48, 60),
                    (52, 10),
                    (84, 10),
                    (86, 88),
                    (10, 88),
                ),
                ((10, 80), (86, 80)),
                ((52, 24), (60, 28)),
                ((52, 38), (60, 42)),
            ),
        ),
    ),
    Category(
        "flip flops",
        FOOTWEAR,
        (
            (
                ((50, 4), (64, 10), (70, 30), (66, 55), (68, 80), (60, 96), (42, 96), (34, 80), (36, 55), (30, 30), (36, 10), (50, 4)),
                ((33, 42), (50, 18), (68, 42)),
            ),
            (
                ((28, 6), (40, 12), (44, 40), (42, 90), (30, 96), (16, 90), (14, 40), (18, 12), (28, 6)),
                ((14, 42), (27, 20), (42, 42)),
                ((72, 6), (84, 12), (86, 40), (84, 90), (72, 96), (58, 90), (56, 40), (60, 12), (72, 6)),
                ((57, 42), (71, 20), (86, 42)),
            ),
            (
                (  # from the side: a flat sole with a strap
                    (5, 70),
                    (95, 66),
                    (95, 76),
                    (5, 80),
                    (5, 70),
                ),
                ((30, 68), (45, 48), (62, 67)),
                ((45, 48), (40, 60)),
            ),
        ),
    ),
    Category(
        "dress",
        ids("Dress"),
        (
            (
                ((40, 6), (36, 30), (40, 42), (15, 95), (85, 95), (60, 42), (64, 30), (60, 6)),
                ((40, 6), (50, 14), (60, 6)),
                ((38, 42), (62, 42)),
            ),
            (
                ((40, 8), (28, 14), (22, 26), (34, 30), (40, 40), (22, 96), (78, 96), (60, 40), (66, 30), (78, 26), (72, 14), (60, 8)),
                ((40, 8), (50, 16), (60, 8)),
            ),
            (((42, 4), (42, 14), (38, 36), (44, 48), (34, 98), (66, 98), (56, 48), (62, 36), (58, 14), (58, 4)), ((42, 14), (58, 14))),
        ),
    ),
    Category(
        "ankle boot",
        FOOTWEAR,
        (
            (
                ((14, 90), (12, 72), (34, 62), (46, 58), (48, 14), (80, 14), (82, 90), (14, 90)),
                ((12, 82), (82, 82)),
                ((72, 90), (72, 98), (82, 98), (82, 90)),
            ),
            (((86, 90), (88, 72), (66, 62), (54, 58), (52, 14), (20, 14), (18, 90), (86, 90)), ((52, 30), (45, 36)), ((52, 44), (45, 50))),
        ),
    ),
)


# ---------------------------------------------------------------------------------------
# This benchmark's own hand: jittered vertices, corners cut, a turned and stretched frame, Pillow's pen.


def chaikin(points: np.ndarray, rounds: int) -> np.ndarray:
    """Chaikin's corner cutting: a polyline rounded as a quick hand rounds corners; the ends stay."""
    for _ in range(rounds):
        if len(points) < 3:
            return points
        quarter = 0.75 * points[:-1] + 0.25 * points[1:]
        three_quarters = 0.25 * points[:-1] + 0.75 * points[1:]
        middle = np.stack([quarter, three_quarters], axis=1).reshape(-1, 2)
        points = np.vstack([points[:1], middle, points[-1:]])
    return points


def vary(strokes, rng: np.random.Generator) -> list[np.ndarray]:
    jitter = rng.uniform(0.0, 3.0)
    angle = np.radians(rng.uniform(-12, 12))
    aspect = rng.uniform(0.85, 1.15)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    rounds = int(rng.integers(0, 3))
    varied = []
    for stroke in strokes:
        points = np.array(stroke, dtype=np.float64)
        points = points + rng.normal(0.0, jitter, size=points.shape)
        points = chaikin(points, rounds)
        varied.append((points - 50.0) * (aspect, 1.0 / aspect) @ rotation.T)
    return varied


PEN_WIDTHS = (2, 4, 6, 8, 12, 16, 22, 30)


def draw(strokes: list[np.ndarray], rng: np.random.Generator) -> bytes:
    """The strokes on a 280x280 canvas, a round white pen on opaque black, as the canvas's PNG."""
    pen = int(rng.choice(PEN_WIDTHS))
    points = np.vstack(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    side = rng.uniform(110, CANVAS_SIZE - 2 * pen - 10)
    scale = side / max(float((high - low).max()), 1e-6)
    offset = rng.uniform(pen + 5, CANVAS_SIZE - pen - 5 - (high - low) * scale)
    canvas = Image.new("RGBA", (CANVAS_SIZE, CANVAS_SIZE), (0, 0, 0, 255))
    pen_draw = ImageDraw.Draw(canvas)
    radius = pen / 2
    for stroke in strokes:
        pixels = [tuple(point) for point in ((stroke - low) * scale + offset).tolist()]
        pen_draw.line(pixels, fill=(255, 255, 255, 255), width=pen, joint="curve")
        for x, y in (pixels[0], pixels[-1]):  # round caps
            pen_draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 255, 255, 255))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def drawings(per_style: int, seed: int) -> list[tuple[str, tuple[int, ...], bytes]]:
    """(category, accepted class ids, PNG) for every style of every category, per_style times each."""
    made = []
    for category_index, category in enumerate(CATEGORIES):
        for style_index, style in enumerate(category.styles):
            for copy in range(per_style):
                rng = np.random.default_rng([seed, category_index, style_index, copy])
                made.append((category.name, category.accepted, draw(vary(style, rng), rng)))
    return made


# ---------------------------------------------------------------------------------------
# The benchmark.


def run(per_style: int = 12, seed: int = 0, model_name: str | None = None) -> dict:
    """Top-1, top-3 and the unsure rule's flags, per category and overall."""
    from cnn.predict import predict_batch

    made = drawings(per_style, seed)
    results = predict_batch([png for _, _, png in made], top_k=3, model_name=model_name, sketch=True)
    rows = []
    for (category, accepted, _), result in zip(made, results):
        top3 = [entry["class_id"] for entry in result["top_k"]]
        rows.append((category, top3[0] in accepted, any(class_id in accepted for class_id in top3), result["unsure"]))
    report = {"per_category": {}, "model": results[0].get("model"), "per_style": per_style, "seed": seed}
    for category in [category.name for category in CATEGORIES] + [None]:
        chosen = [row for row in rows if category is None or row[0] == category]
        right = np.array([row[1] for row in chosen])
        unsure = np.array([row[3] for row in chosen])
        entry = {
            "count": len(chosen),
            "top1": round(float(right.mean()), 4),
            "top3": round(float(np.mean([row[2] for row in chosen])), 4),
            "wrong_flagged": round(float(unsure[~right].mean()), 4) if (~right).any() else None,
            "right_flagged": round(float(unsure[right].mean()), 4) if right.any() else None,
            "confidently_wrong": round(float((~right & ~unsure).mean()), 4),
        }
        if category is None:
            report["overall"] = entry
        else:
            report["per_category"][category] = entry
    return report


def print_report(report: dict) -> None:
    print(f"{'category':<12} {'n':>4} {'top-1':>7} {'top-3':>7} {'wrong flagged':>14} {'right flagged':>14}")
    for name, entry in [*report["per_category"].items(), ("overall", report["overall"])]:

        def percent(value):
            return "-" if value is None else f"{value:.1%}"

        print(f"{name:<12} {entry['count']:>4} {percent(entry['top1']):>7} {percent(entry['top3']):>7} "
              f"{percent(entry['wrong_flagged']):>14} {percent(entry['right_flagged']):>14}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-style", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="default: what the Draw page runs")
    args = parser.parse_args(argv)
    report = run(args.per_style, args.seed, args.model)
    report["command"] = "python -m bench.drawn_doodles " + shlex.join(sys.argv[1:] if argv is None else argv)
    print_report(report)


if __name__ == "__main__":
    main()
