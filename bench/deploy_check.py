"""The deploy path, checked as Streamlit Community Cloud takes it: requirements.txt alone.

    python -m bench.deploy_check [--python python3.13] [--venv /tmp/deploy-venv]

1. `pip install --dry-run --only-binary=:all:` resolves requirements.txt to wheels for CPython 3.11,
   3.12, 3.13 and 3.14 (Linux x86_64): Community Cloud installs wheels for the Python chosen when
   the app was created.
2. A fresh virtual environment on the given interpreter installs requirements.txt and nothing else;
   TensorFlow is not in it (Keras is, on JAX, for the Playground page).
3. That environment runs `streamlit run streamlit_app.py` headless and Chromium opens every page
   once: each must render with no exception box.
Exit status 0 when all three hold.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.browser import DESKTOP, EXCEPTION, SCRIPT_FINISHED, chromium
from bench.servers import START_TIMEOUT_SECONDS, running_streamlit
from cnn.config import PROJECT_DIR

PYTHON_VERSIONS = ("3.11", "3.12", "3.13", "3.14")
PAGE_PATHS = ("", "Draw", "Upload", "Feature_maps", "Training", "Explore")


def run(command: list[str]) -> subprocess.CompletedProcess:
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)


def wheels_resolve(version: str) -> bool:
    with tempfile.TemporaryDirectory() as target:
        completed = run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--only-binary=:all:",
                         "--python-version", version, "--target", target, "-r", "requirements.txt"])  # fmt: skip
    if completed.returncode != 0:
        print(completed.stdout[-2000:], completed.stderr[-2000:])
    return completed.returncode == 0


def fresh_environment(python: str, venv: Path) -> Path:
    """A new virtual environment with requirements.txt installed: its python."""
    for command in ([python, "-m", "venv", "--clear", str(venv)],
                    [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                    [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"]):  # fmt: skip
        completed = run(command)
        if completed.returncode != 0:
            raise RuntimeError(f"{command} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}")
    return venv / "bin" / "python"


def has_no_tensorflow(python: Path) -> bool:
    code = "import importlib.util as u; print(json.dumps([u.find_spec(n) is not None for n in ('tensorflow', 'tf_keras')]))"
    completed = run([str(python), "-c", "import json; " + code])
    return completed.returncode == 0 and json.loads(completed.stdout) == [False, False]


def every_page_renders(python: Path) -> dict[str, str]:
    """Page path -> "ok" or what went wrong, each page opened once in a fresh tab."""
    outcomes = {}
    with running_streamlit(python=str(python)) as (url, *_), chromium() as browser:
        for path in PAGE_PATHS:
            tab = browser.new_page(viewport=DESKTOP)
            try:
                tab.goto(f"{url}/{path}")
                tab.wait_for_selector("h1", timeout=START_TIMEOUT_SECONDS * 1000)
                tab.wait_for_timeout(500)
                tab.wait_for_selector(SCRIPT_FINISHED, timeout=START_TIMEOUT_SECONDS * 1000)
                boxes = tab.locator(EXCEPTION)
                outcomes[path or "Home"] = "ok" if boxes.count() == 0 else boxes.first.inner_text()[:500]
            finally:
                tab.close()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default="python3.13", help="the interpreter of the fresh environment")
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "fashion-mnist-deploy-venv")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    resolved = {version: wheels_resolve(version) for version in PYTHON_VERSIONS}
    python = fresh_environment(args.python, args.venv)
    version = run([str(python), "-c", "import platform; print(platform.python_version())"]).stdout.strip()
    no_tensorflow = has_no_tensorflow(python)
    pages = every_page_renders(python)
    report = {"wheels_resolve": resolved, "fresh_environment_python": version, "no_tensorflow": no_tensorflow,
              "pages": pages, "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
    print(json.dumps(report, indent=2))
    return 0 if all(resolved.values()) and no_tensorflow and set(pages.values()) == {"ok"} else 1


if __name__ == "__main__":
    sys.exit(main())
