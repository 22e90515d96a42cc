"""The benchmark CLI end to end in --quick mode: every section is there with positive numbers.

Not a timed test: the quick numbers mean nothing and nothing here asserts on speed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.apps import CHROMIUM
from cnn.bench import TARGETS
from cnn.evaluate import check_targets, lookup
from cnn.config import MODEL_NAMES, PROJECT_DIR
from cnn.data import find_data_dir


def positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def assert_latency(latency: dict) -> None:
    assert latency["calls"] >= 1
    assert all(positive(latency[key]) for key in ("p50", "p99", "mean")), latency
    assert latency["p50"] <= latency["p99"]


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory) -> dict:
    if find_data_dir() is None:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); .ci/run installs it.")
    out = tmp_path_factory.mktemp("bench") / "benchmark.json"
    # The app part drives Debian's Chromium; where it is missing (CI installs it) the rest still runs.
    app_part = [] if Path(CHROMIUM).exists() else ["--no-app"]
    completed = subprocess.run(
        [sys.executable, "-m", "cnn.bench", "--quick", "--out", str(out), *app_part],
        cwd=PROJECT_DIR,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = json.loads(out.read_text())
    report["stdout"] = completed.stdout
    return report


def test_report_describes_the_run(quick_report):
    assert quick_report["quick"] is True
    assert quick_report["command"].startswith("python -m cnn.bench --quick")
    assert quick_report["machine"]["cpu_model"] and positive(quick_report["machine"]["cores"])
    assert {"python", "tensorflow", "keras", "numpy", "pillow", "streamlit", "flask"} <= set(quick_report["versions"])
    assert quick_report["date"][:2] == "20"


def test_single_image_section(quick_report):
    single = quick_report["single_image"]
    for key in ("predict_ms", "predict_sketch_ms", "seeds_path_ms"):
        assert_latency(single[key])
    assert positive(single["speedup_p50"])
    assert set(single["stages_p50_ms"]) == {"decode", "preprocess", "preprocess_sketch", "model", "result"}
    assert all(positive(value) for value in single["stages_p50_ms"].values())


def test_explain_section(quick_report):
    assert_latency(quick_report["explain"]["feature_maps_page_ms"])


def test_batch_section(quick_report):
    batch = quick_report["batch"]
    assert batch["images"] == 256
    for key in ("raw_model_images_per_second", "png_images_per_second", "arrays_images_per_second",
                "canvas_png_images_per_second", "png_fraction_of_raw", "arrays_fraction_of_raw",
                *(f"decode_images_per_second.{decoder}" for decoder in ("pillow", "decode_image"))):  # fmt: skip
        assert positive(lookup(batch, key)), key
    raw = batch["raw_model_images_per_second"]
    assert batch["png_fraction_of_raw"] == round(batch["png_images_per_second"] / raw, 3)
    assert set(batch["png_bound_fraction_of_raw"]) == set(batch["decode_images_per_second"]) == {"pillow", "decode_image"}
    assert all(positive(bound) for bound in batch["png_bound_fraction_of_raw"].values())


def test_training_section_covers_every_model(quick_report):
    training = quick_report["training"]
    assert set(training) == set(MODEL_NAMES)
    for model_name, result in training.items():
        assert positive(result["images_per_second"]), model_name
        assert result["timed_steps"] >= 1 and result["batch_size"] >= 1
    assert training["cnn"]["augmentation"] is True  # the shipped model trains with the augmentation pipeline


def test_app_section(quick_report):
    if "app" not in quick_report:
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    app = quick_report["app"]
    for part in ("flask", "streamlit"):
        assert positive(app[part]["cold_start_seconds"]), part
        assert positive(app[part]["rss_mb"]), part
    assert app["streamlit"]["rss_after_every_page_mb"] >= app["streamlit"]["rss_mb"] * 0.9  # measured after the Draw page
    assert app["streamlit"]["draw_page_seconds"] > app["streamlit"]["cold_start_seconds"]  # the Draw page comes after Home
    browser = app["browser"]
    for key in ("stroke_to_prediction_ms", "mouse_up_to_rerun_request_ms", "rerun_request_to_prediction_ms"):
        assert_latency(browser[key])


def test_every_target_is_measured_and_judged(quick_report):
    targets = quick_report["targets"]
    assert [target["name"] for target in targets] == [name for name, *_ in TARGETS]
    if "app" not in quick_report:  # measured without Chromium: the app targets stay unmeasured
        targets = [target for target in targets if target["met"] is not None]
        assert len(targets) == sum(not dotted.startswith("app.") for _, dotted, *_ in TARGETS)
    for target in targets:
        assert positive(target["measured"]), target
        assert isinstance(target["met"], bool), target
        assert target["name"] in quick_report["stdout"]  # the printed table shows every verdict


def test_targets_compare_in_the_right_direction():
    report = {
        "single_image": {"speedup_p50": 31.0, "predict_ms": {"p50": 2.5}},
        "explain": {"feature_maps_page_ms": {"p50": 15.0}},
        "batch": {"png_fraction_of_raw": 0.5},
    }
    verdicts = {target["name"]: target["met"] for target in check_targets(report, TARGETS)}
    assert verdicts["predict() speed-up over the seeds' path"] is True  # at least 30x
    assert verdicts["predict() p50"] is False  # at most 2 ms
    assert verdicts["prediction + feature maps + Grad-CAM p50"] is True  # the bound itself meets it
    assert verdicts["predict_batch (PNG) vs raw model"] is False
    assert verdicts["Flask cold start to /health"] is None  # not measured


def test_flask_load_test_runs_and_counts_every_request(tmp_path):
    """bench.loadtest against its own Flask subprocess: a small bounded run, every request answered."""
    from bench.loadtest import main

    out = tmp_path / "loadtest.json"
    assert main(["--threads", "2", "--requests", "5", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["requests"] == 10 and report["errors"] == 0
    assert positive(report["throughput_rps"])
    assert_latency(report["latency_ms"] | {"calls": report["requests"]})
