"""Cold start, page times, memory and stroke latency of the two apps, measured from outside.

    python -m bench.apps --out apps.json [--strokes 12] [--sessions 8] [--rounds 3]

Flask: `flask --app cnn.server run` in a subprocess, timed from process start to GET /health
answering 200; its resident memory (RSS) after a few POST /predict of canvas PNGs.

Streamlit: `streamlit run streamlit_app.py` in a subprocess, driven by headless Chromium:
- every page's cold first visit: each page opened once, in a fresh tab, timed in the browser from
  navigation start to its script run finished (the first tab also pays for loading Streamlit's
  JavaScript);
- one session drawing: a mouse stroke on the Draw page's canvas, timed in the browser from
  mouse-up to the prediction changing and to the last of the Draw page's views updating;
- the server's resident memory after that tour;
- `--sessions` tabs drawing at the same moment, each timed the same way, `--rounds` times with fresh
  tabs (new sessions): the server and the browsers share this machine's cores, so the report also
  gives how long the browser's own work (mouse-up to the page's websocket message) took.
`python -m bench.speed` runs this and merges the report.
"""

import argparse
import asyncio
import json
import time
import urllib.request
from pathlib import Path

from bench.browser import CANVAS, CHROMIUM, CHROMIUM_ARGS, DESKTOP, PREDICTION, SCRIPT_FINISHED, STROKES, chromium, draw_stroke, on_box
from bench.loadtest import multipart_body
from bench.servers import START_TIMEOUT_SECONDS, running_flask, running_streamlit
from bench.timing import latency_summary

FLASK_PREDICTIONS = 5
# (URL path, the page's title as shown) in menu order; Home is the root.
PAGE_VISITS = (("", "Fashion-MNIST CNN"), ("Draw", "Draw"), ("Upload", "Upload"), ("Feature_maps", "Feature maps"),
               ("Training", "Training"), ("Explore", "Explore"))  # fmt: skip
INSIGHTS = ".st-key-insights"  # the Draw page's live views, filled after the prediction

# Before any page script: remember when the page sends on its websocket, to split a stroke's
# latency into the canvas' own work (PNG encoding) and the app's rerun.
RECORD_WEBSOCKET_SENDS = """
window.websocketSends = [];
window.websocketReceives = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
    window.websocketSends.push(performance.now());
    if (!this.recordsReceives) {
        this.recordsReceives = true;
        this.addEventListener('message', () => window.websocketReceives.push(performance.now()));
    }
    return send.call(this, data);
};
"""
# Before a stroke: watch the page's DOM (a MutationObserver, not polling, which would itself keep the
# browser busy) and note when the prediction's text changes and when the script run has finished with the
# live views on the page. window.strokeAnswered resolves with the browser-clock times split() takes.
ARM_STROKE_TIMER = """([prediction, insights]) => {
    const text = () => document.querySelector(prediction)?.textContent ?? '';
    const before = text();
    let strokeEnded, predictionShown;
    window.addEventListener('pointerup', () => { strokeEnded = performance.now() }, {capture: true, once: true});
    window.strokeAnswered = new Promise((resolve) => {
        const check = () => {
            if (strokeEnded === undefined) return;
            if (predictionShown === undefined && text() !== before && text().trim() !== '') predictionShown = performance.now();
            const finished = document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === 'notRunning';
            if (predictionShown === undefined || !finished || !document.querySelector(insights)) return;
            observer.disconnect();
            const sent = window.websocketSends.find((time) => time >= strokeEnded);
            const received = window.websocketReceives.filter((time) => time >= sent && time <= predictionShown);
            resolve([strokeEnded, sent, predictionShown, performance.now(), received.length ? received[received.length - 1] : sent]);
        };
        const observer = new MutationObserver(check);
        observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
    });
}"""
WAIT_FOR_ANSWER = "() => window.strokeAnswered"


def memory_mb(pid: int) -> dict:
    """Resident memory of a process from /proc in MB (10^6 bytes): in total, anonymous, and file-backed."""
    fields = {"VmRSS": "rss_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb"}
    memory = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in fields:
            memory[fields[name]] = round(int(value.split()[0]) * 1024 / 1e6, 1)
    return memory


