"""The Playground's trainer (cnn/playground.py) and its training images (cnn/data.py's pool, download, subset).

In this process Keras runs on TensorFlow (tests/conftest.py: the training tests need it); one test trains
in a fresh interpreter as the app does, on JAX with TensorFlow out of sight.
"""

import gzip
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from cnn.config import CLASS_NAMES, PROJECT_DIR
from cnn.data import DEBIAN_DIR, IDX_FILES, DatasetError, download_fashion_mnist, training_pool
from cnn.playground import (
    FAILED,
    FINISHED,
    PRESETS,
    QUEUED,
    STOPPED,
    Run,
    Settings,
    Trainer,
    chosen_images,
    train,
)
from cnn.predict import predict

TINY = Settings(conv_blocks=1, filters=4, images=500, epochs=1, batch_size=50)


@pytest.fixture(scope="module")
def pool():
    """The images the Playground trains on here: the full set where installed, else the shipped subset."""
    return training_pool()


@pytest.fixture(scope="module")
def trainer():
    """One trainer for the tests that train as the page does: each training process it starts takes seconds."""
    return Trainer()


def finished(run: Run, timeout: float = 120.0):
    """Wait for the run to end, reading it as the page does; its last progress."""
    deadline = time.monotonic() + timeout
    while not run.ended:
        if time.monotonic() > deadline:
            raise AssertionError(f"the run did not end within {timeout} s: {run.snapshot().state}")
        run.snapshot()
        time.sleep(0.05)
    return run.snapshot()


# ---------------------------------------------------------------------------------------
# Settings and images.


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"conv_blocks": 4}, "Conv blocks must be between 0 and 3"),
        ({"images": 100}, "Images must be between 500 and 60000"),
        ({"kernel_size": 4}, "Kernel size must be one of 3, 5, 7"),
        ({"optimizer": "lbfgs"}, "Optimizer must be one of"),
        ({"conv_blocks": 3, "kernel_size": 7, "padding": "valid"}, "shrinks to nothing"),
    ],
)
def test_settings_out_of_range_say_which_knob(changes, message):
    with pytest.raises(ValueError, match=message):
        replace(Settings(), **changes).checked()


def test_every_preset_is_valid_and_says_what_to_watch_for():
    for preset in PRESETS.values():
        preset.settings.checked()
        assert len(preset.watch) > 40
    assert PRESETS["Tiny CNN"].settings == Settings()  # the default preset is the page's first state


def test_chosen_images_hold_every_class_equally(pool):
    images, labels = chosen_images(pool, 500, seed=0)
    assert images.shape == (500, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [50] * 10
    again, _ = chosen_images(pool, 500, seed=0)
    assert np.array_equal(images, again)


def test_without_the_dataset_the_shipped_subset_is_used(monkeypatch):
    monkeypatch.setattr("cnn.data.find_data_dir", lambda: None)
    pool = training_pool()
    assert not pool.full and "subset shipped with the app" in pool.source
    assert len(pool.y_train) == 12_000 and np.bincount(pool.y_train).tolist() == [1_200] * 10
    assert len(pool.y_validation) == len(pool.y_test) == 1_000
    assert not set(map(bytes, pool.x_validation[:50])) & set(map(bytes, pool.x_test))  # two halves, no image in both


def test_a_damaged_subset_gets_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr("cnn.data.find_data_dir", lambda: None)
    damaged = tmp_path / "playground_subset.npz"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetError, match="playground_subset.npz cannot be read.*reinstall"):
        training_pool(damaged)


