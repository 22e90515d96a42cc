"""The Playground: the user designs a small network, trains it where the app runs and watches it learn.

The framework is Keras 3 on the JAX backend (docs/architecture.md says why): the same layers as the
offline trainer (cnn.model.build_convnet builds both the Playground's networks and the seeds' baseline),
no TensorFlow, wheels for every CPython the app supports. Keras is imported only in the training process,
which the Playground page starts when it first opens: the server and the other pages keep their start-up
time and memory.

One trainer per server trains one run at a time in its own process, at the lowest CPU priority; later
runs wait in a queue whose position the page shows. A run is a loop of `train_on_batch` steps, so Stop
takes effect after the batch in flight, and every second the loop publishes what the page draws (curves,
throughput, the first layer's filters, a few guesses); the trainer relays it into a snapshot the page
polls. What a finished run leaves is framework-free: the network as NumPy layers (cnn/numpy_net.py, which
the Draw and Feature maps pages run), its scores and its .keras file.

Shapes: images (N, 28, 28) uint8 in the pool, (N, 28, 28, 1) float32 in 0..1 into the network.
"""

import ctypes
import gc
import importlib.abc
import math
import multiprocessing
import multiprocessing.connection
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from cnn import activity
from cnn.calibration import UnsureRule, fit_unsure_rule
from cnn.config import NUM_CLASSES, PROJECT_DIR
from cnn.data import DatasetError, TrainingPool, training_pool
from cnn.evaluate import confusion_matrix
from cnn.numpy_net import NumpyNet, layer_chain

OPTIMIZERS = ("adam", "sgd", "rmsprop")
KERNEL_SIZES = (3, 5, 7)
MAX_CONV_BLOCKS = 3
MIN_IMAGES, MAX_IMAGES = 500, 60_000
MAX_EPOCHS = 30


@dataclass(frozen=True)
class Settings:
    """Every knob of one run."""

    conv_blocks: int = 2  # 0 is an MLP
    filters: int = 8  # in the first block, doubled in each next one
    kernel_size: int = 3
    pooling: bool = True  # a 2x2 max-pool after each block
    batch_norm: bool = True
    dropout: float = 0.0
    dense_units: int = 0  # a hidden dense layer before the answer; 0 for none
    augment: bool = False  # random flips and shifts of up to 2 pixels
    optimizer: str = "adam"
    learning_rate: float = 3e-3
    batch_size: int = 64
    epochs: int = 5
    images: int = 10_000
    padding: str = "same"  # "valid" only for the seeds' own network
    seed: int = 0

    @property
    def block_filters(self) -> tuple[int, ...]:
        return tuple(self.filters * 2**block for block in range(self.conv_blocks))

    def checked(self) -> "Settings":
        """The settings, or a ValueError that says which knob is out of range."""
        limits = {
            "conv_blocks": (0, MAX_CONV_BLOCKS), "filters": (1, 64), "dropout": (0.0, 0.8), "dense_units": (0, 512),
            "learning_rate": (1e-6, 10.0), "batch_size": (8, 512), "epochs": (1, MAX_EPOCHS), "images": (MIN_IMAGES, MAX_IMAGES),
        }  # fmt: skip
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name.replace('_', ' ').capitalize()} must be between {low} and {high}, not {value}.")
        if self.kernel_size not in KERNEL_SIZES:
            raise ValueError(f"Kernel size must be one of {', '.join(map(str, KERNEL_SIZES))}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Optimizer must be one of {', '.join(OPTIMIZERS)}.")
        side = 28
        for _ in range(self.conv_blocks):
            side = side if self.padding == "same" else side - self.kernel_size + 1
            side = side // 2 if self.pooling else side
            if side < 1:
                raise ValueError("The image shrinks to nothing in this many blocks: use fewer blocks, a smaller kernel or no pooling.")
        return self

    def describe(self) -> str:
        """The network in one line, e.g. "2 conv blocks (8, 16 filters, 3x3, max-pool, BatchNorm) -> 10 classes"."""
        if not self.conv_blocks:
            body = "no convolutions: every pixel into a dense layer"
        else:
            parts = [f"{self.kernel_size}x{self.kernel_size}"] + ["max-pool"] * self.pooling + ["BatchNorm"] * self.batch_norm
            filters = ", ".join(map(str, self.block_filters))
            body = f"{self.conv_blocks} conv block{'s' * (self.conv_blocks > 1)} ({filters} filters, {', '.join(parts)})"
        dense = f" -> dense {self.dense_units}" if self.dense_units else ""
        dropout = f", dropout {self.dropout:g}" if self.dropout else ""
        return f"{body}{dense} -> 10 classes{dropout}"


@dataclass(frozen=True)
class Preset:
    name: str
    settings: Settings
    watch: str  # one sentence: what to look for while it trains


