"""Training CLI: python -m cnn.train --model cnn --epochs 30 --out assets/

Writes, atomically, into --out: <model>.keras, <model>.tflite (the serving model predict()
runs, see cnn/serving.py), <model>_history.json (per-epoch train/val loss and accuracy) and
<model>_metrics.json (test metrics through the serving model, training set-up, command, seed,
library versions). The test set is used only for that final report.

`--export-only` redoes the last step for a model already trained in --out: export the serving
model from its .keras and score the test set again, keeping the training record.
"""

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cnn.artifacts import library_versions, read_json, write_atomically, write_json
from cnn.config import ASSETS_DIR, MODEL_NAMES, SEED
from cnn.data import load_fashion_mnist

VALIDATION_SIZE = 6_000
WARMUP_EPOCHS = 1
# AdamW decays by weight_decay * learning_rate per step (decoupled, Loshchilov & Hutter), so it
# takes values near 0.05, not SGD's 5e-4, which here shrank weights by only 1e-6 a step.
WEIGHT_DECAY = 0.05
# BatchNorm's scale and shift and the biases are not decayed: they set no capacity.
NO_DECAY_VARIABLES = ("gamma", "beta", "bias")


class Setup(NamedTuple):
    peak_learning_rate: float
    batch_size: int
    augment: bool  # flips and the rest of cnn.augment; also decides the serving model's flip averaging


