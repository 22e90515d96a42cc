"""Atomic writes and reads of the files in assets/: a crash never leaves a half-written file."""

import importlib.metadata
import json
import os
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(temp_path) on a temp file in the same folder, then rename it over path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        write(temp_path)
        temp_path.chmod(0o644)  # mkstemp makes owner-only files; assets are meant to be shared.
        os.replace(temp_path, path)  # Atomic on POSIX and Windows within one file system.
    finally:
        temp_path.unlink(missing_ok=True)


def write_json(path: Path, data: dict) -> None:
    write_atomically(path, lambda temp: temp.write_text(json.dumps(data, indent=2) + "\n"))


def read_json(path: Path) -> dict | None:
    """The parsed file, or None when it does not exist."""
    path = Path(path)
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def installed_version(*distributions: str) -> str | None:
    """The version of the first of these distributions that is installed, or None."""
    for distribution in distributions:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def library_versions(*extra_distributions: str) -> dict:
    """Python, the platform and the libraries behind a result, read without importing them."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tensorflow": installed_version("tensorflow-cpu", "tensorflow"),
        "keras": installed_version("keras"),
        "ai-edge-litert": installed_version("ai-edge-litert"),
        "numpy": installed_version("numpy"),
        "pillow": installed_version("pillow"),
        **{name: installed_version(name) for name in extra_distributions},
    }