PRESETS = {
    preset.name: preset
    for preset in (
        Preset("Tiny CNN", Settings(),
               "Two small conv blocks: validation accuracy passes 85% within a few epochs, and the first layer's "
               "filters turn from noise into edge and blob detectors."),
        Preset("No convolutions (MLP)", Settings(conv_blocks=0, dense_units=128, dropout=0.2, learning_rate=1e-3),
               "Every pixel is wired to every unit and nothing is shared across positions: it learns fast, then levels "
               "off below the tiny CNN with many times its weights, and there are no filters to show."),
        Preset("The seeds' CNN", Settings(filters=32, batch_norm=False, dense_units=128, padding="valid", learning_rate=1e-3,
                                          batch_size=128),
               "The tutorial network this project started from (the Baseline CNN beside the shipped models): 25 times the "
               "tiny CNN's weights and several times slower per image, yet on 10,000 images for 5 epochs no better than it: "
               "capacity pays only with more data or epochs."),
        Preset("Overfit me", Settings(filters=32, batch_norm=False, dense_units=128, learning_rate=1e-3, batch_size=32,
                                      epochs=30, images=500),
               "500 images and nothing to hold it back (no augmentation, no dropout): training accuracy climbs to 100% "
               "while validation stops near 80%; the gap between the two curves is overfitting."),
        Preset("Too high a learning rate", Settings(batch_norm=False, learning_rate=10.0),
               "Each step overshoots the valley it aims for: within a few batches the loss leaps from 2.3 to about 14, "
               "accuracy falls to chance (10%), and after one epoch the run stops and says why."),
    )
}  # fmt: skip
DEFAULT_PRESET = "Tiny CNN"

# ---------------------------------------------------------------------------------------
# One run: its settings, a stop switch and the snapshot the page polls.

QUEUED, PREPARING, TRAINING, FINISHED, STOPPED, FAILED = "queued", "preparing", "training", "finished", "stopped", "failed"
ENDED = (FINISHED, STOPPED, FAILED)
MAX_RUN_SECONDS = 300  # one run's share of a server many people use: the next in the queue waits at most this
ABANDONED_AFTER_SECONDS = 60  # a run nobody has looked at for this long (its page closed) stops
STEP_ASIDE_SECONDS = 0.5  # after an answer was asked for, about one script run of the page that asked
STEP_ASIDE_PAUSE_SECONDS = 0.05
MAX_STEP_ASIDE_SECONDS = 1.0  # per step: under a steady stream of answers the run still moves on
WARN_AFTER_SECONDS = 3.0  # of steps, before a run projected to overrun the time limit is told so: the speed settles after the compile
PUBLISH_EVERY_SECONDS = 1.0  # a validation point, the filters and the guesses
CURVE_POINT_EVERY_SECONDS = 0.25  # a training-loss point: the mean of the batches since the last one
QUICK_VALIDATION = 1_000  # validation images checked every second; the whole validation half at each epoch's end
PREDICT_CHUNK = 500  # one fixed input shape, so the prediction step compiles once
LABEL_DTYPE = np.int32  # one fixed type for the labels, so the warm-up's compiled step is the one a run uses
PROBES = 8  # test images whose current guess the page shows
# Ten classes: 10% is guessing. Keras clips the probabilities its loss sees, so a learning rate that blows
# the weights up rarely shows as NaN: the loss jumps to about 14 and the answers collapse onto one class.
AT_CHANCE = 0.15
PLAYGROUND = "playground"  # the model name in a Playground model's answers


@dataclass
class Progress:
    """What the page shows of a run; the trainer replaces it and the page reads a copy."""

    state: str = QUEUED
    queue_position: int = 0  # runs ahead of this one; 0 once it is training
    epoch: int = 0  # the epoch in progress, from 1
    epochs: int = 0
    training_curve: list = field(default_factory=list)  # (epoch position, loss, accuracy), every quarter second
    validation_curve: list = field(default_factory=list)  # (epoch position, loss, accuracy), every second
    epoch_curve: list = field(default_factory=list)  # (epoch, train loss, train accuracy, validation loss, validation accuracy)
    images_per_second: float = 0.0
    elapsed_seconds: float = 0.0
    remaining_seconds: float | None = None
    filters: np.ndarray | None = None  # (k, k, F): the first conv layer's kernels
    feature_maps: np.ndarray | None = None  # (H, W, F): the first conv layer's output for the probe image
    probe_guesses: list = field(default_factory=list)  # (class id, probability) for each probe image
    message: str = ""  # why it stopped or failed, in words
    warning: str = ""  # while it trains: why it will not finish in time, in words
    result: "TrainedModel | None" = None

    @property
    def validation_accuracy(self) -> float | None:
        return self.validation_curve[-1][2] if self.validation_curve else None


