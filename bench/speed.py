"""Speed, start-up and memory of the project, beside the seeds' naive path, in one run.

    python -m bench.speed [--quick] [--out assets/benchmark.json] [--no-app]

Prints a table and writes JSON (config.BENCHMARK_PATH by default; the app's Training page
shows it). In this process: single-image predict() against the seeds' path on the same model,
predict + feature maps + Grad-CAM, batch throughput against the raw model, and training
throughput of every model. In subprocesses (`python -m bench.apps`, which drives Chromium):
cold start and memory of the Flask server, every page's cold first visit and the memory of the
Streamlit app, stroke latency on the Draw page for one session and for several at once. --quick runs a few iterations of everything, for CI; its numbers mean nothing.
Timings taken while another heavy process runs (such as `cnn.train`) mean nothing either:
the report records the load average and any training process it saw.
"""

import argparse
import io
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from bench.timing import latency_summary, percentile, time_calls
from cnn.artifacts import library_versions, write_json
from cnn.config import BENCHMARK_PATH, CLASS_NAMES, DEFAULT_MODEL, IMAGE_SIZE, PROJECT_DIR, SEED
from cnn.evaluate import Target, check_targets

BATCH_SIZE = 256
CANVAS_INPUTS = 32  # distinct drawings cycled through, so every call does the full work


@dataclass(frozen=True)
class Settings:
    single_calls: int  # timed calls per single-image path
    explain_calls: int
    batch_repeats: int  # timed predict_batch calls of BATCH_SIZE images
    warmup_calls: int
    training_warmup_steps: int  # first steps trace the graph and fill the shuffle buffer: not timed
    training_steps: int
    app_strokes: int  # browser strokes on the Draw page
    app_sessions: int  # browser sessions drawing at the same time
    app_rounds: int  # how many times that many fresh sessions draw at once


FULL = Settings(300, 100, 20, 10, 20, 200, 12, 8, 3)
QUICK = Settings(10, 5, 2, 2, 2, 3, 1, 2, 1)

# The targets for this 2-core machine (see cnn.evaluate.Target).
TARGETS: tuple[Target, ...] = (
    ("predict() speed-up over the seeds' path", "single_image.speedup_p50", ">=", "x", 30.0),
    ("predict() p50", "single_image.predict_ms.p50", "<=", "ms", 2.0),
    ("prediction + feature maps + Grad-CAM p50", "explain.feature_maps_page_ms.p50", "<=", "ms", 15.0),
    ("Draw page compute for one stroke p50", "explain.draw_page_ms.p50", "<=", "ms", 15.0),
    ("predict_batch (PNG) vs raw model", "batch.png_fraction_of_raw", ">=", "", 0.8),
    ("predict_batch (arrays) vs raw model", "batch.arrays_fraction_of_raw", ">=", "", 0.8),
    ("Flask cold start to /health", "app.flask.cold_start_seconds", "<=", "s", 10.0),
    ("Flask server memory (RSS) after predictions", "app.flask.rss_mb", "<=", "MB", 250.0),
    ("Home, cold first visit (loads Streamlit's JavaScript)", "app.streamlit.page_cold_visit_seconds.Home", "<=", "s", 3.0),
    ("Draw, cold first visit", "app.streamlit.page_cold_visit_seconds.Draw", "<=", "s", 2.0),
    ("Upload, cold first visit", "app.streamlit.page_cold_visit_seconds.Upload", "<=", "s", 2.0),
    ("Feature maps, cold first visit", "app.streamlit.page_cold_visit_seconds.Feature_maps", "<=", "s", 2.0),
    ("Training, cold first visit", "app.streamlit.page_cold_visit_seconds.Training", "<=", "s", 2.0),
    ("Explore, cold first visit", "app.streamlit.page_cold_visit_seconds.Explore", "<=", "s", 2.0),
    ("Streamlit memory (RSS) after every page", "app.streamlit.rss_mb", "<=", "MB", 250.0),
    ("Pen lifted to prediction on screen p50", "app.browser.prediction_ms.p50", "<=", "ms", 300.0),
    ("Pen lifted to every Draw view on screen p50", "app.browser.everything_ms.p50", "<=", "ms", 200.0),
    ("8 sessions drawing at once: pen lifted to prediction p50", "app.sessions.prediction_ms.p50", "<=", "ms", 400.0),
)


