"""Real doodles: the shared sample of Google's Quick, Draw! dataset (CC BY 4.0), read and split.

The sample (`../shared/data/quickdraw-sample/`, or $QUICKDRAW_DIR) holds 64x64 renders, black strokes
on white, of drawings by members of the public: trousers and T-shirts, two of the ten classes, and
socks, hats and bow ties, which are none of the ten. It lives beside the repository, never in
it (its README asks so). The drawing model trains on a fixed half of every category: the trousers and
T-shirts as their classes, the socks, hats and bow ties as "none of the ten" (outlier exposure, see
cnn/outliers.py). Every figure is reported on the other half (`held_out`), chosen by a hash of the file
name so the split is the same on every machine and does not depend on the order files are listed in.

A drawing reaches the model as the Draw page would send it: white strokes on a black 280x280
canvas (`canvas_of`), then predict(png, sketch=True).
"""

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn.config import CANVAS_SIZE, CLASS_NAMES, IMAGE_SIZE, PROJECT_DIR

CREDIT = "Quick, Draw! by Google, CC BY 4.0"
SOURCE_URL = "https://quickdraw.withgoogle.com/data"
DEFAULT_DIR = PROJECT_DIR.parent / "shared" / "data" / "quickdraw-sample"
TRAINING_SHARE = 0.5  # of the drawings of each category: the rest is held out for every reported figure


@dataclass(frozen=True)
class RealDoodle:
    file: str  # relative to the sample's folder, e.g. "pants/aeq.png"
    category: str  # Quick, Draw!'s word: pants, t-shirt, sock, hat, bowtie
    class_id: int | None  # the Fashion-MNIST class, None for what is none of the ten

    @property
    def for_training(self) -> bool:
        """In the fixed training part, by a hash of the file name."""
        digest = hashlib.sha256(self.file.encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < TRAINING_SHARE


def sample_dir() -> Path:
    return Path(os.environ.get("QUICKDRAW_DIR", DEFAULT_DIR))


def read_manifest(folder: Path | None = None) -> list[RealDoodle]:
    """Every drawing the sample's manifest lists; ValueError with a readable message if there is no sample."""
    folder = folder or sample_dir()
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise ValueError(f"No Quick, Draw! sample at {folder} (manifest.csv missing); set QUICKDRAW_DIR to its folder.")
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        RealDoodle(row["file"], row["category"], CLASS_NAMES.index(row["fashion_mnist_class"]) if row["fashion_mnist_class"] else None)
        for row in rows
    ]


def held_out(doodles: list[RealDoodle]) -> list[RealDoodle]:
    """What every figure is reported on: the drawings of every category the model did not train on."""
    return [doodle for doodle in doodles if not doodle.for_training]


def read_strokes(doodle: RealDoodle, folder: Path | None = None) -> np.ndarray:
    """The drawing as ink: (64, 64) float32, 1 where the pen went, 0 on the paper."""
    from PIL import Image

    with Image.open((folder or sample_dir()) / doodle.file) as image:
        grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    return 1.0 - grey


def canvas_of(ink: np.ndarray) -> np.ndarray:
    """Ink (H, W) in 0..1 -> the Draw page's canvas: (280, 280) uint8, white strokes on black."""
    from PIL import Image

    scaled = Image.fromarray(np.round(ink * 255).astype(np.uint8)).resize((CANVAS_SIZE, CANVAS_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(scaled)


def canvas_png(ink: np.ndarray) -> bytes:
    """The canvas as the PNG the Draw page sends."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(canvas_of(ink)).convert("RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# The training half, for the drawing model (cnn/train.py).

COPIES = 16  # renders of each training drawing: placed, sized, turned and stretched anew each time


def jittered_canvas(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One drawing placed on the canvas as someone else might have drawn it: any size and place, a slanted,
    stretched frame, mirrored or not, a pen from thin to thick. (280, 280) uint8, white strokes on black."""
    import cv2

    pen = int(rng.integers(1, 4))
    if pen > 1:  # the 64x64 render's strokes are about a pixel wide: thicken some of them
        ink = cv2.dilate(ink, np.ones((pen, pen), np.uint8))
    side = rng.uniform(110, CANVAS_SIZE - 20) / ink.shape[0]
    angle, stretch, shear = rng.normal(0.0, 7.0), np.exp(rng.uniform(-0.25, 0.25)), rng.normal(0.0, 0.08)
    rotation = cv2.getRotationMatrix2D((0.0, 0.0), angle, 1.0)[:, :2]
    linear = side * rotation @ np.array([[stretch, shear], [0.0, 1.0 / stretch]])
    if rng.random() < 0.5:
        linear = linear @ np.array([[-1.0, 0.0], [0.0, 1.0]])
    centre = np.array(ink.shape[::-1], dtype=np.float64) / 2
    target = rng.uniform(CANVAS_SIZE * 0.4, CANVAS_SIZE * 0.6, size=2)
    transform = np.hstack([linear, (target - linear @ centre)[:, np.newaxis]])
    canvas = cv2.warpAffine(np.round(ink * 255).astype(np.uint8), transform, (CANVAS_SIZE, CANVAS_SIZE), flags=cv2.INTER_LINEAR)
    return canvas


def training_set(seed: int, copies: int = COPIES) -> tuple[np.ndarray, np.ndarray, int]:
    """The training half of the drawings, each rendered `copies` times as the sketch path frames it:
    model inputs (N, 28, 28) float32, labels (N,) uint8 (OUTLIER for the categories that are none of the
    ten) and how many drawings they came from. Empty where the sample is not beside the repository:
    training then goes on without it."""
    from cnn.outliers import OUTLIER

    try:
        doodles = [doodle for doodle in read_manifest() if doodle.for_training]
    except ValueError:
        doodles = []
    drawings = [(read_strokes(doodle), OUTLIER if doodle.class_id is None else doodle.class_id) for doodle in doodles]
    images, labels = placed_copies(drawings, seed, copies)
    return images, labels, len(doodles)


def placed_copies(drawings: list[tuple[np.ndarray, int]], seed: int, copies: int) -> tuple[np.ndarray, np.ndarray]:
    """[(ink (H, W) in 0..1, class id)] -> each drawing placed `copies` times (jittered_canvas) and framed by the
    sketch path: model inputs (N, 28, 28) float32 and labels (N,) uint8. Real doodles and kept corrections both."""
    from cnn.doodles import frame_canvas

    images, labels = [], []
    for index, (ink, class_id) in enumerate(drawings):
        for copy in range(copies):
            model_input = frame_canvas(jittered_canvas(ink, np.random.default_rng([seed, index, copy])))
            if model_input is not None:
                images.append(model_input)
                labels.append(class_id)
    return np.array(images, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE), np.array(labels, np.uint8)