class Run:
    """One press of Train: the settings, the images, a stop switch and the latest Progress."""

    def __init__(self, settings: Settings, pool: TrainingPool):
        self.settings = settings.checked()
        self.pool = pool
        self.stop_requested = threading.Event()
        self.last_seen = time.monotonic()
        self._lock = threading.Lock()
        self._progress = Progress(epochs=settings.epochs)

    def stop(self) -> None:
        """Stop after the batch in flight and keep what it has learnt (a queued run just leaves the queue)."""
        self.stop_requested.set()

    def snapshot(self) -> Progress:
        """A copy of the latest progress, safe to read while the run goes on; reading it keeps the run alive."""
        self.last_seen = time.monotonic()
        with self._lock:
            return replace(self._progress, training_curve=list(self._progress.training_curve),
                           validation_curve=list(self._progress.validation_curve), epoch_curve=list(self._progress.epoch_curve))  # fmt: skip

    def update(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self._progress, name, value)

    def append(self, curve: str, point: tuple) -> None:
        with self._lock:
            getattr(self._progress, curve).append(point)

    @property
    def ended(self) -> bool:
        with self._lock:
            return self._progress.state in ENDED


class Trainer:
    """One training at a time for the whole server, in its own low-priority process; the rest wait in line.

    Why a process and not a thread: a thread shares the interpreter's lock with the sessions that draw, and
    its low priority backfires, since the OS sets it aside while it holds the lock and every session then
    waits for it. A process shares no lock, so its priority works; the server never imports Keras (its
    memory and its garbage collections stay small); and a run that exhausts memory ends only that process,
    which starts again for the next run. This object lives in the server: it keeps the queue and relays each
    run's progress from the training process (TrainingProcess) into the Run the page polls.
    """

    def __init__(self):
        self._queue: deque[Run] = deque()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pool: TrainingPool | None = None
        self.ready = threading.Event()  # set while a training process is warmed up and waiting for runs
        self.training_process: TrainingProcess | None = None
        self._last_visit = time.monotonic()  # the page's last script run, or the last run's end

    def pool(self) -> TrainingPool:
        """What the page shows of the training images, read once per server (raises DatasetError when none can
        be read): their labels and the test images. The training process reads its own copy of the images it
        trains on; the server keeps none of them."""
        with self._condition:
            if self._pool is None:
                pool = training_pool()
                self._pool = replace(pool, x_train=pool.x_train[:0].copy(), x_validation=pool.x_validation[:0].copy())
            return self._pool

    def forget_pool(self) -> None:
        """Read the images again next time: after the full set has been downloaded."""
        with self._condition:
            self._pool = None

    def start(self) -> None:
        """Start the training process, which imports the framework at once, or keep it: the page calls this
        each time it runs, so that pressing Train does not wait for the import."""
        with self._condition:
            self._last_visit = time.monotonic()
            self._condition.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="playground-trainer", daemon=True)
                self._thread.start()

    def submit(self, settings: Settings) -> Run:
        """Queue a run (a ValueError for settings out of range) and return it; the page polls its snapshot."""
        run = Run(settings, self.pool())
        self.start()
        with self._condition:
            self._queue.append(run)
            self._renumber()
            self._condition.notify()
        return run

    def _renumber(self) -> None:
        for position, waiting in enumerate(self._queue, start=1):
            waiting.update(queue_position=position)

    def _next_run(self, until_idle: bool = False) -> Run | None:
        """The next run in the queue, waiting for one; with until_idle, None once nobody has run the page or
        trained for IDLE_SECONDS."""
        with self._condition:
            while not self._queue:
                idle_for = self._idle_for()
                if until_idle and idle_for >= IDLE_SECONDS:
                    return None
                self._condition.wait(IDLE_SECONDS - idle_for if until_idle else None)
            run = self._queue.popleft()
            self._renumber()
            return run

    def _wait_for_a_visit(self) -> None:
        """Until the page runs again or a run is queued: the idle test _next_run used, so a visit made while the
        idle process was ending still counts."""
        with self._condition:
            while not self._queue and self._idle_for() >= IDLE_SECONDS:
                self._condition.wait()

    def _idle_for(self) -> float:
        return time.monotonic() - self._last_visit

    def _work(self) -> None:
        while True:
            self.training_process = TrainingProcess()
            if not self.training_process.started():
                self._fail_next_run("The Playground's training process did not start; the server's log says why.")
                continue
            self.ready.set()
            while self.training_process.alive:
                run = self._next_run(until_idle=True)
                if run is None:  # its memory is better spent on the sessions that draw; the next visit starts another
                    self.ready.clear()
                    self.training_process.end()
                    self._wait_for_a_visit()
                    break
                if run.stop_requested.is_set():
                    run.update(state=STOPPED, message="Stopped before it started.", queue_position=0)
                    continue
                run.update(state=PREPARING, queue_position=0)
                self.training_process.train(run)
                with self._condition:
                    self._last_visit = time.monotonic()

    def _fail_next_run(self, message: str) -> None:
        run = self._next_run()
        if run is not None:
            run.update(state=FAILED, message=message, queue_position=0)