@pytest.mark.skipif(not (DEBIAN_DIR / IDX_FILES["y_test"]).is_file(), reason="Fashion-MNIST is not installed")
def test_the_download_checks_each_file_and_keeps_only_good_ones(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in IDX_FILES.values():
        (mirror / name).write_bytes((DEBIAN_DIR / name).read_bytes())  # Debian's gzip: other bytes, same content
    shares = []
    cache = download_fashion_mnist(shares.append, base_url=mirror.as_uri() + "/", directory=tmp_path / "cache")
    assert sorted(path.name for path in cache.iterdir()) == sorted(IDX_FILES.values())
    assert shares == [0.25, 0.5, 0.75, 1.0]

    labels = gzip.decompress((mirror / IDX_FILES["y_train"]).read_bytes())
    (mirror / IDX_FILES["y_train"]).write_bytes(gzip.compress(labels[:-1] + bytes([(labels[-1] + 1) % 10])))
    with pytest.raises(DatasetError, match="arrived damaged"):
        download_fashion_mnist(base_url=mirror.as_uri() + "/", directory=tmp_path / "other")
    assert not (tmp_path / "other" / IDX_FILES["y_train"]).exists()


def test_an_unreachable_server_gets_a_clear_message(tmp_path):
    with pytest.raises(DatasetError, match="Downloading .* failed.*internet connection"):
        download_fashion_mnist(base_url=(tmp_path / "nowhere").as_uri() + "/", directory=tmp_path / "cache")


# ---------------------------------------------------------------------------------------
# Training: a tiny run, Stop, a diverging learning rate, the queue.


def test_a_tiny_run_trains_reports_progress_and_leaves_a_usable_network(pool):
    run = Run(replace(TINY, images=1_000, epochs=2), pool)
    train(run)
    progress = run.snapshot()
    assert progress.state == FINISHED, progress.message
    assert [point[0] for point in progress.epoch_curve] == [1, 2]
    assert progress.training_curve and progress.validation_curve
    assert progress.filters.shape == (3, 3, 4) and progress.feature_maps.shape == (28, 28, 4)
    trained = progress.result
    assert trained.scores["test_accuracy"] > 0.5  # ten classes: chance is 0.1
    assert trained.confusion.sum() == len(pool.y_test)

    # The NumPy copy the Draw page runs answers as the saved .keras file does.
    import keras

    path = PROJECT_DIR / "test-artifacts" / "playground-test.keras"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(trained.keras_file)
    model = keras.saving.load_model(path, compile=False)
    images = pool.x_test[:5].astype(np.float32) / 255
    from_keras = np.asarray(model.predict_on_batch(images[..., np.newaxis]))
    from_numpy = np.stack([trained.net.probabilities(image[..., np.newaxis]) for image in images])
    np.testing.assert_allclose(from_numpy, from_keras, atol=1e-4)

    # Its answers have predict()'s fields, and the card is JSON.
    answer = trained.answer(images[0])
    assert set(answer) == set(predict(pool.x_test[0]))
    assert answer["model"] == "playground" and answer["prediction"] in CLASS_NAMES
    assert trained.card()["settings"]["filters"] == 4


@pytest.mark.slow  # starts a training process
def test_stop_ends_the_run_within_a_second_and_keeps_what_it_learnt(trainer):
    run = trainer.submit(replace(TINY, images=10_000, epochs=30))
    deadline = time.monotonic() + 120
    while len(run.snapshot().training_curve) < 3:
        assert time.monotonic() < deadline and not run.ended, run.snapshot().message
        time.sleep(0.05)
    pressed = time.monotonic()
    run.stop()
    progress = finished(run, timeout=5)
    assert time.monotonic() - pressed < 1.0
    assert progress.state == STOPPED and "keeps what it learnt" in progress.message
    assert progress.result is not None and progress.result.scores["stopped_early"]


def test_a_learning_rate_that_blows_up_ends_with_a_message(pool):
    run = Run(replace(PRESETS["Too high a learning rate"].settings, images=2_000, epochs=3), pool)
    train(run)
    progress = run.snapshot()
    assert progress.state == FAILED and progress.result is None
    assert "Lower the learning rate" in progress.message
    assert len(progress.epoch_curve) == 1  # it gave up after the first epoch


def test_a_run_too_slow_for_the_time_limit_is_warned_then_stopped_at_it_keeping_what_it_learnt(pool, monkeypatch):
    monkeypatch.setattr("cnn.playground.MAX_RUN_SECONDS", 4)
    monkeypatch.setattr("cnn.playground.WARN_AFTER_SECONDS", 1.0)
    run = Run(replace(TINY, images=10_000, epochs=30), pool)
    warnings = []

    def watch() -> None:  # what the page would show while it trains
        while not run.ended:
            warnings.append(run.snapshot().warning)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    train(run)
    watcher.join()
    progress = run.snapshot()
    assert any("it will stop at the" in warning and "keep what it learnt" in warning for warning in warnings)
    assert progress.state == STOPPED and progress.result is not None  # what it learnt is kept
    assert "limit per run" in progress.message
    assert progress.elapsed_seconds < 8


@pytest.mark.slow  # starts a training process
def test_runs_wait_in_line_and_a_queued_run_can_leave_it(trainer):
    first = trainer.submit(replace(TINY, images=5_000, epochs=5))
    second = trainer.submit(TINY)
    third = trainer.submit(TINY)
    assert (second.snapshot().state, second.snapshot().queue_position) == (QUEUED, 1 if first.snapshot().state != QUEUED else 2)
    assert third.snapshot().queue_position == second.snapshot().queue_position + 1
    second.stop()
    first.stop()
    assert finished(first).state == STOPPED
    assert finished(second).state == STOPPED and "before it started" in second.snapshot().message
    assert finished(third).state == FINISHED


def test_the_server_keeps_what_the_page_shows_and_leaves_the_training_images_to_the_training_process(pool):
    shown = Trainer().pool()
    assert shown.x_train.size == 0 and shown.x_validation.size == 0  # tens of MB, held by the training process only
    assert np.array_equal(shown.y_train, pool.y_train) and np.array_equal(shown.x_test, pool.x_test)
    assert (shown.full, shown.source) == (pool.full, pool.source)


def test_a_bad_file_of_training_images_is_named(tmp_path):
    broken = tmp_path / "train-labels-idx1-ubyte.gz"
    broken.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + bytes([1, 2, 3])))
    from cnn.data import read_idx

    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.gz: .* truncated or corrupt"):
        read_idx(broken)


# ---------------------------------------------------------------------------------------
# As the app runs it: a fresh interpreter, Keras on JAX, TensorFlow never imported.

