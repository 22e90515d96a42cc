"""IDX parsing and dataset discovery."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from cnn import data
from cnn.data import DatasetError, load_fashion_mnist, read_idx


def write_idx(path: Path, payload: bytes) -> Path:
    with gzip.open(path, "wb") as file:
        file.write(payload)
    return path


def images_header(count: int, rows: int = 28, cols: int = 28) -> bytes:
    return b"".join(value.to_bytes(4, "big") for value in (0x00000803, count, rows, cols))


def test_reads_a_valid_images_file(tmp_path):
    pixels = np.arange(2 * 28 * 28, dtype=np.uint8).tobytes()
    images = read_idx(write_idx(tmp_path / "images.gz", images_header(2) + pixels), expected_count=2)
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert images.tobytes() == pixels


def test_reads_a_valid_labels_file(tmp_path):
    header = (0x00000801).to_bytes(4, "big") + (3).to_bytes(4, "big")
    labels = read_idx(write_idx(tmp_path / "labels.gz", header + bytes([0, 9, 4])))
    assert labels.tolist() == [0, 9, 4]


@pytest.mark.parametrize(
    "payload, message",
    [
        (images_header(2) + bytes(28 * 28), "truncated or corrupt"),  # one image missing
        (b"\x00\x00\x08\x99" + bytes(12), "bad magic number"),
        (b"\x00\x00", "too short"),
        (images_header(1, 32, 32) + bytes(32 * 32), "expected 28x28"),
        (images_header(3) + bytes(3 * 28 * 28), "holds 3 items, expected 2"),
        ((0x00000801).to_bytes(4, "big") + (2).to_bytes(4, "big") + bytes([1, 12]), "out of range"),
    ],
)
def test_corrupt_files_get_an_error_naming_the_file(tmp_path, payload, message):
    path = write_idx(tmp_path / "broken-idx.gz", payload)
    with pytest.raises(DatasetError, match=message) as error:
        read_idx(path, expected_count=2 if b"\x08\x03" in payload[:4] else None)
    assert "broken-idx.gz" in str(error.value)


def test_a_truncated_gzip_stream_gets_an_error_naming_the_file(tmp_path):
    path = write_idx(tmp_path / "cut.gz", images_header(1) + bytes(28 * 28))
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(DatasetError, match="cut.gz"):
        read_idx(path)


def test_missing_dataset_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "none")
    monkeypatch.setattr(data, "KERAS_CACHE_DIR", tmp_path / "none")
    with pytest.raises(DatasetError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist()


def test_environment_folder_is_searched_first(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    assert data.candidate_dirs()[0] == tmp_path


def test_full_dataset_has_the_keras_shapes(test_set):
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    assert x_train.shape == (60_000, 28, 28) and y_train.shape == (60_000,)
    assert x_test.shape == (10_000, 28, 28) and y_test.shape == (10_000,)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_shipped_sample_is_stratified_and_from_the_test_set(sample, test_set):
    images, labels = sample
    assert np.bincount(labels, minlength=10).tolist() == [30] * 10
    test_images = {image.tobytes() for image in test_set[0]}
    assert all(image.tobytes() in test_images for image in images)