IDLE_SECONDS = 600  # without a run or a visit to the page, the training process ends and hands back its memory
RELAY_EVERY_SECONDS = 0.05  # how soon Stop, the page's polls and people's answers reach the training process


class TrainingProcess:
    """The process that trains (`serve`, below), seen from the server: a fresh interpreter at the lowest CPU
    priority, spoken to over a socket pair with pickled messages.

    Server to trainer: ("train", settings, pool source), ("stop",), ("seen", moment), ("answering", moment).
    Trainer to server: ("ready",) once, then for each run ("update", changes) and ("append", curve, point) as
    Run.update and Run.append take them, and ("ended",). Moments are time.monotonic(), one clock machine-wide.
    """

    def __init__(self):
        ours, theirs = multiprocessing.Pipe()
        # Keras on JAX, as the app runs it, whatever backend the server's own environment names.
        environment = {**os.environ, "KERAS_BACKEND": "jax"}
        self.popen = subprocess.Popen([sys.executable, "-c", f"from cnn.playground import serve; serve({theirs.fileno()})"],
                                        pass_fds=(theirs.fileno(),), cwd=PROJECT_DIR, env=environment)  # fmt: skip
        theirs.close()
        self.connection = ours
        self.alive = True

    def started(self) -> bool:
        """Wait until the framework is imported and warmed up; False where the process ended first."""
        try:
            self.alive = self.connection.recv() == ("ready",)
        except (EOFError, OSError):
            self.alive = False
        if not self.alive:
            self.end()
        return self.alive

    def train(self, run: Run) -> None:
        """Train run there: its progress relayed into run until it ends, and Stop, the page's polls and people's
        answers relayed the other way. Where the process dies meanwhile (out of memory), the run fails with a
        message and the process is ended, so the trainer starts a new one."""
        relayed = {"stop": False, "seen": 0.0, "answering": 0.0}
        try:
            self.connection.send(("train", run.settings, run.pool.source))
            while True:
                while self.connection.poll(RELAY_EVERY_SECONDS):
                    message = self.connection.recv()
                    if message[0] == "ended":
                        return
                    if message[0] == "update":
                        run.update(**message[1])
                    elif message[0] == "append":
                        run.append(message[1], message[2])
                if run.stop_requested.is_set() and not relayed["stop"]:
                    self.connection.send(("stop",))
                    relayed["stop"] = True
                for name, moment in (("seen", run.last_seen), ("answering", activity.last_answer())):
                    if moment != relayed[name]:
                        self.connection.send((name, moment))
                        relayed[name] = moment
        except (EOFError, OSError):
            run.update(state=FAILED, message="The training process ended unexpectedly, most likely out of memory: try fewer "
                                             "filters, blocks or images. The next run starts a new one.")  # fmt: skip
            self.end()

    def end(self) -> None:
        self.alive = False
        self.connection.close()
        self.popen.kill()
        self.popen.wait()


class RelayedRun(Run):
    """A run inside the training process: each change to its progress is also sent to the server."""

    def __init__(self, settings: Settings, connection):
        super().__init__(settings, pool=None)  # type: ignore[arg-type]  # the pool is set before it trains
        self.connection = connection

    def update(self, **changes) -> None:
        super().update(**changes)
        self.connection.send(("update", changes))

    def append(self, curve: str, point: tuple) -> None:
        super().append(curve, point)
        self.connection.send(("append", curve, point))


def serve(handle: int) -> None:
    """The training process's life (TrainingProcess starts it): import and warm up the framework, say ready,
    then train each run the server sends, one at a time, until the server goes."""
    os.setpriority(os.PRIO_PROCESS, 0, 19)  # the lowest, for every thread it starts (XLA's among them): drawing comes first
    sys.meta_path.insert(0, UNUSED_BY_THE_TRAINER)
    connection = multiprocessing.connection.Connection(handle)
    try:
        pool: TrainingPool | None = training_pool()  # now, not when the first run waits for it
    except DatasetError:
        pool = None  # the page says why; each run tries again
    warm_up()
    activity.set_aside_loaded_objects()  # Keras and JAX hold hundreds of thousands of objects: each collection would walk them
    connection.send(("ready",))
    runs: queue.SimpleQueue[tuple[RelayedRun, str]] = queue.SimpleQueue()
    threading.Thread(target=listen, args=(connection, runs), name="playground-listener", daemon=True).start()
    while True:
        run, pool_source = runs.get()
        try:
            if pool is None or pool.source != pool_source:  # the server downloaded the full set since
                pool = training_pool()
            run.pool = pool
            train(run)
        except Exception as error:  # a run must never take the training process down with it
            run.update(state=FAILED, message=f"Training failed: {error}")
        release_freed_memory()  # the run's network and compiled steps are gone with train()
        connection.send(("ended",))


