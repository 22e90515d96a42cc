"""Fashion-MNIST loading from the official IDX files, without a network when possible.

The Playground trains where the app runs (a laptop after `make run`, Community Cloud): its images come
from the official files where they are installed, else from a one-time download of Zalando's published
files into the Keras cache, checked against the SHA-256 of their content, else from a class-balanced
subset shipped in assets/ (see training_pool).
"""

import gzip
import hashlib
import os
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn.config import IMAGE_SIZE, NUM_CLASSES

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
# SHA-256 of each file's decompressed IDX content: the gzip wrapping differs between mirrors (Debian
# recompresses), the content does not. Measured on the Debian package's files.
IDX_CONTENT_SHA256 = {
    "x_train": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "y_train": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "x_test": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "y_test": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# Zalando's published copy (https://github.com/zalandoresearch/fashion-mnist#get-the-data).
DOWNLOAD_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
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
    return parse_idx(read_gzip(path), path, expected_count)


def read_gzip(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as file:
            return file.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"{path.name}: cannot be read as gzip ({error}); download it again.") from error


def parse_idx(raw: bytes, path: Path, expected_count: int | None = None) -> np.ndarray:
    """One IDX file's decompressed bytes -> images (N, 28, 28) or labels (N,) as uint8."""
    if len(raw) < 8:
        raise DatasetError(f"{path.name}: file too short to be an IDX file ({len(raw)} bytes).")
    magic = int.from_bytes(raw[0:4], "big")
    count = int.from_bytes(raw[4:8], "big")
    shape: tuple[int, ...]
    if magic == IMAGES_MAGIC:
        header_size, shape = 16, (count, IMAGE_SIZE, IMAGE_SIZE)
        if len(raw) < header_size:
            raise DatasetError(f"{path.name}: image header truncated.")
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        if (rows, cols) != (IMAGE_SIZE, IMAGE_SIZE):
            raise DatasetError(f"{path.name}: images are {rows}x{cols}, expected {IMAGE_SIZE}x{IMAGE_SIZE}.")
    elif magic == LABELS_MAGIC:
        header_size, shape = 8, (count,)
    else:
        raise DatasetError(f"{path.name}: bad magic number 0x{magic:08x}; not a Fashion-MNIST IDX file.")

    if expected_count is not None and count != expected_count:
        raise DatasetError(f"{path.name}: holds {count} items, expected {expected_count}.")
    expected_bytes = header_size + int(np.prod(shape))
    if len(raw) != expected_bytes:
        raise DatasetError(
            f"{path}: {len(raw)} bytes after decompression, expected {expected_bytes}; the file is truncated or corrupt, download it again."
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)
    if magic == LABELS_MAGIC and array.size and array.max() >= NUM_CLASSES:
        raise DatasetError(f"{path.name}: label {array.max()} is out of range 0..{NUM_CLASSES - 1}.")
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


# ---------------------------------------------------------------------------------------
# The Playground's images: the whole dataset where it can be had, else the shipped subset.

PLAYGROUND_SUBSET_PATH_NAME = "playground_subset.npz"
SUBSET_TRAIN_PER_CLASS = 1_200  # 12,000 training images: the default preset's 10,000 and some to spare
SUBSET_TEST_PER_CLASS = 200  # 2,000 of the official test images: half validation, half test


@dataclass(frozen=True)
class TrainingPool:
    """Where the Playground draws from: uint8 images (N, 28, 28) and labels (N,) for each split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # in words, for the page

    @property
    def full(self) -> bool:
        return len(self.y_train) == EXPECTED_COUNTS["x_train"]


def training_pool(subset_path: Path | None = None) -> TrainingPool:
    """The official files where installed or downloaded (all 60,000 training images), else the shipped subset.

    Validation and test are the two halves of the official test split (a fixed, class-mixed shuffle), so
    every one of the 60,000 training images can be trained on and the test half is never looked at while
    the knobs are being tuned.
    """
    if find_data_dir() is not None:
        (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
        source = f"the full Fashion-MNIST training set ({len(x_train):,} images)"
    else:
        from cnn.config import ASSETS_DIR

        path = subset_path or ASSETS_DIR / PLAYGROUND_SUBSET_PATH_NAME
        try:
            with np.load(path) as subset:
                x_train, y_train, x_test, y_test = (subset[key] for key in ("x_train", "y_train", "x_test", "y_test"))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
            raise DatasetError(f"The shipped training subset {path.name} cannot be read ({error}); reinstall the app.") from error
        source = f"the subset shipped with the app ({len(x_train):,} training images; the full set is not installed here)"
    order = np.random.default_rng(0).permutation(len(x_test))
    validation, test = np.array_split(order, 2)
    return TrainingPool(x_train, y_train, x_test[validation], y_test[validation], x_test[test], y_test[test], source)


def download_fashion_mnist(progress: Callable[[float], None] | None = None, base_url: str = DOWNLOAD_URL,
                           directory: Path = KERAS_CACHE_DIR) -> Path:  # fmt: skip
    """Download the four official files once into directory (the Keras cache, which find_data_dir reads),
    each checked against the SHA-256 of its content before it is kept. progress(share done, 0..1).
    Raises DatasetError with what to do on a network error or a damaged file."""
    directory.mkdir(parents=True, exist_ok=True)
    for done, (key, name) in enumerate(IDX_FILES.items()):
        target = directory / name
        if not target.is_file():
            try:
                with urllib.request.urlopen(base_url + name, timeout=30) as response:
                    data = response.read()
            except OSError as error:
                raise DatasetError(f"Downloading {name} failed ({error}). Check the internet connection, or install the files.") from error
            content = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else b""
            if hashlib.sha256(content).hexdigest() != IDX_CONTENT_SHA256[key]:
                raise DatasetError(f"{name} arrived damaged (its checksum does not match); nothing was kept. Try again.")
            temporary = target.with_suffix(".part")
            temporary.write_bytes(data)
            temporary.replace(target)
        if progress:
            progress((done + 1) / len(IDX_FILES))
    return directory


def make_playground_subset(seed: int = 0) -> dict[str, np.ndarray]:
    """A class-balanced random subset of both official splits, for machines without the full set."""
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    rng = np.random.default_rng(seed)

    def balanced(labels: np.ndarray, per_class: int) -> np.ndarray:
        chosen = [rng.choice(np.flatnonzero(labels == label), per_class, replace=False) for label in range(NUM_CLASSES)]
        return rng.permutation(np.concatenate(chosen))

    train, test = balanced(y_train, SUBSET_TRAIN_PER_CLASS), balanced(y_test, SUBSET_TEST_PER_CLASS)
    return {"x_train": x_train[train], "y_train": y_train[train], "x_test": x_test[test], "y_test": y_test[test]}


def main(argv: list[str] | None = None) -> None:
    """python -m cnn.data [--per-class N] [--playground-subset]: write the shipped test sample (and the
    Playground's training subset) to assets/."""
    import argparse

    from cnn.artifacts import write_atomically
    from cnn.config import ASSETS_DIR, SAMPLE_PATH

    parser = argparse.ArgumentParser(description="Write a stratified sample of the test set to assets/.")
    parser.add_argument("--per-class", type=int, default=30)
    parser.add_argument("--out", type=Path, default=SAMPLE_PATH)
    parser.add_argument("--playground-subset", action="store_true", help="also write the Playground's class-balanced subset")
    args = parser.parse_args(argv)
    images, labels = make_test_sample(args.per_class)
    write_atomically(args.out, lambda temp: np.savez_compressed(open(temp, "wb"), images=images, labels=labels))
    print(f"{len(images)} test images ({args.per_class} per class) -> {args.out}")
    if args.playground_subset:
        subset = make_playground_subset()
        path = ASSETS_DIR / PLAYGROUND_SUBSET_PATH_NAME
        write_atomically(path, lambda temp: np.savez_compressed(open(temp, "wb"), x_train=subset["x_train"], y_train=subset["y_train"],
                                                                x_test=subset["x_test"], y_test=subset["y_test"]))  # fmt: skip
        print(f"{len(subset['x_train'])} training and {len(subset['x_test'])} test images -> {path}")


if __name__ == "__main__":
    main()
