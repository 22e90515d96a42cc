"""Teach it your drawing: a user's corrections, used at once for that user and, if switched on, kept.

When the answer is wrong or unsure, the Draw page lets the user name the right class. The drawing's
embedding (the serving model's penultimate layer, the one the "not one of my ten" check reads) is
kept with that label for the session, and every later drawing is compared with the kept ones by
cosine similarity: one close enough takes its label (a nearest-example vote over the user's own
drawings, as the first Teachable Machine voted over its network's activations). Nothing is trained,
so it takes effect at the next stroke and is gone with the session.

Collection is off by default: a public app must not keep strangers' drawings. Where whoever runs the
app sets CNN_CORRECTIONS_DB to a file path, each correction is also appended to that SQLite file,
which `python -m cnn.train --model sketch --corrections FILE` can train on. SQLite's own locking keeps
rows from concurrent sessions (threads or processes) whole: each append is one short transaction.
"""

import csv
import io
import os
import sqlite3
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn.config import CLASS_NAMES

# Cosine similarity above which a taught drawing decides the answer: above it two drawings are close
# variants of one drawing; real doodles of the same class by different people mostly score lower, so
# one correction does not relabel everything that looks a little alike.
TAUGHT_SIMILARITY = 0.9
CORRECTIONS_DB_VARIABLE = "CNN_CORRECTIONS_DB"


@dataclass(frozen=True)
class TaughtDrawing:
    png: bytes  # the canvas as the Draw page sent it
    class_id: int  # what the user says it is
    embedding: np.ndarray  # (units,) the serving model's embedding of it
    model: str  # the model whose embedding it is
    predicted: str  # what the model had answered


def taught_answer(result: dict, embedding: np.ndarray | None, taught: list[TaughtDrawing]) -> dict:
    """predict()'s result, or, when one of the user's taught drawings is close enough in the same model's
    embedding, that drawing's label with "taught": {"similarity", "examples"} saying why."""
    usable = [drawing for drawing in taught if drawing.model == result["model"]]
    if embedding is None or not usable:
        return result
    references = np.stack([drawing.embedding for drawing in usable]).astype(np.float32)  # (T, units)
    similarities = references @ embedding / np.maximum(np.linalg.norm(references, axis=1) * np.linalg.norm(embedding), 1e-12)
    best = int(np.argmax(similarities))
    if similarities[best] < TAUGHT_SIMILARITY:
        return result
    label = CLASS_NAMES[usable[best].class_id]
    return {**result, "prediction": label, "class_id": usable[best].class_id, "unsure": False, "unsure_reason": None,
            "headline": label, "taught": {"similarity": round(float(similarities[best]), 4), "examples": len(usable)}}  # fmt: skip


def drawings_zip(taught: list[TaughtDrawing]) -> bytes:
    """The user's labelled drawings to download: drawing-001.png, ... and labels.csv (file, label, the model's answer)."""
    buffer = io.BytesIO()
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["file", "label", "model_answer"])
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, drawing in enumerate(taught, start=1):
            name = f"drawing-{number:03d}.png"
            archive.writestr(name, drawing.png)
            writer.writerow([name, CLASS_NAMES[drawing.class_id], drawing.predicted])
        archive.writestr("labels.csv", rows.getvalue())
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# Collection, where it is switched on.

SCHEMA = """CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    model_answer TEXT NOT NULL,
    png BLOB NOT NULL
)"""
BUSY_TIMEOUT_SECONDS = 30  # how long a writer waits for another's transaction before giving up


def corrections_db() -> Path | None:
    """The SQLite file corrections are kept in, or None: collection is off unless CNN_CORRECTIONS_DB is set."""
    value = os.environ.get(CORRECTIONS_DB_VARIABLE, "").strip()
    return Path(value) if value else None


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    connection.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, and the other way round
    connection.execute(SCHEMA)
    return connection


def keep_correction(path: Path, drawing: TaughtDrawing) -> None:
    """Append one correction to the SQLite file, as one transaction."""
    with connect(path) as connection:
        connection.execute(
            "INSERT INTO corrections (created, label, model_answer, png) VALUES (?, ?, ?, ?)",
            (time.time(), drawing.class_id, drawing.predicted, drawing.png),
        )
    connection.close()


def read_corrections(path: Path) -> list[tuple[bytes, int]]:
    """Every kept correction as (PNG, class id), oldest first; ValueError with a readable message for a missing file."""
    if not Path(path).is_file():
        raise ValueError(f"No corrections file at {path}.")
    connection = connect(Path(path))
    try:
        return [(bytes(png), int(label)) for png, label in connection.execute("SELECT png, label FROM corrections ORDER BY id")]
    finally:
        connection.close()


def corrections_training_set(path: Path, seed: int, copies: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The kept corrections as training inputs, each placed `copies` times as cnn/quickdraw.py places real
    doodles: model inputs (N, 28, 28) float32, labels (N,) uint8 and how many corrections they came from."""
    from PIL import Image

    from cnn.quickdraw import placed_copies

    drawings = []
    corrections = read_corrections(path)
    for png, class_id in corrections:
        with Image.open(io.BytesIO(png)) as image:
            drawings.append((np.asarray(image.convert("L"), dtype=np.float32) / 255.0, class_id))  # white strokes on black already
    images, labels = placed_copies(drawings, seed, copies)
    return images, labels, len(corrections)