def listen(connection, runs: "queue.SimpleQueue[tuple[RelayedRun, str]]") -> None:
    """The training process's ear: runs to train, and Stop, the page's polls and answers for the run in hand."""
    current: RelayedRun | None = None
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            os._exit(0)  # the server has gone: so does its training process
        if message[0] == "train":
            current = RelayedRun(message[1], connection)
            runs.put((current, message[2]))
        elif message[0] == "stop" and current is not None:
            current.stop()
        elif message[0] == "seen" and current is not None:
            current.last_seen = message[1]
        elif message[0] == "answering":
            activity.answering(at=message[1])


# ---------------------------------------------------------------------------------------
# The framework, the network and the loop.


def framework():
    """Keras on the JAX backend, imported on first use.

    Keras picks its backend once per process: where something imported it earlier, or KERAS_BACKEND names
    another (the test suite's in-process tests run on TensorFlow), the Playground runs on that one.
    """
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "jax")
        if os.environ["KERAS_BACKEND"] == "jax":
            sys.meta_path.insert(0, NO_TENSORFLOW)
    import keras

    if keras.backend.backend() == "jax":
        keep_compiled_steps()
        compile_random_numbers_quickly()
    return keras


COMPILED_STEPS_FOLDER = Path(tempfile.gettempdir()) / "fashion-cnn-playground-xla"
COMPILED_STEPS_MAX_BYTES = 64 * 1024 * 1024


def keep_compiled_steps() -> None:
    """JAX's compilation cache on disk: a network compiled before (the warm-up's default, a preset trained
    again, or after a restart) loads its compiled steps instead of compiling them again, so its first curve
    point comes in a fraction of the time. Keyed by the computation and the JAX version; least recently used
    entries go beyond the size limit."""
    import jax

    if jax.config.values["jax_compilation_cache_dir"] is None:  # not chosen by the environment or the caller
        jax.config.update("jax_compilation_cache_dir", str(COMPILED_STEPS_FOLDER))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # the Playground's small steps compile in under a second
        jax.config.update("jax_compilation_cache_max_size", COMPILED_STEPS_MAX_BYTES)


def compile_random_numbers_quickly() -> None:
    """JAX's random numbers in their classic form: its newer "partitionable" form, made for splitting the work
    across devices (one CPU never does), takes seconds to compile on a CPU for each new shape of weights that
    Keras initialises, and a network is built, compile included, in a fraction of that time with the classic
    form. Each run is as reproducible either way; only the numbers a seed gives differ."""
    import jax

    if "jax_threefry_partitionable" in jax.config.values:  # an option that a later JAX may retire
        jax.config.update("jax_threefry_partitionable", False)


class HiddenModules(importlib.abc.MetaPathFinder):
    """Makes importing the named packages fail in this process, as if they were not installed."""

    def __init__(self, names: set[str], why: str):
        self.names, self.why = names, why

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"{name} is hidden from the Playground's Keras (cnn/playground.py): {self.why}")
        return None


# Keras asks whether TensorFlow is installed each time it describes a layer, and imports it if so: seconds and
# hundreds of MB that the JAX backend never uses. The app's runtime has no TensorFlow (Community Cloud installs
# requirements.txt), so a development install that has it runs the Playground the same way.
NO_TENSORFLOW = HiddenModules({"tensorflow"}, "the app's runtime has none")
# Keras imports these where installed (Streamlit installs pandas and PyArrow, the app OpenCV) for data and
# image features the Playground never uses: hidden in the training process, its import is quicker and smaller.
UNUSED_BY_THE_TRAINER = HiddenModules({"pandas", "pyarrow", "cv2"}, "the training process never uses them")


def warm_up() -> None:
    """One training step and one prediction of the default preset's network, then its memory handed back: the
    first compile in a process pays seconds of set-up, and compiling a network again goes several times faster,
    so pressing Train on the default (what most people do first) shows its first curve point sooner."""
    settings = Settings()
    model = build_network(settings)
    model.train_on_batch(np.zeros((settings.batch_size, 28, 28, 1), np.float32), np.zeros(settings.batch_size, LABEL_DTYPE))
    model.predict_on_batch(np.zeros((PREDICT_CHUNK, 28, 28, 1), np.float32))
    del model
    release_freed_memory()