def children(pid: int) -> list[int]:
    """The processes pid started that still run (the Playground's training process under Streamlit's server)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def server_and_trainer_rss_mb(pid: int) -> dict:
    """Resident memory in MB of the server, of the processes it started, and of both together."""
    server = memory_mb(pid)["rss_mb"]
    started = sum(memory_mb(child)["rss_mb"] for child in children(pid) if Path(f"/proc/{child}").exists())
    return {"server_mb": server, "training_process_mb": round(started, 1), "total_mb": round(server + started, 1)}


# ---------------------------------------------------------------------------------------
# Flask.


def bench_flask() -> dict:
    """Process start to /health answering 200, then RSS after a few uploads of canvas PNGs."""
    from bench.speed import canvas_pngs

    with running_flask() as (base_url, process, began, healthy):
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


def visit_cold(browser, url: str, title: str) -> float:
    """Seconds, in the browser's clock, from navigating a fresh tab to the page's script run finished."""
    tab = browser.new_page(viewport=DESKTOP)
    try:
        tab.goto(url, wait_until="commit")
        tab.wait_for_selector(f'h1:has-text("{title}")', timeout=START_TIMEOUT_SECONDS * 1000)
        tab.wait_for_selector(SCRIPT_FINISHED, timeout=START_TIMEOUT_SECONDS * 1000)
        return round(tab.evaluate("() => performance.now()") / 1000, 3)
    finally:
        tab.close()


def open_draw_page(tab, base_url: str) -> None:
    tab.goto(f"{base_url}/Draw")
    tab.wait_for_selector(CANVAS, timeout=START_TIMEOUT_SECONDS * 1000)
    tab.wait_for_timeout(500)  # let the component finish mounting: its first value may rerun the page
    tab.wait_for_selector(SCRIPT_FINISHED, timeout=60_000)


def stroke_timing(tab, points) -> dict:
    """Milliseconds in the browser's clock from mouse-up to the prediction changing, and to every view drawn."""
    tab.evaluate(ARM_STROKE_TIMER, [PREDICTION, INSIGHTS])
    draw_stroke(tab, points)
    return split(*tab.evaluate(WAIT_FOR_ANSWER))


def split(ended: float, sent: float, shown: float, everything: float, received: float) -> dict:
    """A stroke's milliseconds: pen lifted to the prediction and to every view on screen, and the part of the
    prediction's time that is the browser's own: its work before its message leaves (the canvas's PNG) plus
    its work after the last server message before the answer showed (drawing the page)."""
    return {"prediction": shown - ended, "everything": everything - ended, "browser": (sent - ended) + (shown - received)}


def summaries(timings: list[dict]) -> dict:
    return {f"{name}_ms": latency_summary([timing[name] for timing in timings]) for name in ("prediction", "everything", "browser")}


