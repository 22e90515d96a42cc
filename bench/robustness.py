"""Robustness benchmark: does the app classify what users actually send?

python -m bench.robustness [--count 1000] [--out assets/robustness.json]

From the official test split it renders input sets that look like user input (product-photo
renders, transparent cut-outs, canvas outline sketches, mouse-drawn sketches with wobble and
gaps) and reports top-1 accuracy through the public predict path beside the clean accuracy,
the model's own accuracy on the same clean images (what preprocessing must not lose), each
sketch set once more without the sketch path (what that path is worth), how the unsure rule flags
wrong and right answers in each set, the synthetic doodle benchmark per category (bench/drawn_doodles.py, templates written by this
project, not by the training generators), the real-doodle benchmark (bench/real_doodles.py: Quick,
Draw! drawings by members of the public, held-out part) and the goals below.
"""

import argparse
import io
import shlex
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from cnn.config import CANVAS_SIZE, DEFAULT_MODEL, ROBUSTNESS_PATH
from cnn.evaluate import Target, check_targets

ITEM_THRESHOLD = 0.1 * 255  # dataset pixels above this belong to the item
SKETCH_DISTORTION = 1.15  # hand-drawn proportions are off by up to 15%

# What users send must classify about as well as the dataset (see cnn.evaluate.Target).
TARGETS: tuple[Target, ...] = (
    ("clean accuracy lost by predict()", "clean_drop_points", "<=", "points", 0.3),
    ("photo renders below clean", "points_below_clean.photo", "<=", "points", 1.0),
    ("transparent cut-outs below clean", "points_below_clean.cutout", "<=", "points", 3.0),
    ("outline sketches", "accuracy_percent.outline_sketch", ">=", "%", 75.0),
    ("synthetic doodle benchmark, top-1", "doodles.overall.top1_percent", ">=", "%", 75.0),
    ("synthetic doodles: wrong flagged unsure", "doodles.overall.wrong_flagged_percent", ">=", "%", 70.0),
    ("synthetic doodles: right flagged unsure", "doodles.overall.right_flagged_percent", "<=", "%", 15.0),
    # Real doodles (Quick, Draw! by Google, CC BY 4.0), the held-out part only: bench/real_doodles.py.
    ("real doodles, top-1", "real_doodles.known_overall.top1_percent", ">=", "%", 80.0),
    ("real doodles: right flagged unsure", "real_doodles.known_overall.right_flagged_percent", "<=", "%", 15.0),
    ("real doodles of none of the ten flagged", "real_doodles.out_of_scope_overall.flagged_percent", ">=", "%", 80.0),
)


# ---------------------------------------------------------------------------------------
# Renderers: dataset image (28, 28) uint8, bright item on black -> what a user would send.