def release_freed_memory() -> None:
    """Hand the memory a compile used and freed back to the system (glibc keeps it otherwise): the app shares
    its process, and Community Cloud's memory, with every session."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS): its allocator returns memory by itself
        pass


def build_network(settings: Settings):
    """The Keras model the settings describe, compiled for training."""
    keras = framework()
    from cnn.model import build_convnet

    # keras.utils.set_random_seed would import TensorFlow where it is installed (seconds, hundreds of MB).
    # A cleared session makes Keras draw its weight seeds from Python's random afresh.
    keras.backend.clear_session()
    random.seed(settings.seed)
    model = build_convnet(settings.block_filters, settings.kernel_size, settings.padding, settings.pooling,
                          settings.batch_norm, settings.dropout, settings.dense_units, name="playground")  # fmt: skip
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9  # Keras's 0.99 needs more steps than a short run takes to settle its statistics
    optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}[settings.optimizer]
    model.compile(optimizer(learning_rate=settings.learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def chosen_images(pool: TrainingPool, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """count training images, every class equally often: (count, 28, 28) uint8 and (count,) labels."""
    order = np.random.default_rng(seed).permutation(len(pool.y_train))
    rank = np.empty(len(order), dtype=np.int64)
    for label in range(NUM_CLASSES):
        members = order[pool.y_train[order] == label]  # this class's images, in shuffled order
        rank[members] = np.arange(len(members)) * NUM_CLASSES + label
    chosen = np.argsort(rank, kind="stable")[:count]  # round robin over the classes: 500 images hold 50 of each
    return pool.x_train[chosen], pool.y_train[chosen]


def probe_indices(pool: TrainingPool) -> np.ndarray:
    """The test images whose current guess the page shows: the first of each of the first PROBES classes, (PROBES,)."""
    return np.array([np.flatnonzero(pool.y_test == label)[0] for label in range(PROBES)])


def as_inputs(images: np.ndarray, augment: bool = False, rng: np.random.Generator | None = None) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 28, 28, 1) float32 in 0..1, flipped and shifted at random when augmenting."""
    inputs = images.astype(np.float32) / 255.0
    if augment and rng is not None:
        flip = rng.random(len(inputs)) < 0.5
        inputs[flip] = inputs[flip, :, ::-1]
        padded = np.pad(inputs, ((0, 0), (2, 2), (2, 2)))
        rows, columns = rng.integers(0, 5, (2, len(inputs)))
        inputs = np.stack([padded[i, row : row + 28, column : column + 28] for i, (row, column) in enumerate(zip(rows, columns))])
    return inputs[..., np.newaxis]


def predicted(model, images: np.ndarray, run: Run | None = None) -> np.ndarray:
    """The model's probabilities (N, 10) for uint8 images (N, 28, 28), in chunks of one fixed shape; during a run,
    each chunk steps aside for people drawing first, as each training step does."""
    chunks = []
    for start in range(0, len(images), PREDICT_CHUNK):
        if run is not None:
            step_aside(run)
        chunk = as_inputs(images[start : start + PREDICT_CHUNK])
        padded = np.concatenate([chunk, np.zeros((PREDICT_CHUNK - len(chunk), *chunk.shape[1:]), np.float32)])
        chunks.append(np.asarray(model.predict_on_batch(padded))[: len(chunk)])
    return np.concatenate(chunks) if chunks else np.zeros((0, 10), np.float32)


def loss_and_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    chosen = probabilities[np.arange(len(labels)), labels]
    loss = float(-np.mean(np.log(np.maximum(chosen, 1e-7))))
    return loss, float(np.mean(probabilities.argmax(axis=1) == labels))


class RunEnded(Exception):
    """The loop's way out: stopped by the user, by the time limit, or by a diverged loss."""

    def __init__(self, state: str, message: str):
        super().__init__(message)
        self.state, self.message = state, message


