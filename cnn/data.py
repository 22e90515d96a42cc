"""Fashion-MNIST loading from the official IDX files, without a network when possible."""

import gzip
import os
from pathlib import Path

import numpy as np

from cnn.config import IMAGE_SIZE, NUM_CLASSES

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
EXPECTED_COUNTS = {"x_train": 60_000, "y_train": 60_000, "x_test": 10_000, "y_test": 10_000}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_CACHE_DIR = Path.home() / ".keras" / "datasets" / "fashion-mnist"

# IDX magic numbers: 0x0000 then the type byte 0x08 (unsigned byte) and the number of dimensions.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

HOW_TO_GET_DATA = (
    "Fashion-MNIST was not found. Get it one of these ways:\n"
    "  * Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
    "  * set FASHION_MNIST_DIR to a folder holding the four official .gz files\n"
    "    (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,\n"
    "    t10k-labels-idx1-ubyte.gz) from https://github.com/zalandoresearch/fashion-mnist\n"
    "  * with internet access, call load_fashion_mnist(allow_download=True)"
)


class DatasetError(ValueError):
    """The dataset is missing, truncated or corrupt."""


def candidate_dirs() -> list[Path]:
    """Folders searched for the IDX files, in order."""
    dirs = []
    if os.environ.get("FASHION_MNIST_DIR"):
        dirs.append(Path(os.environ["FASHION_MNIST_DIR"]))
    dirs += [DEBIAN_DIR, KERAS_CACHE_DIR]
    return dirs


def find_data_dir() -> Path | None:
    for directory in candidate_dirs():
        if all((directory / name).is_file() for name in IDX_FILES.values()):
            return directory
    return None


def read_idx(path: Path, expected_count: int | None = None) -> np.ndarray:
    """Parse one gzipped IDX file of images (N, 28, 28) or labels (N,) as uint8."""
    try:
        with gzip.open(path, "rb") as file:
            raw = file.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"{path}: cannot be read as gzip ({error}); download it again.") from error

    if len(raw) < 8:
        raise DatasetError(f"{path}: file too short to be an IDX file ({len(raw)} bytes).")
    magic = int.from_bytes(raw[0:4], "big")
    count = int.from_bytes(raw[4:8], "big")
    shape: tuple[int, ...]
    if magic == IMAGES_MAGIC:
        header_size, shape = 16, (count, IMAGE_SIZE, IMAGE_SIZE)
        if len(raw) < header_size:
            raise DatasetError(f"{path}: image header truncated.")
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        if (rows, cols) != (IMAGE_SIZE, IMAGE_SIZE):
            raise DatasetError(f"{path}: images are {rows}x{cols}, expected {IMAGE_SIZE}x{IMAGE_SIZE}.")
    elif magic == LABELS_MAGIC:
        header_size, shape = 8, (count,)
    else:
        raise DatasetError(f"{path}: bad magic number 0x{magic:08x}; not a Fashion-MNIST IDX file.")

    if expected_count is not None and count != expected_count:
        raise DatasetError(f"{path}: holds {count} items, expected {expected_count}.")
    expected_bytes = header_size + int(np.prod(shape))
    if len(raw) != expected_bytes:
        raise DatasetError(
            f"{path}: {len(raw)} bytes after decompression, expected {expected_bytes}; the file is truncated or corrupt, download it again."
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)
    if magic == LABELS_MAGIC and array.size and array.max() >= NUM_CLASSES:
        raise DatasetError(f"{path}: label {array.max()} is out of range 0..{NUM_CLASSES - 1}.")
    return array


def load_fashion_mnist(
    allow_download: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Return ((x_train, y_train), (x_test, y_test)) as uint8, like keras.datasets.fashion_mnist.

    x arrays are (N, 28, 28), y arrays (N,). Looks in $FASHION_MNIST_DIR, the Debian package
    folder and the Keras cache; downloads through Keras only when allow_download is True.
    """
    directory = find_data_dir()
    if directory is None:
        if not allow_download:
            raise DatasetError(HOW_TO_GET_DATA)
        import keras  # Imported late: only this rare path needs it.

        try:
            return keras.datasets.fashion_mnist.load_data()
        except Exception as error:
            raise DatasetError(f"Download failed ({error}).\n{HOW_TO_GET_DATA}") from error

    arrays = {key: read_idx(directory / name, EXPECTED_COUNTS[key]) for key, name in IDX_FILES.items()}
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_test_split() -> tuple[np.ndarray, np.ndarray]:
    """Only the official test split, (x_test (10000, 28, 28), y_test (10000,)) uint8: what the app shows,
    without reading and decompressing the 60,000 training images."""
    directory = find_data_dir()
    if directory is None:
        raise DatasetError(HOW_TO_GET_DATA)
    return read_idx(directory / IDX_FILES["x_test"], EXPECTED_COUNTS["x_test"]), read_idx(
        directory / IDX_FILES["y_test"], EXPECTED_COUNTS["y_test"]
    )


def load_test_sample(path: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The small stratified test sample shipped in assets/: (images uint8 (N, 28, 28), labels (N,))."""
    from cnn.config import SAMPLE_PATH

    with np.load(path or SAMPLE_PATH) as sample:
        return sample["images"], sample["labels"]


def make_test_sample(per_class: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified random sample of the official test set: per_class images of each class."""
    _, (x_test, y_test) = load_fashion_mnist()
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(y_test == label), per_class, replace=False) for label in range(NUM_CLASSES)])
    chosen = rng.permutation(chosen)
    return x_test[chosen], y_test[chosen]


def main(argv: list[str] | None = None) -> None:
    """python -m cnn.data [--per-class N]: write the shipped test sample to assets/."""
    import argparse

    from cnn.artifacts import write_atomically
    from cnn.config import SAMPLE_PATH

    parser = argparse.ArgumentParser(description="Write a stratified sample of the test set to assets/.")
    parser.add_argument("--per-class", type=int, default=30)
    parser.add_argument("--out", type=Path, default=SAMPLE_PATH)
    args = parser.parse_args(argv)
    images, labels = make_test_sample(args.per_class)
    write_atomically(args.out, lambda temp: np.savez_compressed(open(temp, "wb"), images=images, labels=labels))
    print(f"{len(images)} test images ({args.per_class} per class) -> {args.out}")


if __name__ == "__main__":
    main()