# ---------------------------------------------------------------------------------------
# Measuring.


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_pngs(count: int) -> list[bytes]:
    """280x280 RGBA PNGs like the Draw page's canvas sends: mouse-drawn outlines, white on opaque black."""
    from bench.robustness import render_mouse_sketch
    from cnn.data import load_test_sample

    images, _ = load_test_sample()
    return [png_bytes(render_mouse_sketch(image, np.random.default_rng([SEED, index]))) for index, image in enumerate(images[:count])]


# ---------------------------------------------------------------------------------------
# In-process benchmarks.


def seeds_predict(model, png: bytes) -> str:
    """The seed apps' path: PIL open, grey, squash to 28x28, scale, model.predict."""
    image = Image.open(io.BytesIO(png)).convert("L").resize((IMAGE_SIZE, IMAGE_SIZE))
    x = (np.asarray(image, dtype=np.float32) / 255.0).reshape(1, IMAGE_SIZE, IMAGE_SIZE, 1)
    return CLASS_NAMES[int(np.argmax(model.predict(x, verbose=0)[0]))]


def bench_photos(settings: Settings, model_name: str) -> dict:
    """predict() on product photos: plain backgrounds (today's path) and busy ones (the GrabCut cut-out), and
    with a box around a worn garment: what the automatic cut-out costs."""
    import numpy as np

    from bench.robustness import GARMENTS, render_photo, render_textured, render_worn_with_box
    from cnn.data import load_test_sample
    from cnn.predict import predict

    images, labels = load_test_sample()
    count = 32
    plain = [render_photo(image, np.random.default_rng(index)) for index, image in enumerate(images[:count])]
    busy = [render_textured(image, np.random.default_rng(index)) for index, image in enumerate(images[:count])]
    garments = images[np.isin(labels, GARMENTS)][:count]
    worn = [render_worn_with_box(image, np.random.default_rng(index)) for index, image in enumerate(garments)]
    calls, warmup = max(settings.single_calls // 4, 4), settings.warmup_calls
    return {
        "input": f"{count} renders each from bench.robustness: plain product photos, items on textured or outdoor "
        "backgrounds, and worn garments with the box a user would draw",
        "plain_photo_ms": latency_summary(time_calls(lambda i: predict(plain[i % count], model_name=model_name), calls, warmup)),
        "busy_photo_ms": latency_summary(time_calls(lambda i: predict(busy[i % count], model_name=model_name), calls, warmup)),
        "boxed_photo_ms": latency_summary(
            time_calls(lambda i: predict(worn[i % count][0], model_name=model_name, box=worn[i % count][1]), calls, warmup)
        ),
    }


def bench_single_image(settings: Settings, model_name: str, pngs: list[bytes]) -> dict:
    """predict() on canvas PNGs beside the seeds' path on the same model, and where predict()'s time goes."""
    from cnn.decode import decode_image
    from cnn.model import load_keras_model
    from cnn.predict import load_model, predict, preprocess, result_from_probabilities

    model, keras_model = load_model(model_name), load_keras_model(model_name)

    def nth(index: int) -> bytes:
        return pngs[index % len(pngs)]

    predict_ms = time_calls(lambda i: predict(nth(i), model_name=model_name), settings.single_calls, settings.warmup_calls)
    sketch_ms = time_calls(lambda i: predict(nth(i), model_name=model_name, sketch=True), settings.single_calls, settings.warmup_calls)
    seeds_ms = time_calls(lambda i: seeds_predict(keras_model, nth(i)), settings.single_calls, settings.warmup_calls)

    # The three stages of predict(), timed apart on the same inputs.
    inputs = [preprocess(png)[np.newaxis, :, :, np.newaxis] for png in pngs]
    probabilities = model(inputs[0])[0]
    stages = {
        "decode": time_calls(lambda i: decode_image(nth(i)), settings.single_calls, settings.warmup_calls),
        "preprocess": time_calls(lambda i: preprocess(nth(i)), settings.single_calls, settings.warmup_calls),
        "preprocess_sketch": time_calls(lambda i: preprocess(nth(i), sketch=True), settings.single_calls, settings.warmup_calls),
        "model": time_calls(lambda i: model(inputs[i % len(inputs)]), settings.single_calls, settings.warmup_calls),
        "result": time_calls(lambda i: result_from_probabilities(probabilities, 3), settings.single_calls, settings.warmup_calls),
    }
    predict_p50, seeds_p50 = percentile(predict_ms, 0.5), percentile(seeds_ms, 0.5)
    return {
        "input": f"{len(pngs)} distinct 280x280 RGBA canvas PNGs (mouse-drawn outlines, white on black), cycled",
        "predict_ms": latency_summary(predict_ms),
        "predict_sketch_ms": latency_summary(sketch_ms),
        "seeds_path_ms": latency_summary(seeds_ms),
        "seeds_path": 'Image.open -> convert("L") -> resize((28, 28)) -> /255 -> model.predict(x, verbose=0)',
        "speedup_p50": round(seeds_p50 / predict_p50, 2),
        "stages_p50_ms": {name: round(percentile(times, 0.5), 3) for name, times in stages.items()},
    }


TAUGHT_DRAWINGS = 50  # a session that taught the Draw page this many drawings: more than anyone would


def bench_explain(settings: Settings, model_name: str, pngs: list[bytes]) -> dict:
    """Prediction, every feature map and Grad-CAM for one image, as the Feature-maps page gets them."""
    from cnn.config import serving_model_path
    from cnn.explain import explain
    from cnn.insights import insights
    from cnn.predict import classify, predict_model_input, preprocess
    from cnn.teach import TaughtDrawing, taught_answer

    def feature_maps_page(index: int) -> None:
        # The page's path: one preprocessing pass, the serving model's prediction, then maps and Grad-CAM for it.
        model_input = preprocess(pngs[index % len(pngs)])
        result = predict_model_input(model_input, model_name=model_name)
        explain(model_input, class_id=result["class_id"], model_name=model_name)

    def draw_page(index: int) -> None:
        # The Draw page's path for one stroke: the drawing model's answer (with the session's taught drawings
        # compared), then every view beside it.
        result, model_input, embedding = classify(pngs[index % len(pngs)], sketch=True)
        result = taught_answer(result, embedding, taught)
        insights(model_input, result, result["model"], compare_with=compared)

    # A session that has taught the page TAUGHT_DRAWINGS drawings: each stroke compares with all of them.
    taught = []
    for index in range(TAUGHT_DRAWINGS):
        result, _, embedding = classify(pngs[index % len(pngs)], sketch=True)
        if embedding is not None:
            taught.append(
                TaughtDrawing(
                    pngs[index % len(pngs)], (result["class_id"] + 1) % 10, embedding + index, result["model"], result["prediction"]
                )
            )

    compared = tuple(name for name in (DEFAULT_MODEL, "baseline", "mlp") if serving_model_path(name).is_file())
    calls, warmup = settings.explain_calls, settings.warmup_calls
    return {
        "input": "the single-image canvas PNGs",
        "feature_maps_page_ms": latency_summary(time_calls(feature_maps_page, calls, warmup)),
        "feature_maps_page": "preprocess(png), predict_model_input, explain(..., class_id), as app_pages/feature_maps.py",
        "draw_page_ms": latency_summary(time_calls(draw_page, calls, warmup)),
        "draw_page": f"classify(png, sketch=True), taught_answer(...) over {len(taught)} taught drawings, insights(...): Grad-CAM, "
        f"every layer's strongest channels, the nearest training images and {', '.join(compared)} on the same input, as app_pages/draw.py",
    }


def bench_models(settings: Settings) -> dict:
    """predict() on single 28x28 test-sample images for every trained model: the Training page's latency column."""
    from cnn.config import serving_model_path
    from cnn.data import load_test_sample
    from cnn.predict import predict
    from cnn.registry import MODEL_NAMES

    images = load_test_sample()[0]
    return {
        name: latency_summary(
            time_calls(lambda i, name=name: predict(images[i % len(images)], model_name=name), settings.single_calls, settings.warmup_calls)
        )  # fmt: skip
        for name in MODEL_NAMES
        if serving_model_path(name).is_file()
    }


def bench_batch(settings: Settings, model_name: str, canvases: list[bytes]) -> dict:
    """predict_batch() on BATCH_SIZE test images as PNG bytes and as arrays, beside the raw model."""
    from cnn.data import load_test_sample
    from cnn.decode import decode_image
    from cnn.predict import load_model, overlapped, predict_batch, preprocess
    from cnn.serving import CHUNK_SIZE

    images = load_test_sample()[0][:BATCH_SIZE]
    pngs = [png_bytes(image) for image in images]
    model = load_model(model_name)
    model_inputs = np.stack([preprocess(image) for image in images])[..., np.newaxis]  # (256, 28, 28, 1)

    def images_per_second(call: Callable[[int], object], count: int = BATCH_SIZE) -> float:
        times_ms = time_calls(call, settings.batch_repeats, warmup_calls=2)
        return round(count / (float(np.median(times_ms)) / 1000), 1)

    # The limit: the serving model alone on the ready batch.
    raw = images_per_second(lambda i: model(model_inputs))
    png = images_per_second(lambda i: predict_batch(pngs, model_name=model_name))
    # Decoding alone, by Pillow and by predict()'s decode_image (Pillow plus the checks every upload
    # needs: size before decoding, EXIF rotation).
    decoders = {"pillow": lambda png: Image.open(io.BytesIO(png)).load(), "decode_image": decode_image}
    decoding = {name: images_per_second(lambda i, decode=decode: [decode(png) for png in pngs]) for name, decode in decoders.items()}

    # The bound for a batch of PNGs: the model on the ready inputs while a worker only decodes,
    # overlapped as predict_batch overlaps the model and all of preprocessing.
    chunks = [(pngs[start : start + CHUNK_SIZE], model_inputs[start : start + CHUNK_SIZE]) for start in range(0, BATCH_SIZE, CHUNK_SIZE)]

    def decode_only(decode: Callable[[bytes], object]) -> Callable:
        def prepare(chunk: tuple[list[bytes], np.ndarray]) -> np.ndarray:
            chunk_pngs, chunk_inputs = chunk
            for png in chunk_pngs:
                decode(png)
            return chunk_inputs

        return prepare

    png_bound = {
        name: images_per_second(lambda i, decode=decode: overlapped(decode_only(decode), model, chunks))
        for name, decode in decoders.items()
    }
    arrays = images_per_second(lambda i: predict_batch(images, model_name=model_name))
    canvas = images_per_second(lambda i: predict_batch(canvases, model_name=model_name), count=len(canvases))
    return {
        "input": f"{len(images)} test-sample images (28x28) as PNG bytes and as uint8 arrays",
        "images": len(images),
        "raw_model_images_per_second": raw,
        "raw_model": "the serving model (cnn.predict.load_model, LiteRT) on the preprocessed (256, 28, 28, 1) float32 batch",
        "png_images_per_second": png,
        "arrays_images_per_second": arrays,
        "png_fraction_of_raw": round(png / raw, 3),
        "decode_images_per_second": decoding,
        "png_bound_fraction_of_raw": {name: round(rate / raw, 3) for name, rate in png_bound.items()},
        "png_bound": "the raw model while a worker thread only decodes the PNGs (Pillow's "
        "Image.open(...).load(), or predict()'s decode_image), overlapped as in predict_batch",
        "arrays_fraction_of_raw": round(arrays / raw, 3),
        "canvas_png_images_per_second": canvas,
        "canvas_png_input": f"{len(canvases)} 280x280 canvas PNGs per call",
    }


def bench_training(settings: Settings) -> dict:
    """Images per second of model.fit for every model, on the training set through the training pipeline."""
    import keras

    from cnn.augment import Augmenter
    from cnn.data import load_fashion_mnist
    from cnn.registry import MODELS
    from cnn.train import VALIDATION_SIZE, compiled_model, make_dataset, split_validation

    (x_full, y_full), _ = load_fashion_mnist()
    (x_train, y_train), _ = split_validation(x_full, y_full, VALIDATION_SIZE, SEED)

    class StepTimer(keras.callbacks.Callback):
        """Clock from the end of the warm-up steps to the end of the last step."""

        def on_train_batch_end(self, batch, logs=None):
            if batch + 1 == settings.training_warmup_steps:
                self.started = time.perf_counter()
            self.ended = time.perf_counter()

    results = {}
    for spec in MODELS:
        model_name, batch_size, augment = spec.name, spec.batch_size, spec.augment
        keras.utils.set_random_seed(SEED)
        augmenter = Augmenter(SEED) if augment else None
        dataset = make_dataset(x_train, y_train, batch_size, augmenter, shuffle_seed=SEED).repeat()
        timer = StepTimer()
        steps = settings.training_warmup_steps + settings.training_steps
        model = compiled_model(model_name, epochs=1, steps_per_epoch=steps)  # the training run's model, optimizer and loss
        model.fit(dataset, epochs=1, steps_per_epoch=steps, callbacks=[timer], verbose=0)
        seconds = timer.ended - timer.started
        results[model_name] = {
            "images_per_second": round(settings.training_steps * batch_size / seconds, 1),
            "timed_steps": settings.training_steps,
            "warmup_steps": settings.training_warmup_steps,
            "batch_size": batch_size,
            "augmentation": augment,
        }
        keras.backend.clear_session()
    return results


# ---------------------------------------------------------------------------------------
# App benchmarks: a subprocess, so this process stays free of Streamlit and the browser.


def bench_apps(settings: Settings) -> dict:
    """Run `python -m bench.apps` and return its JSON report."""
    with tempfile.TemporaryDirectory(prefix="cnn-bench-") as folder:
        out = Path(folder) / "apps.json"
        command = [sys.executable, "-m", "bench.apps", "--out", str(out), "--strokes", str(settings.app_strokes),
                   "--sessions", str(settings.app_sessions), "--rounds", str(settings.app_rounds)]  # fmt: skip
        completed = subprocess.run(command, cwd=PROJECT_DIR)
        if completed.returncode != 0 or not out.is_file():
            raise RuntimeError(f"{shlex.join(command)} failed with status {completed.returncode}; see its output above.")
        return json.loads(out.read_text())


# ---------------------------------------------------------------------------------------
# Report.


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def training_processes() -> list[str]:
    """Command lines of running `cnn.train` processes: their load makes timings meaningless."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue  # The process ended while we looked.
        if b"cnn.train" in arguments:
            found.append(b" ".join(arguments).decode(errors="replace").strip())
    return found


def environment(command: str, quick: bool, model_name: str) -> dict:
    from cnn.config import ASSETS_DIR

    versions = library_versions("streamlit", "flask", "playwright")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "quick": quick,
        "model": model_name,
        "assets_dir": str(ASSETS_DIR),
        "machine": {
            "cpu_model": cpu_model(),
            "cores": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),
            "training_processes_at_start": training_processes(),
        },
        "versions": versions,
    }


def print_table(report: dict) -> None:
    def row(name: str, value: str, target: str = "", met: bool | None = None) -> None:
        verdict = {True: "met", False: "NOT MET", None: "-" if not target else "not measured"}[met]
        print(f"  {name:<52} {value:>20}  {target:>10}  {verdict}")

    single, explain, batch = report["single_image"], report["explain"], report["batch"]
    verdicts = {target["name"]: target for target in report["targets"]}

    def target_row(name: str, value: str) -> None:
        row(name, value, verdicts[name]["target"], verdicts[name]["met"])

    def p50_p99(latency: dict) -> str:
        return f"{latency['p50']:.2f} / {latency['p99']:.2f} ms"

    machine = report["machine"]
    print(f"\n{report['command']}   ({report['date']})")
    print(f"{machine['cpu_model']}, {machine['cores']} cores, load {machine['load_average_1min_at_start']}")
    if machine["training_processes_at_start"]:
        print("WARNING: a cnn.train process was running: these timings are meaningless.")
    print(f"\n  {'measure (p50 / p99)':<52} {'value':>20}  {'target':>10}  verdict")
    row("predict(), canvas PNG", p50_p99(single["predict_ms"]))
    target_row("predict() p50", f"{single['predict_ms']['p50']:.2f} ms")
    row("predict(sketch=True), canvas PNG (Draw page)", p50_p99(single["predict_sketch_ms"]))
    row("seeds' path, same model", p50_p99(single["seeds_path_ms"]))
    target_row("predict() speed-up over the seeds' path", f"{single['speedup_p50']:.1f}x")
    stages = ", ".join(f"{name} {value:.2f}" for name, value in single["stages_p50_ms"].items())
    print(f"    stages p50 ms: {stages}")
    row("prediction + feature maps + Grad-CAM (page path)", p50_p99(explain["feature_maps_page_ms"]))
    target_row("prediction + feature maps + Grad-CAM p50", f"{explain['feature_maps_page_ms']['p50']:.2f} ms")
    row("raw serving model, 256 images", f"{batch['raw_model_images_per_second']:,.0f} img/s")
    target_row("predict_batch (PNG) vs raw model", f"{batch['png_images_per_second']:,.0f} img/s = {batch['png_fraction_of_raw']:.2f}")
    target_row(
        "predict_batch (arrays) vs raw model",
        f"{batch['arrays_images_per_second']:,.0f} img/s = {batch['arrays_fraction_of_raw']:.2f}",
    )
    for decoder, bound in batch["png_bound_fraction_of_raw"].items():
        row(f"  bound for PNGs: the model + {decoder} alone", f"{bound:.2f}")
    row("predict_batch, 280x280 canvas PNGs", f"{batch['canvas_png_images_per_second']:,.0f} img/s")
    for model_name, training in report["training"].items():
        row(f"training {model_name} (batch {training['batch_size']})", f"{training['images_per_second']:,.0f} img/s")
    photos = report["photos"]
    for key, label in (("plain_photo_ms", "plain background"), ("busy_photo_ms", "busy background: GrabCut"),
                       ("boxed_photo_ms", "with a box: GrabCut in the box")):  # fmt: skip
        row(f"predict() on a product photo, {label}", p50_p99(photos[key]))
    row("Draw page compute for one stroke", p50_p99(explain["draw_page_ms"]))
    target_row("Draw page compute for one stroke p50", f"{explain['draw_page_ms']['p50']:.2f} ms")
    app = report.get("app")
    if app:
        for target in report["targets"]:
            if target["measured"] is not None and any(target["name"] == name for name, dotted, *_ in TARGETS if dotted.startswith("app.")):
                row(target["name"], f"{target['measured']:,.2f}", target["target"], target["met"])
        for part, label in (("browser", "one session"), ("sessions", f"{app['sessions']['sessions']} sessions at once")):
            for measure in ("prediction", "everything", "browser"):
                row(f"{label}: pen lifted to {measure}", p50_p99(app[part][f"{measure}_ms"]))
        row("Streamlit memory after the concurrent sessions", f"{app['streamlit']['rss_after_sessions_mb']:.0f} MB")


def run(settings: Settings, quick: bool, with_app: bool, model_name: str, command: str) -> dict:
    report = environment(command, quick, model_name)
    canvases = canvas_pngs(CANVAS_INPUTS)
    stages = [
        ("single_image", lambda: bench_single_image(settings, model_name, canvases)),
        ("explain", lambda: bench_explain(settings, model_name, canvases)),
        ("models", lambda: bench_models(settings)),
        ("photos", lambda: bench_photos(settings, model_name)),
        ("batch", lambda: bench_batch(settings, model_name, canvases)),
        ("training", lambda: bench_training(settings)),
    ]
    if with_app:
        stages.append(("app", lambda: bench_apps(settings)))
    for name, stage in stages:
        started = time.perf_counter()
        print(f"{name}...", flush=True)
        report[name] = stage()
        print(f"{name} done in {time.perf_counter() - started:.0f} s", flush=True)
    report["targets"] = check_targets(report, TARGETS)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few iterations of everything (CI)")
    parser.add_argument("--no-app", action="store_true", help="skip the Flask, Streamlit and browser parts")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model for the inference parts")
    parser.add_argument("--out", type=Path, default=BENCHMARK_PATH)
    args = parser.parse_args(argv)
    command = "python -m bench.speed " + shlex.join(sys.argv[1:] if argv is None else argv)
    report = run(QUICK if args.quick else FULL, args.quick, not args.no_app, args.model, command)
    write_json(args.out, report)
    print_table(report)
    print(f"\n-> {args.out}")


if __name__ == "__main__":
    main()