FRESH_RUN = """
import logging, os, sys
os.environ["JAX_COMPILATION_CACHE_DIR"] = sys.argv[1]  # empty: only what the warm-up compiles is in it
from cnn.data import training_pool
from cnn.playground import Run, Settings, framework, train, warm_up
keras = framework()
import jax
warm_up()
messages = []
handler = logging.Handler()
handler.emit = lambda record: messages.append(record.getMessage())
logging.getLogger("jax").addHandler(handler)
jax.config.update("jax_log_compiles", True)
run = Run(Settings(images=500, epochs=1), training_pool())
train(run)
tensorflow = sorted(name for name in sys.modules if name.split(".")[0] == "tensorflow")[:3]
hits = [message for message in messages if "cache hit" in message and "train_step" in message][:1]
print(keras.backend.backend(), run.snapshot().state, tensorflow, hits)
"""


@pytest.mark.slow
def test_the_app_trains_on_jax_without_tensorflow_loading_the_step_its_warm_up_compiled(tmp_path):
    # As the training process runs it: Keras on JAX, TensorFlow never imported. And on a new server the first
    # Train waits for nothing but the warm-up: a run that compiled its own step (a different label type was
    # enough) would wait seconds more for its first curve point.
    environment = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    completed = subprocess.run([sys.executable, "-c", FRESH_RUN, str(tmp_path)], cwd=PROJECT_DIR, capture_output=True, text=True,
                               timeout=300, env=environment)  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = completed.stdout.split("\n")[-2]
    assert line.startswith("jax finished [] [") and "jit_train_step" in line, completed.stdout


def test_settings_describe_the_network():
    assert Settings().describe() == "2 conv blocks (8, 16 filters, 3x3, max-pool, BatchNorm) -> 10 classes"
    assert "no convolutions" in PRESETS["No convolutions (MLP)"].settings.describe()


def test_the_trainer_steps_aside_while_someone_waits_for_an_answer(pool, monkeypatch):
    from cnn import activity
    from cnn.playground import MAX_STEP_ASIDE_SECONDS, STEP_ASIDE_SECONDS, step_aside

    monkeypatch.setattr(activity, "_last_answer", 0.0)  # no answer asked for in a long time
    run = Run(TINY, pool)
    started = time.monotonic()
    step_aside(run)
    assert time.monotonic() - started < 0.05  # nobody waiting: no pause
    predict(pool.x_test[0])  # an answer, as a drawing session asks for one
    started = time.monotonic()
    step_aside(run)
    assert STEP_ASIDE_SECONDS * 0.5 < time.monotonic() - started <= MAX_STEP_ASIDE_SECONDS + 0.1
    activity.answering()
    run.stop()
    started = time.monotonic()
    step_aside(run)
    assert time.monotonic() - started < 0.05  # Stop is not kept waiting


@pytest.mark.slow  # starts a training process
def test_a_training_process_that_dies_fails_its_run_with_a_message_and_the_next_run_trains(trainer):
    run = trainer.submit(replace(TINY, images=10_000, epochs=30))
    deadline = time.monotonic() + 120
    while not run.snapshot().training_curve:
        assert time.monotonic() < deadline and not run.ended, run.snapshot().message
        time.sleep(0.05)
    trainer.training_process.popen.kill()  # as the system's out-of-memory killer would
    progress = finished(run, timeout=5)
    assert progress.state == FAILED and "ended unexpectedly" in progress.message
    assert finished(trainer.submit(TINY)).state == FINISHED  # in a new training process


@pytest.mark.slow  # starts a training process
def test_an_idle_training_process_ends_and_the_next_visit_starts_another(monkeypatch):
    monkeypatch.setattr("cnn.playground.IDLE_SECONDS", 1.0)
    trainer = Trainer()
    trainer.start()
    assert trainer.ready.wait(timeout=120)
    first = trainer.training_process.popen
    assert first.wait(timeout=30) is not None and not trainer.ready.is_set()  # its memory is handed back
    run = trainer.submit(TINY)  # as pressing Train on a page left open does
    assert finished(run).state == FINISHED and trainer.training_process.popen is not first


FRESH_SERVER = """
import os, sys, time
from cnn.playground import Settings, Trainer
trainer = Trainer()
run = trainer.submit(Settings(conv_blocks=1, filters=4, images=500, epochs=1, batch_size=50))
while not run.ended:
    run.snapshot()
    time.sleep(0.05)
progress = run.snapshot()
frameworks = sorted(name for name in sys.modules if name.split(".")[0] in ("keras", "jax", "tensorflow"))
print(progress.state, progress.result.scores["framework"], os.getpriority(os.PRIO_PROCESS, trainer.training_process.popen.pid), frameworks[:3])
"""


@pytest.mark.slow
def test_the_server_trains_in_a_low_priority_process_and_never_imports_the_framework():
    # Sessions drawing share the server's interpreter lock: Keras stays out of it, in a process of its own.
    completed = subprocess.run([sys.executable, "-c", FRESH_SERVER], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = completed.stdout.split("\n")[-2]
    assert line.startswith("finished Keras ") and line.endswith(" on jax 19 []"), completed.stdout
