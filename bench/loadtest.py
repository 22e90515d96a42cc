"""Bounded load test of the Flask server on loopback: client threads x requests to POST /predict.

    python -m bench.loadtest --threads 8 --requests 300 --out assets/loadtest.json

Starts `flask --app cnn.server run` (Werkzeug's threaded server) in a subprocess on a free
loopback port, so the server has its own interpreter and the client threads do not share its
GIL; --url points it at a server that is already running instead (gunicorn, waitress...).
Each request uploads a test-sample image as multipart field "file", the seed apps' contract.
The client uses only the standard library's http.client. The run stops by itself after
threads x requests requests; the exit status is 1 when any request failed.
"""

import argparse
import http.client
import io
import json
import math
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image

from cnn.artifacts import write_json
from cnn.config import ASSETS_DIR, CLASS_NAMES, DEFAULT_MODEL, PROJECT_DIR
from cnn.data import load_test_sample

DEFAULT_OUT = PROJECT_DIR / "assets" / "loadtest.json"
PAYLOAD_IMAGES = 32  # distinct images cycled through, so no cache anywhere could help
STARTUP_TIMEOUT_SECONDS = 180  # TensorFlow import and model load on a busy 2-core machine
REQUEST_TIMEOUT_SECONDS = 60
MAX_ERROR_EXAMPLES = 5


# ---------------------------------------------------------------------------------------
# Server: a real HTTP server in its own process.


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(base_url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"The server exited with status {server.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # Not listening yet, or the model is still loading.
        time.sleep(0.5)
    raise RuntimeError(f"The server was not healthy after {STARTUP_TIMEOUT_SECONDS} s:\n{log_path.read_text()[-2000:]}")


class FlaskServer:
    """`flask --app cnn.server run` on a free loopback port, stopped on exit."""

    def __init__(self):
        self.port = free_loopback_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "flask", "--app", "cnn.server", "run",
                        "--host", "127.0.0.1", "--port", str(self.port), "--with-threads"]  # fmt: skip

    def __enter__(self) -> "FlaskServer":
        self.log = tempfile.NamedTemporaryFile(prefix="loadtest-server-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,  # A file, not a pipe: a full pipe would block the server.
            env=os.environ | {"FLASK_DEBUG": "0"},
        )
        try:
            wait_until_healthy(self.base_url, self.process, Path(self.log.name))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------
# Client: stdlib http.client, one connection per thread (reopened when the server closes it).


def payloads(count: int = PAYLOAD_IMAGES) -> list[bytes]:
    """PNG files of the first test-sample images."""
    images, _ = load_test_sample()
    files = []
    for image in images[:count]:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        files.append(buffer.getvalue())
    return files


def multipart_body(png: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with the image in field "file", and its Content-Type."""
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="sample.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode() + png + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def client_thread(
    base_url: str, bodies: list[tuple[bytes, str]], count: int, start: threading.Barrier, latencies: list, errors: list
) -> None:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=REQUEST_TIMEOUT_SECONDS)
    start.wait()
    for request_number in range(count):
        body, content_type = bodies[request_number % len(bodies)]
        began = time.perf_counter()
        try:
            connection.request("POST", "/predict", body=body, headers={"Content-Type": content_type})
            response = connection.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - began
            if response.status != 200:
                errors.append(f"HTTP {response.status}: {answer[:200].decode(errors='replace')}")
            elif json.loads(answer).get("prediction") not in CLASS_NAMES:
                errors.append(f"Unexpected answer: {answer[:200].decode(errors='replace')}")
            else:
                latencies.append(elapsed)  # list.append is atomic: safe from several threads
        except (OSError, http.client.HTTPException, ValueError) as error:
            errors.append(f"{type(error).__name__}: {error}")
            connection.close()  # Start the next request on a fresh connection.
    connection.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def run_load_test(base_url: str, threads: int, requests_per_thread: int) -> dict:
    """Send threads x requests_per_thread uploads at once and measure them."""
    bodies = [multipart_body(png) for png in payloads()]
    latencies, errors = [], []
    start = threading.Barrier(threads + 1)
    workers = [
        threading.Thread(target=client_thread, args=(base_url, bodies, requests_per_thread, start, latencies, errors))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - began

    latencies.sort()
    total = threads * requests_per_thread
    latency_ms = (
        {
            "p50": round(1000 * percentile(latencies, 0.50), 2),
            "p99": round(1000 * percentile(latencies, 0.99), 2),
            "mean": round(1000 * statistics.fmean(latencies), 2),
            "max": round(1000 * latencies[-1], 2),
        }
        if latencies
        else None
    )
    return {
        "requests": total,
        "errors": len(errors),
        "error_examples": errors[:MAX_ERROR_EXAMPLES],
        "threads": threads,
        "requests_per_thread": requests_per_thread,
        "seconds": round(seconds, 3),
        "throughput_rps": round(total / seconds, 1),
        "latency_ms": latency_ms,
    }


# ---------------------------------------------------------------------------------------
# Command line.


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load-test POST /predict of the Flask server on loopback.")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--requests", type=int, default=300, help="requests per thread (default 300)")
    parser.add_argument("--url", help="test a server already running at this base URL instead of starting one")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON report (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.requests < 1:
        parser.error("--threads and --requests must be at least 1")

    if args.url:
        server_description = f"already running at {args.url}"
        report = run_load_test(args.url.rstrip("/"), args.threads, args.requests)
    else:
        with FlaskServer() as server:
            server_description = "Werkzeug threaded server, subprocess: " + shlex.join(["python", *server.command[1:]])
            report = run_load_test(server.base_url, args.threads, args.requests)

    report = {
        "endpoint": "POST /predict (multipart field 'file', 28x28 PNG test images)",
        "server": server_description,
        "model": DEFAULT_MODEL,
        "assets_dir": str(ASSETS_DIR),
        **report,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "command": "python -m bench.loadtest " + shlex.join(argv if argv is not None else sys.argv[1:]),
    }
    write_json(args.out, report)

    print(f"requests    {report['requests']} ({args.threads} threads x {args.requests})")
    print(f"errors      {report['errors']}")
    for example in report["error_examples"]:
        print(f"  {example}")
    print(f"throughput  {report['throughput_rps']} req/s over {report['seconds']} s")
    if report["latency_ms"]:
        print(f"latency     p50 {report['latency_ms']['p50']} ms, p99 {report['latency_ms']['p99']} ms")
    print(f"report      {args.out}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
