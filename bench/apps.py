"""Cold start, memory and stroke-to-prediction of the two apps, measured from outside.

    python -m bench.apps --out apps.json [--strokes 12] [--app streamlit_app.py]

Flask: `flask --app cnn.server run` in a subprocess, timed from process start to GET /health
answering 200; its resident memory (RSS) after a few POST /predict of canvas PNGs.
Streamlit: `streamlit run streamlit_app.py` in a subprocess, timed from process start to the
home page rendered in headless Chromium (its script loads the model); then on the Draw page, a mouse
stroke on the canvas, timed in the browser from mouse-up to the prediction text changing;
then the app's resident memory, and again after a visit to every other page.
`python -m cnn.bench` runs this and merges the report.
"""

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from bench.loadtest import free_loopback_port, multipart_body
from cnn.bench import canvas_pngs, latency_summary
from cnn.config import PROJECT_DIR

START_TIMEOUT_SECONDS = 180  # generous: a cold start on a busy machine is what is being measured
POLL_SECONDS = 0.02
FLASK_PREDICTIONS = 5
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip

# The DOM the Streamlit pages agree on (see the Draw page): a page has rendered when Streamlit
# reports its script run finished; the Draw page's canvas is the sketch_canvas component's
# <canvas> (Playwright's CSS selectors reach into its shadow root), and its answer sits in
# st.container(key="prediction").
SCRIPT_FINISHED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CANVAS = "canvas.sketch-canvas"
PREDICTION = ".st-key-prediction"
DRAW_PAGE = "Draw"
OTHER_PAGES = ("Upload", "Feature_maps", "Training", "Explore")  # URL paths, visited for the memory of a full tour
# Closed outlines in canvas fractions, each drawn as one mouse stroke.
TROUSERS = [(0.3, 0.15), (0.7, 0.15), (0.72, 0.85), (0.55, 0.85), (0.5, 0.4), (0.45, 0.85), (0.28, 0.85), (0.3, 0.15)]
BAG = [(0.2, 0.4), (0.8, 0.4), (0.8, 0.85), (0.2, 0.85), (0.2, 0.4), (0.35, 0.4), (0.4, 0.2), (0.6, 0.2), (0.65, 0.4)]
T_SHIRT = [
    (0.35, 0.15), (0.65, 0.15), (0.9, 0.35), (0.8, 0.45), (0.7, 0.4), (0.7, 0.85),
    (0.3, 0.85), (0.3, 0.4), (0.2, 0.45), (0.1, 0.35), (0.35, 0.15),
]  # fmt: skip
SHOE = [(0.15, 0.3), (0.3, 0.3), (0.35, 0.55), (0.85, 0.6), (0.88, 0.75), (0.15, 0.75), (0.15, 0.3)]
STROKES = (TROUSERS, BAG, T_SHIRT, SHOE)

# Before any page script: remember when the page sends on its websocket, to split a stroke's
# latency into the canvas' own work (PNG encoding) and the app's rerun.
RECORD_WEBSOCKET_SENDS = """
window.websocketSends = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
    window.websocketSends.push(performance.now());
    return send.call(this, data);
};
"""


# ---------------------------------------------------------------------------------------
# Processes.


