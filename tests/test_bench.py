"""The benchmark CLI end to end in --quick mode: every section is there with positive numbers.

Not a timed test: the quick numbers mean nothing and nothing here asserts on speed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.browser import CHROMIUM
from bench.speed import TARGETS
from bench.timing import latency_summary, percentile
from cnn.config import PROJECT_DIR
from cnn.data import find_data_dir
from cnn.evaluate import check_targets, lookup
from cnn.registry import MODEL_NAMES

pytestmark = pytest.mark.slow


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
        [sys.executable, "-m", "bench.speed", "--quick", "--out", str(out), *app_part],
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
    assert quick_report["command"].startswith("python -m bench.speed --quick")
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


def test_photos_section(quick_report):
    for key in ("plain_photo_ms", "busy_photo_ms", "boxed_photo_ms"):
        assert_latency(quick_report["photos"][key])


def test_explain_section(quick_report):
    assert_latency(quick_report["explain"]["feature_maps_page_ms"])
    assert_latency(quick_report["explain"]["draw_page_ms"])


def test_batch_section(quick_report):
    batch = quick_report["batch"]
    assert batch["images"] == 256
    for key in ("raw_model_images_per_second", "png_images_per_second", "arrays_images_per_second",
                "canvas_png_images_per_second", "png_fraction_of_raw", "arrays_fraction_of_raw",
                *(f"decode_images_per_second.{decoder}" for decoder in ("pillow", "decode_image"))):  # fmt: skip
        assert positive(lookup(batch, key)), key
    # Decoding PNGs only adds work: a batch of them cannot run much faster than the model on ready arrays.
    assert 0 < batch["png_fraction_of_raw"] <= 1.2 and batch["png_images_per_second"] <= 1.2 * batch["raw_model_images_per_second"]
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
    assert positive(app["flask"]["cold_start_seconds"]) and positive(app["flask"]["rss_mb"])
    assert positive(app["streamlit"]["rss_mb"]) and positive(app["streamlit"]["rss_after_sessions_mb"])
    visits = app["streamlit"]["page_cold_visit_seconds"]
    assert list(visits) == ["Home", "Draw", "Upload", "Feature_maps", "Training", "Explore"]
    assert all(positive(seconds) for seconds in visits.values())
    for part in ("browser", "sessions"):
        for key in ("prediction_ms", "everything_ms", "browser_ms"):
            assert_latency(app[part][key])
        # The views below the answer come with or after it, never before.
        assert app[part]["everything_ms"]["p50"] >= app[part]["prediction_ms"]["p50"] * 0.99
    assert app["sessions"]["sessions"] == 2 and app["sessions"]["errors"] == 0


def test_one_percentile_helper_picks_measured_values():
    times = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(times, 0.5) == 3.0 and percentile(times, 0.99) == 5.0 and percentile(times, 0.01) == 1.0
    assert latency_summary(times) == {"p50": 3.0, "p99": 5.0, "max": 5.0, "mean": 3.0, "calls": 5}


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


def test_flask_load_test_with_photos_and_damaged_files(tmp_path):
    """--photos: plain and busy photos answered 200, damaged files 400 (counted as right), the server's memory sampled."""
    from bench.loadtest import main

    out = tmp_path / "loadtest.json"
    assert main(["--photos", "--threads", "2", "--requests", "8", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["requests"] == 16 and report["errors"] == 0 and report["bad_files"] == 4
    assert "damaged" in report["endpoint"]
    rss = report["server_rss_mb"]
    assert rss is None or 0 < rss["first"] <= rss["max"]  # None off Linux
