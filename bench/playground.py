"""The Playground's figures: throughput per preset, time to 85% for the default, memory, other sessions.

    python -m bench.playground [--out assets/playground.json] [--sessions 8] [--rounds 2]

1. Every preset trained once by the trainer as the page runs it (cnn/playground.py, Keras on JAX, in its
   training process): images a second, seconds, validation and test accuracy, and for each the moment its first
   curve point and its first validation accuracy of 85% or more were published, from the moment Train queued it.
2. The app as users meet it: `streamlit run` and Chromium. On a new server (JAX's compilation cache emptied)
   the Playground page is opened and left five seconds (its training process imports the framework
   meanwhile), then Train pressed on the default preset: browser-clock seconds to the first "Validation
   accuracy" on screen and to one of 85% or more; the resident memory of the server and of its training
   process sampled every half second during the run (the peak of their sum). Then the same on the warm
   server, as every later visitor finds it.
3. After one round not counted (the Draw page's first visits load its models), `--rounds` times:
   `--sessions` tabs draw one stroke at the same moment with no run, then the Tiny CNN (30
   epochs) starts training in one tab, the tabs draw again, then Stop: pen-up to answer, as bench.apps measures
   it, with and without the run on the same server, and whether the run was still training.
"""

import argparse
import asyncio
import json
import re
import shutil
import threading
import time
from pathlib import Path

from bench.apps import concurrent_strokes, server_and_trainer_rss_mb, summaries
from bench.browser import DESKTOP, SCRIPT_FINISHED, chromium
from bench.servers import running_streamlit
from cnn.playground import COMPILED_STEPS_FOLDER, ENDED, PRESETS, Trainer

TARGET_ACCURACY = 0.85
VALIDATION_TEXT = re.compile(r"Validation accuracy: (\d+\.\d)%")


def bench_presets() -> dict:
    """Each preset once, polled every 50 ms as the page would: its scores and when its curves first moved."""
    trainer = Trainer()
    trainer.pool()
    trainer.start()
    trainer.ready.wait()  # the training process imports and warms up the framework, as it does while the page is open
    figures = {}
    for name, preset in PRESETS.items():
        queued = time.monotonic()
        run = trainer.submit(preset.settings)
        first_point = reached = None
        while True:
            progress = run.snapshot()
            now = time.monotonic() - queued
            if first_point is None and progress.training_curve:
                first_point = now
            if reached is None and any(point[2] >= TARGET_ACCURACY for point in progress.validation_curve):
                reached = now
            if progress.state in ENDED:
                break
            time.sleep(0.05)
        scores = progress.result.scores if progress.result else {}
        figures[name] = {
            "state": progress.state,
            "message": progress.message,
            "images_per_second": round(progress.images_per_second),
            "seconds": round(progress.elapsed_seconds, 1),
            "first_curve_point_seconds": None if first_point is None else round(first_point, 2),
            "validation_85_seconds": None if reached is None else round(reached, 2),
            "validation_accuracy": scores.get("validation_accuracy"),
            "test_accuracy": scores.get("test_accuracy"),
            "parameters": scores.get("parameters"),
            "framework": scores.get("framework"),
            "settings": preset.settings.describe(),
            "images": preset.settings.images,
            "epochs": preset.settings.epochs,
        }
        print(name, json.dumps(figures[name]), flush=True)
    return {
        "presets": figures,
        "framework": next(preset["framework"] for preset in figures.values() if preset["framework"]),
        "training_images": trainer.pool().source,
    }


def validation_on_screen(tab) -> float | None:
    match = VALIDATION_TEXT.search(tab.locator('[data-testid="stMain"]').inner_text())
    return float(match.group(1)) / 100 if match else None


def open_playground(browser, base_url: str):
    tab = browser.new_page(viewport=DESKTOP)
    tab.set_default_timeout(180_000)
    tab.goto(f"{base_url}/Playground")
    tab.get_by_text("Data augmentation").wait_for()
    tab.wait_for_selector(SCRIPT_FINISHED)
    return tab