def upscale(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """(28, 28) uint8 -> (height, width) float32 in 0..1, smooth like a real photo."""
    resized = Image.fromarray(image).resize((width, height), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(resized, dtype=np.float32) / 255.0, 0.0, 1.0)


def random_item_box(rng: np.random.Generator, frame_width: int, frame_height: int, min_side: int, max_side: int, distortion: float):
    """(width, height, left, top) of an item of random size and place inside the frame.

    distortion 1.0 keeps the item's own proportions (a photo); above 1 stretches it by up to
    that factor, as a hand-drawn sketch does.
    """
    side = int(rng.integers(min_side, max_side + 1))
    aspect = float(np.exp(rng.uniform(-np.log(distortion), np.log(distortion))))
    width, height = min(frame_width, int(side * aspect)), min(frame_height, int(side / aspect))
    left = int(rng.integers(0, frame_width - width + 1))
    top = int(rng.integers(0, frame_height - height + 1))
    return width, height, left, top


def encode_random_format(image: Image.Image, rng: np.random.Generator) -> bytes:
    buffer = io.BytesIO()
    image_format = rng.choice(["JPEG", "PNG", "WEBP"])
    if image_format == "PNG":
        image.save(buffer, format="PNG")
    else:
        image.convert("RGB").save(buffer, format=image_format, quality=int(rng.integers(70, 96)))
    return buffer.getvalue()


def light_background(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0.85, 1.0, size=3).astype(np.float32)  # white, light grey or a light tint


def item_colour(rng: np.random.Generator) -> np.ndarray:
    """Dark or saturated: the colours clothes come in on a product page."""
    if rng.random() < 0.5:
        return rng.uniform(0.0, 0.3, size=3).astype(np.float32)  # black, navy, dark brown...
    colour = rng.uniform(0.0, 0.5, size=3)
    colour[rng.integers(0, 3)] = rng.uniform(0.5, 0.9)  # one strong channel: red, green, blue...
    return colour.astype(np.float32)


def render_photo(image: np.ndarray, rng: np.random.Generator) -> bytes:
    """A product photo: the item dark or coloured on a light background, upscaled, random margins, JPEG/PNG/WEBP."""
    frame_width, frame_height = int(rng.integers(200, 500)), int(rng.integers(200, 500))
    side = min(frame_width, frame_height)
    width, height, left, top = random_item_box(rng, frame_width, frame_height, int(side * 0.5), int(side * 0.95), distortion=1.0)
    amount = np.zeros((frame_height, frame_width), dtype=np.float32)
    amount[top : top + height, left : left + width] = upscale(image, width, height)
    background, colour = light_background(rng), item_colour(rng)
    photo = background * (1.0 - amount[..., None]) + colour * amount[..., None]
    photo += rng.normal(0.0, 0.01, size=photo.shape).astype(np.float32)  # sensor noise
    return encode_random_format(Image.fromarray((np.clip(photo, 0, 1) * 255).astype(np.uint8)), rng)


def render_cutout(image: np.ndarray, rng: np.random.Generator) -> bytes:
    """A transparent-background PNG cut-out of the item, coloured as it would look on white."""
    size = int(rng.integers(150, 400))
    width, height, left, top = random_item_box(rng, size, size, int(size * 0.6), size, distortion=1.0)
    amount = np.zeros((size, size), dtype=np.float32)
    amount[top : top + height, left : left + width] = upscale(image, width, height)
    colour = item_colour(rng)
    rgb = 1.0 - amount[..., None] * (1.0 - colour)  # the item's look on a white studio background
    alpha = np.clip(amount / 0.1, 0.0, 1.0)  # cut along the item's edge, soft by a pixel or two
    rgba = np.dstack([rgb, alpha])
    buffer = io.BytesIO()
    Image.fromarray((rgba * 255).astype(np.uint8), mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# Busy photos: an item on a textured or outdoor background, worn on a body, or folded.

GARMENTS = (0, 2, 3, 4, 6)  # tops, dresses and coats: what people wear on the body and fold


LIGHT_WOOD = 3  # texture()'s kind for pale oak or birch planks


def texture(rng: np.random.Generator, width: int, height: int, kind: int | None = None) -> np.ndarray:
    """(height, width, 3) float in 0..1: wooden planks, a woven fabric or an outdoor scene (kind 0-2, random
    if None), or light wooden planks (LIGHT_WOOD)."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    kind = int(rng.integers(0, 3)) if kind is None else kind
    if kind in (0, LIGHT_WOOD):  # wood: planks with grain
        plank = rng.uniform(40, 90)
        if kind == LIGHT_WOOD:
            base = np.array([rng.uniform(0.78, 0.9), rng.uniform(0.64, 0.76), rng.uniform(0.46, 0.6)], dtype=np.float32)
        else:
            base = np.array([rng.uniform(0.45, 0.7), rng.uniform(0.3, 0.45), rng.uniform(0.15, 0.3)], dtype=np.float32)
        grain = 0.08 * np.sin(
            2 * np.pi * (cols / rng.uniform(6, 14) + 0.6 * smooth_noise(rng, max(width, height), 5, 1.0)[:height, :width])
        )
        planks = 0.06 * ((rows // plank) % 2) + 0.04 * ((rows % plank) < 2)
        return np.clip(base * (1 + grain - planks)[..., None], 0, 1)
    if kind == 1:  # fabric: a woven check in two colours
        first, second = rng.uniform(0.2, 0.9, 3), rng.uniform(0.2, 0.9, 3)
        period = rng.uniform(8, 30)
        check = (((rows // period) + (cols // period)) % 2)[..., None]
        weave = 0.05 * np.sin(rows * 1.7)[..., None] * np.sin(cols * 1.7)[..., None]
        return np.clip(first * check + second * (1 - check) + weave, 0, 1).astype(np.float32)
    # outdoors: sky above, grass or a path below, leafy blotches
    horizon = rng.uniform(0.3, 0.6) * height
    sky = np.array([0.55, 0.75, 0.95], dtype=np.float32)
    ground = np.array([rng.uniform(0.2, 0.4), rng.uniform(0.45, 0.65), rng.uniform(0.15, 0.3)], dtype=np.float32)
    scene = np.where((rows < horizon)[..., None], sky, ground)
    blotches = smooth_noise(rng, max(width, height), 12, 0.25)[:height, :width, None]
    return np.clip(scene + blotches, 0, 1).astype(np.float32)


def composite(background: np.ndarray, image: np.ndarray, rng: np.random.Generator, box, colour: np.ndarray | None = None) -> np.ndarray:
    """The item, coloured as on a product page (or in `colour`), laid over the background at box (width, height, left, top)."""
    width, height, left, top = box
    amount = upscale(image, width, height)[..., None]
    colour = item_colour(rng) if colour is None else colour
    silhouette = np.clip(amount / 0.1, 0.0, 1.0)  # the item's own outline, soft by a pixel or two
    item = 1.0 - amount * (1.0 - colour)  # its look on white: the studio shading of the dataset
    photo = background.copy()
    region = photo[top : top + height, left : left + width]
    photo[top : top + height, left : left + width] = region * (1 - silhouette) + item * silhouette
    return photo


def photo_bytes(photo: np.ndarray, rng: np.random.Generator) -> bytes:
    photo = photo + rng.normal(0.0, 0.01, size=photo.shape).astype(np.float32)  # sensor noise
    return encode_random_format(Image.fromarray((np.clip(photo, 0, 1) * 255).astype(np.uint8)), rng)


def render_textured(image: np.ndarray, rng: np.random.Generator) -> bytes:
    """The item lying on wooden planks, a woven fabric or outdoors, filling half to most of the frame."""
    frame_width, frame_height = int(rng.integers(240, 500)), int(rng.integers(240, 500))
    side = min(frame_width, frame_height)
    box = random_item_box(rng, frame_width, frame_height, int(side * 0.5), int(side * 0.85), distortion=1.0)
    return photo_bytes(composite(texture(rng, frame_width, frame_height), image, rng, box), rng)


def render_light_wood(image: np.ndarray, rng: np.random.Generator) -> bytes:
    """A grey or black item on pale wooden planks: little contrast in colour, the grain as strong as the item's edges."""
    frame_width, frame_height = int(rng.integers(240, 500)), int(rng.integers(240, 500))
    side = min(frame_width, frame_height)
    box = random_item_box(rng, frame_width, frame_height, int(side * 0.5), int(side * 0.85), distortion=1.0)
    colour = np.full(3, rng.uniform(0.4, 0.6) if rng.random() < 0.5 else rng.uniform(0.04, 0.15), np.float32)  # grey or black
    return photo_bytes(composite(texture(rng, frame_width, frame_height, LIGHT_WOOD), image, rng, box, colour), rng)


def render_worn(image: np.ndarray, rng: np.random.Generator) -> bytes:
    """A garment worn: a simple figure (head, neck, arms, legs) behind it, outdoors or on a plain wall."""
    return render_worn_with_box(image, rng)[0]


def render_worn_with_box(image: np.ndarray, rng: np.random.Generator) -> tuple[bytes, tuple[int, int, int, int]]:
    """render_worn's photo and the garment's box (left, top, width, height): where a user would drag one."""
    frame_width, frame_height = int(rng.integers(260, 420)), int(rng.integers(380, 560))
    side = int(min(frame_width * 0.8, frame_height * 0.55))
    width = height = side
    left = int(np.clip((frame_width - width) // 2 + rng.integers(-20, 21), 0, frame_width - width))
    top = int(frame_height * rng.uniform(0.2, 0.28))
    background = (
        texture(rng, frame_width, frame_height)
        if rng.random() < 0.6
        else np.ones((frame_height, frame_width, 3), np.float32) * light_background(rng)
    )
    skin = np.array([rng.uniform(0.45, 0.95), rng.uniform(0.3, 0.75), rng.uniform(0.2, 0.6)], dtype=np.float32)
    figure = Image.new("L", (frame_width, frame_height), 0)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(figure)
    centre = left + width // 2
    head = side * 0.16
    draw.ellipse((centre - head, top - 2.3 * head, centre + head, top - 0.2 * head), fill=255)  # head
    draw.rectangle((centre - head * 0.4, top - 0.5 * head, centre + head * 0.4, top + 0.2 * head), fill=255)  # neck
    for sign in (-1, 1):
        draw.line(
            (centre + sign * width * 0.42, top + height * 0.15, centre + sign * width * 0.55, top + height * 0.85),
            fill=255,
            width=int(side * 0.07),
        )  # fmt: skip  an arm
        draw.rectangle(
            (centre + sign * width * 0.05 - width * 0.07, top + height * 0.9, centre + sign * width * 0.05 + width * 0.07, frame_height),
            fill=255,
        )  # fmt: skip  a leg
    body = np.asarray(figure, dtype=np.float32)[..., None] / 255
    background = background * (1 - body) + skin * body
    rows, cols = np.flatnonzero((image > ITEM_THRESHOLD).any(axis=1)), np.flatnonzero((image > ITEM_THRESHOLD).any(axis=0))
    scale = side / image.shape[0]
    box = (
        left + int(cols[0] * scale),
        top + int(rows[0] * scale),
        int((cols[-1] - cols[0] + 1) * scale),
        int((rows[-1] - rows[0] + 1) * scale),
    )
    return photo_bytes(composite(background, image, rng, (width, height, left, top)), rng), box


def render_folded(image: np.ndarray, rng: np.random.Generator) -> bytes:
    """A folded garment: its top (collar and shoulders) over a squarer body, sleeves tucked, on a table or floor."""
    rows = np.flatnonzero((image > ITEM_THRESHOLD).any(axis=1))
    top, bottom = (rows[0], rows[-1]) if len(rows) else (0, 27)
    upper = image[top : top + max(4, int((bottom - top) * rng.uniform(0.55, 0.7)))]
    squashed = np.asarray(Image.fromarray(upper).resize((28, 28), Image.Resampling.BICUBIC))
    squashed = squashed.copy()
    squashed[:, :3] = 0
    squashed[:, -3:] = 0  # sleeves folded behind
    frame_width, frame_height = int(rng.integers(220, 420)), int(rng.integers(220, 420))
    side = min(frame_width, frame_height)
    box = random_item_box(rng, frame_width, frame_height, int(side * 0.5), int(side * 0.85), distortion=1.15)
    background = (
        texture(rng, frame_width, frame_height)
        if rng.random() < 0.5
        else np.ones((frame_height, frame_width, 3), np.float32) * light_background(rng)
    )
    return photo_bytes(composite(background, squashed, rng, box), rng)


def item_mask(image: np.ndarray, width: int, height: int) -> Image.Image:
    """The item's silhouette, smoothly upscaled to width x height, as a 0/255 "L" image."""
    smooth = upscale(image, width, height) * 255
    return Image.fromarray(((smooth > ITEM_THRESHOLD) * 255).astype(np.uint8))


def outline_of(mask: Image.Image, pen_width: int) -> np.ndarray:
    """The mask's contour drawn with a pen of pen_width pixels: (H, W) bool."""
    inner = pen_width // 2 * 2 + 1  # odd filter sizes: MinFilter/MaxFilter need them
    outer = max(1, (pen_width - pen_width // 2)) // 2 * 2 + 1
    eroded = np.asarray(mask.filter(ImageFilter.MinFilter(inner))) > 0
    dilated = np.asarray(mask.filter(ImageFilter.MaxFilter(outer))) > 0
    return dilated & ~eroded


def canvas_from_strokes(strokes: np.ndarray) -> np.ndarray:
    """(280, 280) bool strokes -> RGBA uint8 as the Draw page's canvas sends it: a white pen on opaque black."""
    canvas = np.zeros((CANVAS_SIZE, CANVAS_SIZE, 4), dtype=np.uint8)
    canvas[..., 3] = 255
    canvas[strokes] = (255, 255, 255, 255)
    return canvas


def place_on_canvas(image: np.ndarray, rng: np.random.Generator, pen_width: int) -> np.ndarray:
    """The item's outline at a random size and place on the 280x280 canvas: (280, 280) bool."""
    margin = pen_width + 4
    area = CANVAS_SIZE - 2 * margin
    width, height, left, top = random_item_box(rng, area, area, 120, area, distortion=SKETCH_DISTORTION)
    mask = Image.new("L", (CANVAS_SIZE, CANVAS_SIZE), 0)
    mask.paste(item_mask(image, width, height), (margin + left, margin + top))
    return outline_of(mask, pen_width)


def render_outline_sketch(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The item's outline traced with a pen of 3-16 px on the 280x280 canvas: no fill, no texture."""
    return canvas_from_strokes(place_on_canvas(image, rng, int(rng.integers(3, 17))))


def smooth_noise(rng: np.random.Generator, size: int, cells: int, amplitude: float) -> np.ndarray:
    """A (size, size) random field that varies slowly: the wobble of a hand on a mouse."""
    coarse = rng.normal(0.0, amplitude, size=(cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse, mode="F").resize((size, size), Image.Resampling.BICUBIC))


def render_mouse_sketch(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An outline as drawn with a mouse: wobbly lines and a few gaps where the stroke lifted."""
    pen_width = int(rng.integers(3, 13))
    strokes = place_on_canvas(image, rng, pen_width)
    # Wobble: move every pixel along a slowly varying displacement field of a few pixels.
    rows, cols = np.mgrid[0:CANVAS_SIZE, 0:CANVAS_SIZE]
    amplitude = float(rng.uniform(2.0, 5.0))
    source_rows = np.clip(rows + smooth_noise(rng, CANVAS_SIZE, 6, amplitude), 0, CANVAS_SIZE - 1).astype(int)
    source_cols = np.clip(cols + smooth_noise(rng, CANVAS_SIZE, 6, amplitude), 0, CANVAS_SIZE - 1).astype(int)
    strokes = strokes[source_rows, source_cols]
    # Gaps: erase up to three small discs on the line.
    on_line = np.argwhere(strokes)
    for centre in on_line[rng.integers(0, len(on_line), size=int(rng.integers(0, 4)))] if len(on_line) else []:
        radius = float(rng.uniform(4, 10))
        strokes &= (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 > radius**2
    return canvas_from_strokes(strokes)


# ---------------------------------------------------------------------------------------
# The benchmark.


@dataclass(frozen=True)
class InputSet:
    name: str
    description: str
    render: Callable[[np.ndarray, np.random.Generator], object] | None
    sketch: bool  # sent through the Draw page's sketch path
    classes: tuple[int, ...] | None = None  # only these classes make sense in the set (None: all ten)


INPUT_SETS = (
    InputSet("clean", "official test images, as they are", None, False),
    InputSet("photo", "item dark or coloured on a light background, upscaled, random margins, JPEG/PNG/WEBP", render_photo, False),
    InputSet("cutout", "transparent-background PNG cut-out of the coloured item", render_cutout, False),
    InputSet("outline_sketch", "outline traced with a 3-16 px pen on the 280x280 canvas, no fill", render_outline_sketch, True),
    InputSet("mouse_sketch", "outline drawn with a mouse: wobbly strokes with gaps", render_mouse_sketch, True),
    InputSet("textured", "item on wooden planks, a woven fabric or outdoors (busy background)", render_textured, False),
    InputSet("light_wood", "a grey or black item on pale wooden planks", render_light_wood, False),
    InputSet("worn", "garment worn on a simple figure, outdoors or on a plain wall (tops, dresses, coats)", render_worn, False, GARMENTS),
    InputSet(
        "worn_boxed",
        "the worn set with a box drawn around the garment, as on the Upload page's canvas",
        render_worn_with_box,
        False,
        GARMENTS,
    ),
    InputSet("folded", "garment folded: its top over a squarer body, on a table or floor", render_folded, False, GARMENTS),
)


def stratified_indices(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """count indices with the classes equally represented, in a fixed random order."""
    rng = np.random.default_rng(seed)
    per_class = count // 10
    chosen = [rng.choice(np.flatnonzero(labels == label), per_class, replace=False) for label in range(10)]
    return rng.permutation(np.concatenate(chosen))


def render_set(input_set: InputSet, images: np.ndarray, seed: int) -> list:
    """The user-style inputs for one set; each image gets its own generator, so sets are reproducible."""
    if input_set.render is None:
        return list(images)
    return [input_set.render(image, np.random.default_rng([seed, index])) for index, image in enumerate(images)]


@contextmanager
def automatic_cutout_off():
    """Within the block, no photo counts as busy: framing runs as it did before the cut-out existed."""
    import cnn.decode

    busy_background = cnn.decode.busy_background
    cnn.decode.busy_background = lambda image, grey: False
    try:
        yield
    finally:
        cnn.decode.busy_background = busy_background


def accuracy_of(inputs: list, labels: np.ndarray, sketch: bool, model_name: str | None = None) -> float:
    return scored(inputs, labels, sketch, model_name)["accuracy"]


def scored(inputs: list, labels: np.ndarray, sketch: bool, model_name: str | None = None) -> dict:
    """Accuracy through predict_batch, and the share of wrong and right answers its unsure flag marks.
    Inputs may be (image, box) pairs: the box a user drew around the item."""
    from cnn.predict import predict_batch

    boxes = None
    if inputs and isinstance(inputs[0], tuple):
        inputs, boxes = [image for image, _ in inputs], [box for _, box in inputs]
    results = predict_batch(inputs, model_name=model_name, sketch=sketch, boxes=boxes)
    right = np.array([result.get("class_id", -1) for result in results]) == labels
    unsure = np.array([result.get("unsure", True) for result in results])
    return {
        "accuracy": float(right.mean()),
        "wrong_flagged": round(float(unsure[~right].mean()), 4) if (~right).any() else None,
        "right_flagged": round(float(unsure[right].mean()), 4) if right.any() else None,
        "model": results[0].get("model") if results else None,
    }


def model_accuracy(images: np.ndarray, labels: np.ndarray, model_name: str = DEFAULT_MODEL) -> float:
    """The model called directly on dataset images, with no preprocessing: the accuracy predict() must keep."""
    from cnn.predict import load_model
    from cnn.train import to_model_input

    predictions = load_model(model_name)(to_model_input(images)).argmax(axis=1)
    return float((predictions == labels).mean())


def run(count: int, seed: int, model_name: str | None = None, doodles_per_style: int = 12) -> dict:
    """Every input set through predict_batch. model_name None: what the app runs (the drawing model for sketches)."""
    from cnn.data import load_fashion_mnist

    _, (x_test, y_test) = load_fashion_mnist()
    chosen = stratified_indices(y_test, count, seed)
    images, labels = x_test[chosen], y_test[chosen]
    direct_accuracy = model_accuracy(images, labels, model_name or DEFAULT_MODEL)
    print(f"  {'model, directly':<16} {direct_accuracy:7.2%}", flush=True)
    sets = []
    for input_set in INPUT_SETS:
        started = time.perf_counter()
        chosen_images, chosen_labels = images, labels
        if input_set.classes is not None:
            keep = np.isin(labels, input_set.classes)
            chosen_images, chosen_labels = images[keep], labels[keep]
        inputs = render_set(input_set, chosen_images, seed)
        score = scored(inputs, chosen_labels, input_set.sketch, model_name)
        entry = {
            "name": input_set.name,
            "description": input_set.description,
            "sketch_path": input_set.sketch,
            "model": score["model"],
            "accuracy": round(score["accuracy"], 4),
            "wrong_flagged": score["wrong_flagged"],
            "right_flagged": score["right_flagged"],
            "count": len(chosen_labels),
        }
        line = f"  {input_set.name:<16} {entry['accuracy']:7.2%}"
        if input_set.sketch:
            # The same drawings through the photo path: what the sketch path's stroke thickening is worth.
            entry["accuracy_without_sketch_path"] = round(accuracy_of(inputs, chosen_labels, False, score["model"]), 4)
            line += f"  (without the sketch path {entry['accuracy_without_sketch_path']:.2%})"
        elif input_set.name != "clean" and not isinstance(inputs[0], tuple):
            # The same photos framed as before the automatic cut-out existed: what the cut-out is worth.
            with automatic_cutout_off():
                entry["accuracy_without_cutout"] = round(accuracy_of(inputs, chosen_labels, False, score["model"]), 4)
            line += f"  (without the automatic cut-out {entry['accuracy_without_cutout']:.2%})"
        sets.append(entry)
        print(f"{line}  ({time.perf_counter() - started:.0f} s)", flush=True)

    from bench.drawn_doodles import print_report
    from bench.drawn_doodles import run as run_doodles

    doodles = run_doodles(doodles_per_style, seed, model_name)
    doodles["overall"] |= {
        f"{name}_percent": round(100 * doodles["overall"][name], 2) for name in ("top1", "wrong_flagged", "right_flagged")
    }
    print_report(doodles)
    real_doodles = run_real_doodles(model_name)
    clean_accuracy = sets[0]["accuracy"]
    report = {
        "model": model_name or "what the app runs: the cnn for photos, the drawing model for drawings",
        "count": count,
        "seed": seed,
        "model_accuracy": round(direct_accuracy, 4),
        "clean_accuracy": clean_accuracy,
        "clean_drop_points": round(100 * (direct_accuracy - clean_accuracy), 2),
        "points_below_clean": {entry["name"]: round(100 * (clean_accuracy - entry["accuracy"]), 2) for entry in sets[1:]},
        "accuracy_percent": {entry["name"]: round(100 * entry["accuracy"], 2) for entry in sets},
        "sets": sets,
        "doodles": doodles,
        "real_doodles": real_doodles,
    }
    report["targets"] = check_targets(report, TARGETS)
    for target in report["targets"]:
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[target["met"]]
        print(f"  {target['name']:<36} {target['measured']!s:>8}  {target['target']:>12}  {verdict}")
    return report


def run_real_doodles(model_name: str | None) -> dict | None:
    """The real-doodle benchmark (bench/real_doodles.py) in the same report; None where the shared sample is missing."""
    from bench.real_doodles import print_report, run

    try:
        report = run(model_name)
    except ValueError as error:
        print(f"  real doodles: not measured ({error})")
        return None
    for entry in (report["known_overall"], report["out_of_scope_overall"]):
        entry |= {
            f"{name}_percent": round(100 * entry[name], 2) for name in ("top1", "right_flagged", "flagged") if entry.get(name) is not None
        }
    print_report(report)
    return report


def main(argv: list[str] | None = None) -> None:
    from cnn.artifacts import write_json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="test images per set (stratified)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="default: what the app runs (the drawing model for drawings)")
    parser.add_argument("--out", default=str(ROBUSTNESS_PATH))
    args = parser.parse_args(argv)
    print(f"Robustness of {args.model or 'the models the app runs'} on {args.count} test images per set, through predict():")
    report = run(args.count, args.seed, args.model)
    report["command"] = "python -m bench.robustness " + shlex.join(sys.argv[1:] if argv is None else argv)
    write_json(args.out, report)
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
