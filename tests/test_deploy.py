"""The deploy path as Streamlit Community Cloud takes it: requirements.txt alone, on a newer Python.

bench.deploy_check resolves requirements.txt to wheels for CPython 3.11-3.14, installs it alone in a
fresh virtual environment on Python 3.13 and renders every page of the app from there in Chromium.
Where no Python 3.13 is installed the test is skipped, except in CI (CI=true), where that is a failure.
"""

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.browser import CHROMIUM
from cnn.config import PROJECT_DIR

pytestmark = pytest.mark.slow


def python_313() -> str | None:
    candidates = [shutil.which("python3.13")]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.13*/bin/python3.13"))
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "--version"], capture_output=True).returncode == 0:
            return candidate
    return None


def test_requirements_alone_install_and_every_page_renders_on_python_3_13(tmp_path):
    python = python_313()
    if python is None or not Path(CHROMIUM).exists():
        message = "needs a Python 3.13 interpreter (pyenv install 3.13) and Debian's Chromium"
        if os.environ.get("CI"):
            pytest.fail(f"CI must prove the deploy path: it {message}")
        pytest.skip(message)
    completed = subprocess.run(
        [sys.executable, "-m", "bench.deploy_check", "--python", python, "--venv", str(tmp_path / "venv")],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-3000:]
    assert '"no_tensorflow": true' in completed.stdout and '"Training": "ok"' in completed.stdout