@contextmanager
def started(command: list[str]) -> Iterator[tuple[subprocess.Popen, float, Path]]:
    """Run command from the project folder, yield (process, start time, log path); stop it on exit."""
    with tempfile.NamedTemporaryFile(prefix="bench-apps-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        began = time.perf_counter()
        # A file, not a pipe: a full pipe would block the app.
        process = subprocess.Popen(command, cwd=PROJECT_DIR, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
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
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
        return False  # Not listening yet, or still loading.


def memory_mb(pid: int) -> dict:
    """Resident memory of a process from /proc in MB (10^6 bytes): in total, anonymous, and file-backed.

    File-backed pages are mostly shared libraries (TensorFlow's is 750 MB on disk): shared
    between processes and reclaimable, unlike the anonymous ones.
    """
    fields = {"VmRSS": "rss_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb"}
    memory = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in fields:
            memory[fields[name]] = round(int(value.split()[0]) * 1024 / 1e6, 1)
    return memory


# ---------------------------------------------------------------------------------------
# Flask.


def bench_flask() -> dict:
    """Process start to /health answering 200, then RSS after a few uploads of canvas PNGs."""
    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "flask", "--app", "cnn.server", "run", "--host", "127.0.0.1", "--port", str(port)]
    with started(command) as (process, began, log_path):
        healthy = wait_until(lambda: answers_200(f"{base_url}/health"), process, log_path, "Flask /health")
        for png in canvas_pngs(FLASK_PREDICTIONS):
            body, content_type = multipart_body(png)
            request = urllib.request.Request(f"{base_url}/predict", data=body, headers={"Content-Type": content_type})
            with urllib.request.urlopen(request, timeout=60) as response:
                json.loads(response.read())["prediction"]  # a KeyError here means the server answered an error
        return {
            "cold_start_seconds": round(healthy - began, 3),
            **memory_mb(process.pid),
            "predictions_before_rss": FLASK_PREDICTIONS,
            "command": "python -m flask --app cnn.server run",
        }


# ---------------------------------------------------------------------------------------
# Streamlit in Chromium.


def draw_stroke(page, points: list[tuple[float, float]]) -> None:
    """Draw one stroke through points (canvas fractions) and release the mouse."""
    box = page.locator(CANVAS).bounding_box()
    xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for point in xy[1:]:
        page.mouse.move(*point, steps=6)  # a stroke is the pointer moves in between
    page.mouse.up()


def stroke_timings(page, points: list[tuple[float, float]]) -> dict:
    """Milliseconds in the browser's clock from mouse-up to the prediction text changing, and the split."""
    before = page.evaluate("(selector) => document.querySelector(selector)?.innerText ?? ''", PREDICTION)
    page.evaluate(
        "() => window.addEventListener('pointerup', () => { window.strokeEnded = performance.now() }, "
        "{capture: true, once: true})"
    )
    draw_stroke(page, points)
    page.wait_for_function(
        """([selector, before]) => {
            const text = document.querySelector(selector)?.innerText ?? '';
            if (text === before || text.trim() === '') return false;
            window.predictionShown = performance.now();
            return true;
        }""",
        arg=[PREDICTION, before],
        polling=5,
        timeout=30_000,
    )
    ended, sent, shown = page.evaluate(
        """() => [window.strokeEnded, window.websocketSends.find((time) => time >= window.strokeEnded),
                  window.predictionShown]"""
    )
    return {"total": shown - ended, "canvas": sent - ended, "app": shown - sent}


def streamlit_command(app: str, port: int) -> list[str]:
    """`streamlit run app` headless on a loopback port, with the project's .streamlit/config.toml."""
    return [
        sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def bench_streamlit(app: str, strokes: int) -> dict:
    """Cold start to the first page rendered with the model, stroke-to-prediction on the Draw page, then RSS."""
    from playwright.sync_api import sync_playwright

    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    command = streamlit_command(app, port)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.add_init_script(RECORD_WEBSOCKET_SENDS)
        with started(command) as (process, began, log_path):
            listening = wait_until(lambda: answers_200(f"{base_url}/_stcore/health"), process, log_path, "Streamlit")
            # A visitor's path: the home page, whose script ends by loading the model, then the Draw page.
            page.goto(base_url)
            page.wait_for_selector(SCRIPT_FINISHED, timeout=START_TIMEOUT_SECONDS * 1000)
            home_page = time.perf_counter()
            page.locator(f'a[data-testid="stPageLink-NavLink"][href$="{DRAW_PAGE}"]').first.click()  # the sidebar's
            page.wait_for_selector(CANVAS, timeout=START_TIMEOUT_SECONDS * 1000)  # only on the Draw page
            page.wait_for_selector(SCRIPT_FINISHED, timeout=START_TIMEOUT_SECONDS * 1000)
            draw_page = time.perf_counter()

            timings = []
            for index in range(strokes):
                page.goto(f"{base_url}/{DRAW_PAGE}")  # a fresh session: an empty canvas, so the answer changes
                page.wait_for_selector(CANVAS, timeout=60_000)
                page.wait_for_timeout(500)  # let the component finish mounting: its first value may rerun the page
                page.wait_for_selector(SCRIPT_FINISHED, timeout=60_000)
                timings.append(stroke_timings(page, STROKES[index % len(STROKES)]))
            screenshot = Path(tempfile.gettempdir()) / "bench-apps-draw.png"
            page.screenshot(path=screenshot, full_page=True)
            memory = memory_mb(process.pid)
            for name in OTHER_PAGES:
                page.goto(f"{base_url}/{name}")
                page.wait_for_timeout(500)  # let the page's first script run begin
                page.wait_for_selector(SCRIPT_FINISHED, timeout=START_TIMEOUT_SECONDS * 1000)
            memory_all_pages = memory_mb(process.pid)["rss_mb"]
        browser.close()
    return {
        "streamlit": {
            "cold_start_seconds": round(home_page - began, 3),
            "cold_start": "process start to the home page rendered in Chromium; its script ends by loading the model",
            "server_listening_seconds": round(listening - began, 3),
            "draw_page_seconds": round(draw_page - began, 3),
            "draw_page": "process start to the Draw page rendered, opened from the home page's sidebar",
            **memory,
            "predictions_before_rss": strokes,
            "rss_after_every_page_mb": memory_all_pages,
            "rss_after_every_page": "RSS after then visiting every other page once (the Training page classifies the test set)",
            "command": f"streamlit run {app} --server.headless true",
        },
        "browser": {
            "stroke_to_prediction_ms": latency_summary([timing["total"] for timing in timings]),
            "mouse_up_to_rerun_request_ms": latency_summary([timing["canvas"] for timing in timings]),
            "rerun_request_to_prediction_ms": latency_summary([timing["app"] for timing in timings]),
            "how": "Chromium (Playwright), Draw page, one closed stroke on a fresh canvas; browser clock from "
            "mouse-up to the text of .st-key-prediction changing, split at the page's first websocket send",
            "screenshot": str(screenshot),
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strokes", type=int, default=12, help="strokes drawn on the Draw page")
    parser.add_argument("--app", default="streamlit_app.py", help="the Streamlit main script")
    parser.add_argument("--out", type=Path, required=True, help="JSON report")
    args = parser.parse_args(argv)
    if args.strokes < 1:
        parser.error("--strokes must be at least 1")
    report = {"flask": bench_flask(), **bench_streamlit(args.app, args.strokes)}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