def train_default_on_screen(tab) -> dict:
    """Press Train on the default preset and read the page every 0.1 s until its results show: seconds from
    the click to the first 'Validation accuracy' (published with the first curve point), to 85%, to the end."""
    pressed = time.monotonic()
    tab.get_by_role("button", name="Train", exact=True).click()
    first_shown = reached = None
    while not tab.get_by_text("Beside the shipped models").count():
        accuracy = validation_on_screen(tab)
        now = time.monotonic() - pressed
        if accuracy is not None and first_shown is None:
            first_shown = now
        if accuracy is not None and accuracy >= TARGET_ACCURACY and reached is None:
            reached = now
        if now > 180:
            tab.screenshot(path="test-artifacts/bench-playground.png", full_page=True)
            raise RuntimeError("The default preset did not finish within 3 minutes: test-artifacts/bench-playground.png")
        time.sleep(0.1)
    finished = time.monotonic() - pressed
    final = validation_on_screen(tab)  # the last epoch's figure, shown with the results
    if reached is None and final is not None and final >= TARGET_ACCURACY:
        reached = finished
    return {
        "first_validation_on_screen_seconds": None if first_shown is None else round(first_shown, 2),
        "validation_85_on_screen_seconds": None if reached is None else round(reached, 2),
        "finished_on_screen_seconds": round(finished, 2),
    }


def strokes_at_once(base_url: str, sessions: int, polling_tab) -> list[dict]:
    """One round of bench.apps' concurrent strokes: `sessions` tabs of another Chromium each draw one stroke at
    the same moment; polling_tab (a Playground tab, or None) keeps polling meanwhile, as an open page does."""
    # Playwright's synchronous API and the drawing sessions' event loop run in separate threads.
    drawn: list = []
    drawing = threading.Thread(target=lambda: drawn.append(asyncio.run(concurrent_strokes(base_url, sessions, 1))))
    drawing.start()
    while drawing.is_alive():
        if polling_tab is None:
            drawing.join(0.5)
        else:
            polling_tab.wait_for_timeout(500)
    return drawn[0][0]


