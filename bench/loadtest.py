"""Bounded load test of the Flask server on loopback: client threads x requests to POST /predict.

    python -m bench.loadtest --threads 8 --requests 300 --out assets/loadtest.json

Starts `flask --app cnn.server run` (Werkzeug's threaded server) in a subprocess on a free
loopback port, so the server has its own interpreter and the client threads do not share its
GIL; --url points it at a server that is already running instead (gunicorn, waitress...).
Each request uploads a test-sample image as multipart field "file", the seed apps' contract.
With --photos the uploads are what people send instead: product photos on plain and busy backgrounds
(bench.robustness's renders, as JPEG, PNG or WebP) mixed with damaged files, which must get a 400; the
server's memory (RSS) is sampled throughout, to show it stays steady. The client uses only the standard
library's http.client. The run stops by itself after threads x requests requests; the exit status is 1
when any request failed (a 5xx, a wrong status or a timeout).
"""

import argparse
import http.client
import io
import json
import os
import platform
import shlex
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image

from bench.servers import flask_command, running_flask
from bench.timing import percentile
from cnn.artifacts import write_json
from cnn.config import ASSETS_DIR, CLASS_NAMES, DEFAULT_MODEL, PROJECT_DIR
from cnn.data import load_test_sample

DEFAULT_OUT = PROJECT_DIR / "assets" / "loadtest.json"
PAYLOAD_IMAGES = 32  # distinct images cycled through, so no cache anywhere could help
BAD_SHARE = 4  # with --photos, every BAD_SHARE-th upload is a damaged file
RSS_SAMPLE_SECONDS = 0.5
REQUEST_TIMEOUT_SECONDS = 60
MAX_ERROR_EXAMPLES = 5


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


def photo_payloads(count: int = PAYLOAD_IMAGES) -> list[tuple[bytes, int]]:
    """(file, expected HTTP status): rendered product photos, plain and busy, and every BAD_SHARE-th a damaged file."""
    import numpy as np

    from bench.robustness import render_photo, render_textured

    images, _ = load_test_sample()
    files = []
    for index, image in enumerate(images[:count]):
        rng = np.random.default_rng([7, index])
        photo = (render_textured if index % 2 else render_photo)(image, rng)
        if index % BAD_SHARE == BAD_SHARE - 1:
            files.append((photo[: len(photo) // 3] if index % 8 == 3 else bytes(rng.integers(0, 256, 2000, dtype=np.uint8)), 400))
        else:
            files.append((photo, 200))
    return files


def server_rss_mb(pid: int) -> float | None:
    """The resident memory of a process, from /proc (Linux); None elsewhere."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return None


def multipart_body(png: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with the image in field "file", and its Content-Type."""
    boundary = uuid.uuid4().hex
    body = (
        (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="sample.png"\r\nContent-Type: image/png\r\n\r\n').encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def client_thread(
    base_url: str, bodies: list[tuple[bytes, str, int]], count: int, start: threading.Barrier, latencies: list, errors: list
) -> None:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=REQUEST_TIMEOUT_SECONDS)
    start.wait()
    for request_number in range(count):
        body, content_type, expected = bodies[request_number % len(bodies)]
        began = time.perf_counter()
        try:
            connection.request("POST", "/predict", body=body, headers={"Content-Type": content_type})
            response = connection.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - began
            if response.status != expected:
                errors.append(f"HTTP {response.status}, expected {expected}: {answer[:200].decode(errors='replace')}")
            elif expected != 200:
                latencies.append(elapsed)  # a clear error, as it should be
            elif json.loads(answer).get("prediction") not in CLASS_NAMES:
                errors.append(f"Unexpected answer: {answer[:200].decode(errors='replace')}")
            else:
                latencies.append(elapsed)  # list.append is atomic: safe from several threads
        except (OSError, http.client.HTTPException, ValueError) as error:
            errors.append(f"{type(error).__name__}: {error}")
            connection.close()  # Start the next request on a fresh connection.
    connection.close()


def run_load_test(base_url: str, threads: int, requests_per_thread: int, photos: bool = False, server_pid: int | None = None) -> dict:
    """Send threads x requests_per_thread uploads at once and measure them (and the server's memory, given its pid)."""
    files = photo_payloads() if photos else [(png, 200) for png in payloads()]
    bodies = [(*multipart_body(data), expected) for data, expected in files]
    latencies, errors = [], []
    rss_samples: list[float] = []
    sampling = threading.Event()

    def sample_rss() -> None:
        while server_pid is not None and not sampling.wait(RSS_SAMPLE_SECONDS):
            rss = server_rss_mb(server_pid)
            if rss is not None:
                rss_samples.append(rss)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
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
    sampling.set()
    sampler.join()

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
        "bad_files": threads * sum(bodies[number % len(bodies)][2] != 200 for number in range(requests_per_thread)),
        # At the start, each quarter of the run and the end: whether the server's memory levels off or keeps growing.
        "server_rss_mb": (
            {
                "first": round(rss_samples[0]),
                "last": round(rss_samples[-1]),
                "max": round(max(rss_samples)),
                "by_quarter": [round(rss_samples[min(len(rss_samples) - 1, len(rss_samples) * quarter // 4)]) for quarter in range(5)],
            }
            if rss_samples
            else None
        ),  # fmt: skip
    }


# ---------------------------------------------------------------------------------------
# Command line.


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load-test POST /predict of the Flask server on loopback.")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--requests", type=int, default=300, help="requests per thread (default 300)")
    parser.add_argument("--url", help="test a server already running at this base URL instead of starting one")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON report (default {DEFAULT_OUT})")
    parser.add_argument("--photos", action="store_true", help="plain and busy product photos and damaged files, not 28x28 images")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.requests < 1:
        parser.error("--threads and --requests must be at least 1")

    if args.url:
        server_description = f"already running at {args.url}"
        report = run_load_test(args.url.rstrip("/"), args.threads, args.requests, args.photos)
    else:
        with running_flask() as (base_url, process, *_):
            server_description = "Werkzeug threaded server, subprocess: " + shlex.join(["python", *flask_command(0)[1:-2]])
            report = run_load_test(base_url, args.threads, args.requests, args.photos, process.pid)

    uploads = (
        "rendered product photos on plain and busy backgrounds (JPEG, PNG, WebP), 1 in 4 a damaged file expecting 400"
        if args.photos
        else "28x28 PNG test images"
    )
    report = {
        "endpoint": f"POST /predict (multipart field 'file', {uploads})",
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
    if report["server_rss_mb"]:
        print(f"server RSS  {report['server_rss_mb']} MB (first, last, max; by_quarter: at the start and after each quarter of the run)")
    print(f"report      {args.out}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