def train(run: Run) -> None:
    """Train run's network, publishing its progress, until the last epoch, Stop, the time limit or NaN."""
    settings, pool = run.settings, run.pool
    rng = np.random.default_rng(settings.seed)
    x_train, y_train = chosen_images(pool, settings.images, settings.seed)
    batch_size = min(settings.batch_size, len(x_train))
    steps_per_epoch = len(x_train) // batch_size  # the last partial batch is left out: a new shape would compile again
    model = build_network(settings)
    quick = slice(0, QUICK_VALIDATION)
    probes = probe_indices(pool)
    started = time.monotonic()
    counted_from: tuple[float, int] | None = None  # (time, images seen) when the first step, which compiles, returned
    images_seen, sums, last_point, last_publish = 0, [0.0, 0.0, 0], started, 0.0
    state, message = FINISHED, ""
    run.update(state=TRAINING, epochs=settings.epochs)
    try:
        for epoch in range(1, settings.epochs + 1):
            run.update(epoch=epoch)
            order = rng.permutation(len(x_train))
            epoch_sums = [0.0, 0.0, 0]
            for step in range(steps_per_epoch):
                check_stop(run, started)
                step_aside(run)
                batch = order[step * batch_size : (step + 1) * batch_size]
                labels = y_train[batch].astype(LABEL_DTYPE)
                logs = model.train_on_batch(as_inputs(x_train[batch], settings.augment, rng), labels, return_dict=True)
                loss, accuracy = float(logs["loss"]), float(logs["accuracy"])
                if not math.isfinite(loss):
                    raise RunEnded(FAILED, f"The loss became {loss} in epoch {epoch}: the steps are too big and the weights blew up. "
                                           "Lower the learning rate (try 0.001 with Adam) or turn BatchNorm on.")  # fmt: skip
                images_seen += len(batch)
                if counted_from is None:  # the first step compiled the network: its working memory is free now
                    release_freed_memory()
                    counted_from = (time.monotonic(), images_seen)
                for totals in (sums, epoch_sums):
                    totals[0], totals[1], totals[2] = totals[0] + loss, totals[1] + accuracy, totals[2] + 1
                now = time.monotonic()
                position = epoch - 1 + (step + 1) / steps_per_epoch
                if now - last_point >= CURVE_POINT_EVERY_SECONDS:
                    run.append("training_curve", (position, sums[0] / sums[2], sums[1] / sums[2]))
                    sums, last_point = [0.0, 0.0, 0], now
                if now - last_publish >= PUBLISH_EVERY_SECONDS:
                    publish(run, model, pool, quick, probes, position, images_seen, started, counted_from, steps_per_epoch * batch_size)
                    last_publish = time.monotonic()
            validation = loss_and_accuracy(predicted(model, pool.x_validation, run), pool.y_validation)
            count = max(epoch_sums[2], 1)
            run.append("epoch_curve", (epoch, epoch_sums[0] / count, epoch_sums[1] / count, *validation))
            run.append("validation_curve", (float(epoch), *validation))
            if validation[1] < AT_CHANCE:
                raise RunEnded(FAILED, f"After epoch {epoch} the network still guesses at chance (validation accuracy {validation[1]:.0%}, "
                                       f"loss {validation[0]:.1f}): the steps overshoot, the weights blew up and it answers one class "
                                       "for everything. Lower the learning rate (0.001 with Adam) and train again.")  # fmt: skip
    except RunEnded as ended:
        state, message = ended.state, ended.message
    if state == FAILED or images_seen == 0:  # a diverged network is worth nothing to keep
        run.update(state=FAILED if state == FAILED else STOPPED, message=message or "Stopped before the first step: nothing was learnt.",
                   elapsed_seconds=time.monotonic() - started, remaining_seconds=None)  # fmt: skip
        return
    result = finished_model(model, run, images_seen, time.monotonic() - started, state == STOPPED)
    run.update(state=state, message=message, result=result, remaining_seconds=0.0, elapsed_seconds=time.monotonic() - started)


def step_aside(run: Run) -> None:
    """Pause while someone is waiting for an answer (cnn/activity.py): the run slows down while people draw.
    Stop still ends it at once."""
    waited = 0.0
    while activity.seconds_since_answering() < STEP_ASIDE_SECONDS and waited < MAX_STEP_ASIDE_SECONDS and not run.stop_requested.is_set():
        time.sleep(STEP_ASIDE_PAUSE_SECONDS)
        waited += STEP_ASIDE_PAUSE_SECONDS


def check_stop(run: Run, started: float) -> None:
    """Raise RunEnded when the user pressed Stop, the page has been closed or the run's time is up."""
    now = time.monotonic()
    if run.stop_requested.is_set():
        raise RunEnded(STOPPED, "Stopped: the network keeps what it learnt so far.")
    if now - run.last_seen > ABANDONED_AFTER_SECONDS:
        raise RunEnded(STOPPED, "Stopped: its page was closed.")
    if now - started > MAX_RUN_SECONDS:
        raise RunEnded(STOPPED, f"Stopped at the {MAX_RUN_SECONDS // 60}-minute limit per run: the network keeps what it learnt. "
                                "Fewer images or epochs, or a smaller network, finish in time.")  # fmt: skip