async def concurrent_strokes(base_url: str, sessions: int, rounds: int) -> list[list[dict]]:
    """`rounds` times: `sessions` fresh tabs, each its own Streamlit session, draw one stroke at the same moment."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        timings = []
        for _ in range(rounds):
            tabs = [await browser.new_page(viewport=DESKTOP) for _ in range(sessions)]
            for tab in tabs:
                await tab.add_init_script(RECORD_WEBSOCKET_SENDS)
            await asyncio.gather(*(prepare_tab(tab, base_url) for tab in tabs))
            timings.append(await asyncio.gather(*(draw_async(tab, STROKES[index % len(STROKES)]) for index, tab in enumerate(tabs))))
            await asyncio.gather(*(tab.close() for tab in tabs))
        await browser.close()
        return timings


async def prepare_tab(tab, base_url: str) -> None:
    await tab.goto(f"{base_url}/Draw")
    await tab.wait_for_selector(CANVAS, timeout=START_TIMEOUT_SECONDS * 1000)
    await tab.wait_for_timeout(1000)
    await tab.wait_for_selector(SCRIPT_FINISHED, timeout=START_TIMEOUT_SECONDS * 1000)


async def draw_async(tab, points) -> dict:
    await tab.evaluate(ARM_STROKE_TIMER, [PREDICTION, INSIGHTS])
    xy = on_box(await tab.locator(CANVAS).bounding_box(), points)
    await tab.mouse.move(*xy[0])
    await tab.mouse.down()
    for point in xy[1:]:
        await tab.mouse.move(*point, steps=6)
    await tab.mouse.up()
    return split(*await tab.evaluate(WAIT_FOR_ANSWER))


def bench_streamlit(strokes: int, sessions: int, rounds: int) -> dict:
    """Cold page visits, one session's strokes, memory after the tour, then concurrent sessions."""
    with running_streamlit() as (base_url, process, began, listening):
        with chromium() as browser:
            page_seconds = {}
            for path, title in PAGE_VISITS:
                page_seconds[path or "Home"] = visit_cold(browser, f"{base_url}/{path}", title)
            first_visit = time.perf_counter()

            tab = browser.new_page(viewport=DESKTOP)
            tab.add_init_script(RECORD_WEBSOCKET_SENDS)
            timings = []
            for index in range(strokes):
                open_draw_page(tab, base_url)  # a fresh session each time: an empty canvas, so the answer changes
                timings.append(stroke_timing(tab, STROKES[index % len(STROKES)]))
            tab.close()
            memory = memory_mb(process.pid)
        # Playwright's synchronous browser is closed first: the sessions need an event loop of their own.
        concurrent_rounds = asyncio.run(concurrent_strokes(base_url, sessions, rounds))
        memory_after_sessions = memory_mb(process.pid)["rss_mb"]
    return {
        "streamlit": {
            "server_listening_seconds": round(listening - began, 3),
            "tour_seconds": round(first_visit - began, 3),
            "page_cold_visit_seconds": page_seconds,
            "page_cold_visit": "each page once, in a fresh tab, in the order of the menu: browser clock from navigation "
            "to the page's script run finished; the first tab also loads Streamlit's JavaScript",
            **memory,
            "rss": "after the cold visit of every page and the single-session strokes",
            "rss_after_sessions_mb": memory_after_sessions,
            "command": "streamlit run streamlit_app.py --server.headless true",
        },
        "browser": {
            **summaries(timings),
            "strokes": strokes,
            "how": "Chromium (Playwright), Draw page, one closed stroke on a fresh canvas; browser clock from mouse-up "
            "to the text of .st-key-prediction changing (prediction), to the page's script run finished with the live "
            "views drawn (everything); browser: the browser's own share of the prediction's time, its work before its "
            "websocket message leaves plus after the last server message before the answer shows",
        },
        "sessions": {
            **summaries([timing for round_timings in concurrent_rounds for timing in round_timings]),
            "round_prediction_p50_ms": [
                latency_summary([timing["prediction"] for timing in round_timings])["p50"] for round_timings in concurrent_rounds
            ],  # fmt: skip
            "sessions": sessions,
            "rounds": rounds,
            "errors": 0,  # a session that failed would have raised: the run does not get this far
            "how": f"{sessions} tabs of one Chromium, each its own session, draw one stroke at the same moment, "
            f"{rounds} times with fresh tabs; percentiles over all {sessions * rounds} strokes; the browsers share the "
            "machine's cores with the server",
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strokes", type=int, default=12, help="strokes drawn on the Draw page by one session")
    parser.add_argument("--sessions", type=int, default=8, help="sessions drawing at the same time")
    parser.add_argument("--rounds", type=int, default=3, help="how many times fresh sessions draw at once")
    parser.add_argument("--out", type=Path, required=True, help="JSON report")
    args = parser.parse_args(argv)
    if min(args.strokes, args.sessions, args.rounds) < 1:
        parser.error("--strokes, --sessions and --rounds must be at least 1")
    report = {"flask": bench_flask(), **bench_streamlit(args.strokes, args.sessions, args.rounds)}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