def bench_app(sessions: int, rounds: int) -> dict:
    """The default preset pressed in a browser, on a new server and again once it is warm, with the server's
    memory sampled; then sessions drawing while a run trains."""
    shutil.rmtree(COMPILED_STEPS_FOLDER, ignore_errors=True)  # a new server, as on a fresh Community Cloud container
    with running_streamlit() as (base_url, process, _, _):
        idle_memory = server_and_trainer_rss_mb(process.pid)
        with chromium() as browser:
            tab = open_playground(browser, base_url)
            opened_memory = server_and_trainer_rss_mb(process.pid)
            tab.wait_for_timeout(5_000)
            samples, sampling = [], threading.Event()

            def sample() -> None:
                while not sampling.is_set():
                    samples.append(server_and_trainer_rss_mb(process.pid))
                    time.sleep(0.5)

            sampler = threading.Thread(target=sample)
            sampler.start()
            new_server = train_default_on_screen(tab)
            sampling.set()
            sampler.join()
            tab.close()
            tab = open_playground(browser, base_url)  # the trainer is ready now, as every later visitor finds it
            warm_server = train_default_on_screen(tab)
            tab.close()

            # Each round: first the sessions draw with no run (the same server and browsers: the machine's own
            # figure), then a run of the default preset with 30 epochs (longer than a round of strokes, within the
            # 5-minute limit) is started in one tab, the sessions draw again at once, and Stop.
            strokes_at_once(base_url, sessions, None)  # not counted: the Draw page's first visits load its models
            rounds_run, without_run = [], []
            for _ in range(rounds):
                without_run.append(strokes_at_once(base_url, sessions, None))
                trainer_tab = open_playground(browser, base_url)
                trainer_tab.locator('[data-testid="stSlider"]', has_text="Epochs").get_by_role("slider").press("End")
                trainer_tab.get_by_text("Epochs").first.wait_for()
                trainer_tab.wait_for_timeout(1_000)
                trainer_tab.wait_for_selector(SCRIPT_FINISHED)
                trainer_tab.get_by_role("button", name="Train", exact=True).click()
                trainer_tab.get_by_text(VALIDATION_TEXT).first.wait_for()
                began = trainer_tab.get_by_text(re.compile(r"Epoch \d+ of \d+")).first.inner_text()
                timings = strokes_at_once(base_url, sessions, trainer_tab)
                stop = trainer_tab.get_by_role("button", name="Stop")
                still_training = stop.count() > 0
                ended = trainer_tab.get_by_text(re.compile(r"Epoch \d+ of \d+")).first.inner_text()
                ended_with = [
                    text for text in trainer_tab.locator('[data-testid="stAlert"]').all_inner_texts() if "What to watch for" not in text
                ]
                memory_with_sessions = server_and_trainer_rss_mb(process.pid)
                if still_training:
                    stop.click()
                    trainer_tab.get_by_text("Your network").wait_for()
                trainer_tab.close()
                rounds_run.append({"timings": timings, "run_when_the_strokes_began": began, "run_after_the_strokes": ended,
                                   "still_training": still_training, "ended_with": None if still_training else ended_with})  # fmt: skip
    strokes = [timing for round_run in rounds_run for timing in round_run["timings"]]
    return {
        "default_preset": {
            "new_server": new_server,
            "warm_server": warm_server,
            "memory_idle_mb": idle_memory,
            "memory_page_open_mb": opened_memory,
            "memory_peak_during_run_mb": max(samples, key=lambda sample: sample["total_mb"]),
            "how": "Chromium on the Playground page. New server: a fresh `streamlit run` with JAX's compilation cache emptied, "
            "the page left 5 s after it opened (the trainer imports and warms up Keras meanwhile), then Train on the Tiny CNN "
            "preset, the resident memory (VmRSS) of the server and of its training process sampled every 0.5 s during that run (the peak of their sum). Warm server: the page opened "
            "again afterwards, as every later visitor finds the server, and Train pressed at once. Seconds from the click to the "
            "first 'Validation accuracy: NN.N%' in the page (published with the first curve point), to one of 85% or more, to the results",
        },
        "sessions_while_training": {
            **summaries(strokes),
            "round_prediction_p50_ms": [summaries(round_run["timings"])["prediction_ms"]["p50"] for round_run in rounds_run],
            "without_a_run": {
                **summaries([timing for timings in without_run for timing in timings]),
                "round_prediction_p50_ms": [summaries(timings)["prediction_ms"]["p50"] for timings in without_run],
            },
            "sessions": sessions,
            "rounds": rounds,
            "run_still_training_after_the_strokes": all(round_run["still_training"] for round_run in rounds_run),
            "run_when_the_strokes_began": [round_run["run_when_the_strokes_began"] for round_run in rounds_run],
            "run_after_the_strokes": [round_run["run_after_the_strokes"] for round_run in rounds_run],
            "runs_that_ended_during_the_strokes": [round_run["ended_with"] for round_run in rounds_run if not round_run["still_training"]],
            "memory_mb": memory_with_sessions,
            "how": f"After one round not counted, {rounds} rounds, each: {sessions} tabs each draw one stroke at the same moment with no run (without_a_run), then one "
            f"tab starts the Tiny CNN preset with epochs set to 30, the {sessions} tabs draw again at once, then Stop (bench.apps' "
            "concurrent strokes, in a second Chromium): pen-up to answer in the browser's clock",
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("assets/playground.json"))
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--app-only", action="store_true", help="leave out the presets (part 1)")
    args = parser.parse_args(argv)
    report = {"command": f"python -m bench.playground --sessions {args.sessions} --rounds {args.rounds}"}
    if not args.app_only:
        report |= bench_presets()
    report |= bench_app(args.sessions, args.rounds)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({key: value for key, value in report.items() if key != "presets"}, indent=2))


if __name__ == "__main__":
    main()