# The tutorial baseline and the MLP train as the seeds trained them, without augmentation, so the
# comparison stays honest.
TRAINING_SETUP = {
    "cnn": Setup(peak_learning_rate=2e-3, batch_size=128, augment=True),
    "baseline": Setup(peak_learning_rate=1e-3, batch_size=128, augment=False),
    "mlp": Setup(peak_learning_rate=1e-3, batch_size=128, augment=False),
}


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in 0..1."""
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def split_validation(x: np.ndarray, y: np.ndarray, validation_size: int, seed: int):
    """Shuffle with the seed and carve the last validation_size images off as validation."""
    order = np.random.default_rng(seed).permutation(len(x))
    train_index, validation_index = order[:-validation_size], order[-validation_size:]
    return (x[train_index], y[train_index]), (x[validation_index], y[validation_index])


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, augmenter=None, shuffle_seed=None):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((to_model_input(x), y.astype(np.int32)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augmenter is not None:
        dataset = dataset.map(lambda images, labels: (augmenter(images), labels))
    return dataset.prefetch(tf.data.AUTOTUNE)


def train(
    model_name: str,
    epochs: int,
    out_dir: Path,
    seed: int = SEED,
    limit: int | None = None,
    batch_size: int | None = None,
    verbose: int | str = "auto",
    command: str | None = None,
) -> dict:
    """Train one model, write its three artifacts into out_dir and return its metrics."""
    import keras

    from cnn.augment import Augmenter
    from cnn.model import build_model

    if model_name not in TRAINING_SETUP:
        raise ValueError(f"Unknown model {model_name!r}; choose one of {', '.join(MODEL_NAMES)}.")
    if epochs < 1:
        raise ValueError("epochs must be at least 1.")
    peak_learning_rate, default_batch_size, augment = TRAINING_SETUP[model_name]
    batch_size = batch_size or default_batch_size
    keras.utils.set_random_seed(seed)

    # Data: train / validation split from the official training set; test kept for the report.
    (x_train_full, y_train_full), (x_test, y_test) = load_fashion_mnist()
    validation_size = VALIDATION_SIZE
    if limit:
        x_train_full, y_train_full = x_train_full[:limit], y_train_full[:limit]
        x_test, y_test = x_test[:limit], y_test[:limit]
        validation_size = max(limit // 10, 1)
    (x_train, y_train), (x_val, y_val) = split_validation(x_train_full, y_train_full, validation_size, seed)
    augmenter = Augmenter(seed) if augment else None
    train_data = make_dataset(x_train, y_train, batch_size, augmenter, shuffle_seed=seed)
    val_data = make_dataset(x_val, y_val, batch_size)

    # Model: AdamW with linear warm-up then cosine decay to zero over the whole run.
    model = build_model(model_name)
    steps_per_epoch = int(np.ceil(len(x_train) / batch_size))
    warmup_steps = min(WARMUP_EPOCHS, epochs - 1) * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else peak_learning_rate,
        decay_steps=max(epochs * steps_per_epoch - warmup_steps, 1),
        warmup_target=peak_learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=WEIGHT_DECAY)
    optimizer.exclude_from_weight_decay(var_names=NO_DECAY_VARIABLES)
    loss = keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])

    # Fit, keeping the weights of the best validation epoch.
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=max(5, epochs // 3), restore_best_weights=True
    )
    started = time.perf_counter()
    fit = model.fit(train_data, validation_data=val_data, epochs=epochs, callbacks=[early_stopping], verbose=verbose)
    training_seconds = time.perf_counter() - started
    history = {key: [round(float(value), 5) for value in values] for key, values in fit.history.items()}
    history.pop("learning_rate", None)

    epochs_run = len(history["loss"])
    best_epoch = int(np.argmax(history["val_accuracy"])) + 1

    out_dir = Path(out_dir)
    # Ship the weights without the optimizer state: a third of the size, and the app never trains.
    inference_model = build_model(model_name)
    inference_model.set_weights(model.get_weights())
    write_atomically(out_dir / f"{model_name}.keras", inference_model.save)
    metrics = {
        "model": model_name,
        **export_and_evaluate(inference_model, model_name, out_dir, x_test, y_test),
        "parameters": int(model.count_params()),
        "optimizer": f"AdamW (peak learning rate {peak_learning_rate}, weight decay {WEIGHT_DECAY}, "
        f"BatchNorm and biases not decayed, {WARMUP_EPOCHS}-epoch warm-up then cosine decay)",
        "loss_function": "sparse categorical cross-entropy",
        "augmentation": "horizontal flip, +-2 px shifts, random erasing, outline and silhouette restyling"
        if augment
        else "none",
        "epochs": epochs,
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "batch_size": batch_size,
        "final_train_loss": history["loss"][best_epoch - 1],
        "final_train_accuracy": history["accuracy"][best_epoch - 1],
        "final_val_loss": history["val_loss"][best_epoch - 1],
        "final_val_accuracy": history["val_accuracy"][best_epoch - 1],
        "train_size": len(x_train),
        "val_size": len(x_val),
        "training_seconds": round(training_seconds, 1),
        "training_images_per_second": round(len(x_train) * epochs_run / training_seconds, 1),
        "seed": seed,
        "command": command,
        "versions": library_versions(),
    }
    write_json(out_dir / f"{model_name}_history.json", history)
    write_json(out_dir / f"{model_name}_metrics.json", metrics)
    return metrics


def export_and_evaluate(model, model_name: str, out_dir: Path, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """Export the serving model beside the Keras one and score the test set through it, as predict() will."""
    from cnn.evaluate import classification_report
    from cnn.serving import ServingModel, averages_flips, export_serving_model

    serving_file = out_dir / f"{model_name}.tflite"
    average_flips = averages_flips(model_name)
    export_serving_model(model, serving_file, average_flips)
    inputs = to_model_input(x_test)
    probabilities = ServingModel.from_file(serving_file)(inputs)
    report = classification_report(y_test, probabilities.argmax(axis=1))
    test_loss = float(-np.mean(np.log(np.clip(probabilities[np.arange(len(y_test)), y_test], 1e-7, 1.0))))
    single_pass = model.predict(inputs, batch_size=512, verbose=0).argmax(axis=1)
    return {
        "test_accuracy": report["accuracy"],
        "test_loss": round(test_loss, 4),
        **{key: report[key] for key in ("macro_precision", "macro_recall", "macro_f1")},
        "per_class": report["per_class"],
        "confusion_matrix": report["confusion_matrix"],
        "test_size": len(x_test),
        "single_pass_test_accuracy": round(float((single_pass == y_test).mean()), 4),
        "serving": "LiteRT (XNNPACK), int8 weights: "
        + ("the mean of the probabilities of the image and of its mirror image" if average_flips else "the model alone"),
        "model_file_bytes": (out_dir / f"{model_name}.keras").stat().st_size,
        "serving_file_bytes": serving_file.stat().st_size,
    }


def export_only(model_name: str, out_dir: Path, command: str | None = None) -> dict:
    """Re-export and re-score a model already trained in out_dir, keeping its training record."""
    import keras

    out_dir = Path(out_dir)
    model_file, metrics_file = out_dir / f"{model_name}.keras", out_dir / f"{model_name}_metrics.json"
    metrics = read_json(metrics_file)
    if metrics is None or not model_file.is_file():
        raise ValueError(f"No trained {model_name} in {out_dir}: train it first with python -m cnn.train --model {model_name}.")
    _, (x_test, y_test) = load_fashion_mnist()
    metrics.update(export_and_evaluate(keras.saving.load_model(model_file, compile=False), model_name, out_dir, x_test, y_test))
    metrics["export_command"] = command
    metrics["export_versions"] = library_versions()
    write_json(metrics_file, metrics)
    return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=MODEL_NAMES, default="cnn")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ASSETS_DIR)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the model's own")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N images (smoke tests)")
    parser.add_argument(
        "--export-only", action="store_true", help="no training: re-export and re-score the model already in --out"
    )
    args = parser.parse_args(argv)
    command = "python -m cnn.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    if args.export_only:
        metrics = export_only(args.model, args.out, command)
        print(f"{args.model}: test accuracy {metrics['test_accuracy']:.4f} through the serving model -> {args.out}")
        return
    metrics = train(args.model, args.epochs, args.out, args.seed, args.limit, args.batch_size, command=command)
    print(
        f"{args.model}: test accuracy {metrics['test_accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}, "
        f"{metrics['parameters']:,} parameters, {metrics['training_seconds']:.0f} s -> {args.out}"
    )


if __name__ == "__main__":
    main()