def publish(run: Run, model, pool: TrainingPool, quick: slice, probes: np.ndarray, position: float, images_seen: int,
            started: float, counted_from: tuple[float, int], images_per_epoch: int) -> None:  # fmt: skip
    """Once a second: a validation point, speed and time left, the first layer's filters and maps, the probes' guesses,
    and a warning while, at the speed measured, the run would not finish within the time limit."""
    now = time.monotonic()
    # Counted from the end of the first step, which includes compiling the network.
    rate = (images_seen - counted_from[1]) / max(now - counted_from[0], 1e-6)
    remaining = (run.settings.epochs * images_per_epoch - images_seen) / rate if rate else None
    # A warning, not an end: people drawing come first and can slow a run several times for a while, and the
    # time limit itself ends a run that really is too slow, keeping what it learnt.
    warning = ""
    if remaining is not None and now - counted_from[0] > WARN_AFTER_SECONDS and now - started + remaining > MAX_RUN_SECONDS:
        warning = (f"At {rate:,.0f} images a second this run needs about {(now - started + remaining) / 60:.0f} minutes: it will stop at "
                   f"the {MAX_RUN_SECONDS // 60}-minute limit per run and keep what it learnt by then. Fewer images or epochs, fewer "
                   "filters or blocks, or pooling, finish in time.")  # fmt: skip
    validation = loss_and_accuracy(predicted(model, pool.x_validation[quick], run), pool.y_validation[quick])
    run.append("validation_curve", (position, *validation))
    guesses = predicted(model, pool.x_test[probes], run)
    filters, maps = first_layer_view(model, pool.x_test[probes[0]])
    run.update(images_per_second=rate, elapsed_seconds=now - started, remaining_seconds=remaining, filters=filters, feature_maps=maps,
               probe_guesses=[(int(row.argmax()), float(row.max())) for row in guesses], warning=warning)  # fmt: skip


def first_layer_view(model, image: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The first conv layer's kernels (k, k, F) and its maps (H, W, F) for one uint8 image; None for an MLP."""
    convs = [layer for layer in model.layers if layer.name == "conv1"]
    if not convs:
        return None, None
    net = NumpyNet(layer_chain(model), model.name)
    maps = net.feature_maps(net.forward(as_inputs(image[np.newaxis])[0]))["conv1"]
    return np.asarray(convs[0].get_weights()[0])[:, :, 0, :], maps


# ---------------------------------------------------------------------------------------
# What a run leaves: framework-free, ready for the Draw page and the download.


@dataclass(frozen=True)
class TrainedModel:
    settings: Settings
    net: NumpyNet  # the network's layers as NumPy: the Draw and Feature maps pages run this
    rule: UnsureRule  # temperature and "not sure" threshold, fitted on the validation half
    scores: dict  # test accuracy and the rest of the model card, JSON-ready
    confusion: np.ndarray  # (10, 10) on the test half, rows true classes
    test_predictions: np.ndarray  # (N,) class ids on the pool's test half
    keras_file: bytes  # the trained model as a .keras file

    def card(self) -> dict:
        """The JSON beside the download: settings and scores."""
        return {"settings": asdict(self.settings), "network": self.settings.describe(), **self.scores,
                "unsure_rule": self.rule.as_dict(), "confusion_matrix": self.confusion.tolist()}  # fmt: skip

    def answer(self, model_input: np.ndarray, top_k: int = 3) -> dict:
        """predict()'s result for a (28, 28) model input in 0..1 (what preprocess() returns), from this network."""
        from cnn.predict import results_from_probabilities

        probabilities = self.net.probabilities(np.asarray(model_input, np.float32)[:, :, np.newaxis])[np.newaxis]  # (1, 10)
        return results_from_probabilities(probabilities, top_k, PLAYGROUND, rule=self.rule)[0]


def finished_model(model, run: Run, images_seen: int, seconds: float, stopped: bool) -> TrainedModel:
    """Score the network on the test half, calibrate it on the validation half and keep it as NumPy and .keras."""
    keras = framework()
    pool = run.pool
    test_probabilities = predicted(model, pool.x_test, run)
    test_predictions = test_probabilities.argmax(axis=1)
    validation = predicted(model, pool.x_validation, run)
    rule = fit_unsure_rule(validation, pool.y_validation, held_out=f"the Playground's validation images ({len(validation):,})")
    progress = run.snapshot()
    scores = {
        "test_accuracy": round(float(np.mean(test_predictions == pool.y_test)), 4),
        "test_images": int(len(pool.y_test)),
        "validation_accuracy": round(loss_and_accuracy(validation, pool.y_validation)[1], 4),
        "epochs_run": round(images_seen / max(1, min(run.settings.images, len(pool.y_train))), 2),
        "stopped_early": stopped,
        "seconds": round(seconds, 1),
        "images_per_second": round(progress.images_per_second),
        "parameters": int(model.count_params()),
        "training_images": f"{min(run.settings.images, len(pool.y_train)):,} from {pool.source}",
        "framework": f"Keras {keras.__version__} on {keras.backend.backend()}",
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "playground.keras"
        model.save(path)
        keras_file = path.read_bytes()
    net = NumpyNet(layer_chain(model), PLAYGROUND)
    return TrainedModel(run.settings, net, rule, scores, confusion_matrix(pool.y_test, test_predictions), test_predictions, keras_file)
