"""The one way the benchmarks and the end-to-end tests start the app and the Flask server: a real
process on a free loopback port, logged to a file, stopped on exit."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cnn.config import PROJECT_DIR

START_TIMEOUT_SECONDS = 180  # generous: a cold start on a busy machine is part of what is measured
POLL_SECONDS = 0.02


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def started(command: list[str], env: dict | None = None) -> Iterator[tuple[subprocess.Popen, float, Path]]:
    """Run command from the project folder, yield (process, start time, log path); stop it on exit."""
    with tempfile.NamedTemporaryFile(prefix="bench-process-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        began = time.perf_counter()
        # A file, not a pipe: a full pipe would block the process.
        process = subprocess.Popen(command, cwd=PROJECT_DIR, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=os.environ | (env or {}))
    try:
        yield process, began, log_path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_path.unlink(missing_ok=True)


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, log_path: Path, what: str) -> float:
    """Poll ready() until it is true and return the perf_counter time; fail if the process dies first."""
    deadline = time.perf_counter() + START_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with status {process.returncode}:\n{log_path.read_text()[-3000:]}")
        if ready():
            return time.perf_counter()
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{what}: not ready after {START_TIMEOUT_SECONDS} s:\n{log_path.read_text()[-3000:]}")


def answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False  # Not listening yet, or still loading.


def streamlit_command(port: int, app: str = "streamlit_app.py", python: str = sys.executable) -> list[str]:
    """`streamlit run app` headless on a loopback port, with the project's .streamlit/config.toml."""
    return [
        python, "-m", "streamlit", "run", app, "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def flask_command(port: int) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "cnn.server", "run",
            "--host", "127.0.0.1", "--port", str(port), "--with-threads"]  # fmt: skip


@contextmanager
def running_streamlit(python: str = sys.executable) -> Iterator[tuple[str, subprocess.Popen, float, float]]:
    """The app on a free port, once it answers: yields (base URL, process, start time, time it answered)."""
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    with started(streamlit_command(port, python=python)) as (process, began, log_path):
        listening = wait_until(lambda: answers_200(f"{url}/_stcore/health"), process, log_path, "streamlit run")
        yield url, process, began, listening


@contextmanager
def running_flask() -> Iterator[tuple[str, subprocess.Popen, float, float]]:
    """The Flask server on a free port, once /health answers: yields (base URL, process, start time, time it answered)."""
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    with started(flask_command(port), env={"FLASK_DEBUG": "0"}) as (process, began, log_path):
        healthy = wait_until(lambda: answers_200(f"{url}/health"), process, log_path, "Flask /health")
        yield url, process, began, healthy
