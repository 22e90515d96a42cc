"""Teach it your drawing: the session's corrections decide close drawings; collection keeps every row."""

import csv
import io
import multiprocessing
import sqlite3
import zipfile

import numpy as np
import pytest

from cnn.config import CLASS_NAMES
from cnn.teach import (
    CORRECTIONS_DB_VARIABLE,
    TAUGHT_SIMILARITY,
    TaughtDrawing,
    corrections_db,
    corrections_training_set,
    drawings_zip,
    keep_correction,
    read_corrections,
    taught_answer,
)
from tests.helpers import encode


def model_result(label: str = "Sandal", model: str = "sketch") -> dict:
    class_id = CLASS_NAMES.index(label)
    return {"prediction": label, "class_id": class_id, "confidence": 0.9, "unsure": True, "unsure_reason": "unlike_training",
            "headline": "This doesn't look like any of the ten items I know", "top_k": [], "probabilities": {}, "model": model}  # fmt: skip


def drawing_png(seed: int) -> bytes:
    from PIL import Image

    canvas = np.zeros((280, 280), np.uint8)
    rng = np.random.default_rng(seed)
    top, left = rng.integers(20, 120, 2)
    canvas[top : top + 100, left : left + 8] = 255  # a leg
    canvas[top : top + 8, left : left + 80] = 255  # a waistband
    return encode(Image.fromarray(canvas))


def taught(class_name: str, embedding, model: str = "sketch") -> TaughtDrawing:
    return TaughtDrawing(drawing_png(0), CLASS_NAMES.index(class_name), np.asarray(embedding, np.float32), model, "Sandal")


def test_a_close_taught_drawing_decides_the_answer():
    embedding = np.array([1.0, 0.0, 0.0], np.float32)
    result = taught_answer(model_result(), embedding, [taught("Bag", [0.0, 1.0, 0.0]), taught("Trouser", [0.99, 0.05, 0.0])])
    assert (result["prediction"], result["class_id"], result["headline"]) == ("Trouser", 1, "Trouser")
    assert result["unsure"] is False and result["unsure_reason"] is None
    assert result["taught"]["examples"] == 2 and result["taught"]["similarity"] > TAUGHT_SIMILARITY


def test_a_distant_taught_drawing_or_another_models_changes_nothing():
    embedding = np.array([1.0, 0.0, 0.0], np.float32)
    original = model_result()
    angle_just_outside = np.arccos(TAUGHT_SIMILARITY) + 0.02
    far = [np.cos(angle_just_outside), np.sin(angle_just_outside), 0.0]
    assert taught_answer(original, embedding, [taught("Trouser", far)]) == original
    assert taught_answer(original, embedding, [taught("Trouser", [1.0, 0.0, 0.0], model="cnn")]) == original
    assert taught_answer(original, None, [taught("Trouser", [1.0, 0.0, 0.0])]) == original
    assert taught_answer(original, embedding, []) == original


def test_the_download_holds_every_drawing_and_its_label():
    drawings = [taught("Trouser", [1, 0]), taught("Bag", [0, 1])]
    with zipfile.ZipFile(io.BytesIO(drawings_zip(drawings))) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
        assert [row["label"] for row in rows] == ["Trouser", "Bag"]
        assert [row["model_answer"] for row in rows] == ["Sandal", "Sandal"]
        assert archive.read(rows[0]["file"]) == drawings[0].png


def test_collection_is_off_unless_switched_on(monkeypatch, tmp_path):
    monkeypatch.delenv(CORRECTIONS_DB_VARIABLE, raising=False)
    assert corrections_db() is None
    monkeypatch.setenv(CORRECTIONS_DB_VARIABLE, str(tmp_path / "kept.sqlite"))
    assert corrections_db() == tmp_path / "kept.sqlite"


WRITERS, ROWS_EACH = 6, 40


def write_rows(task: tuple[str, int]) -> None:
    path, writer = task
    from pathlib import Path

    for row in range(ROWS_EACH):
        keep_correction(Path(path), TaughtDrawing(f"{writer}-{row}".encode() * 50, (writer + row) % 10, np.zeros(2), "sketch", "Bag"))


@pytest.mark.slow
def test_parallel_writers_lose_and_corrupt_no_row(tmp_path):
    path = tmp_path / "corrections.sqlite"
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        pool.map(write_rows, [(str(path), writer) for writer in range(WRITERS)])
    rows = read_corrections(path)
    assert len(rows) == WRITERS * ROWS_EACH
    expected = {(f"{writer}-{row}".encode() * 50, (writer + row) % 10) for writer in range(WRITERS) for row in range(ROWS_EACH)}
    assert set(rows) == expected
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_kept_corrections_become_training_inputs(tmp_path):
    path = tmp_path / "corrections.sqlite"
    for seed, class_name in ((1, "Trouser"), (2, "Bag")):
        keep_correction(path, TaughtDrawing(drawing_png(seed), CLASS_NAMES.index(class_name), np.zeros(2), "sketch", "Sandal"))
    images, labels, count = corrections_training_set(path, seed=0, copies=3)
    assert count == 2 and images.shape == (6, 28, 28) and labels.tolist() == [1, 1, 1, 8, 8, 8]
    assert images.max() == 1.0


def test_a_missing_corrections_file_is_a_readable_error(tmp_path):
    with pytest.raises(ValueError, match="No corrections file"):
        read_corrections(tmp_path / "none.sqlite")
