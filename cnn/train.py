"""Training CLI: python -m cnn.train --model cnn --epochs 30 --out assets/

Writes, atomically, into --out: <model>.keras, <model>_history.json (per-epoch train/val
loss and accuracy) and <model>_metrics.json (test metrics, training set-up, command, seed,
library versions). The test set is used only for that final report.
"""

import argparse
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from cnn.artifacts import write_atomically, write_json
from cnn.config import ASSETS_DIR, MODEL_NAMES, SEED
from cnn.data import load_fashion_mnist

VALIDATION_SIZE = 6_000
WARMUP_EPOCHS = 1
WEIGHT_DECAY = 5e-4

# Per model: (peak learning rate, batch size, augment). The tutorial baseline and the MLP
# train as the seeds trained them, without augmentation, so the comparison stays honest.
TRAINING_SETUP = {
    "cnn": (2e-3, 128, True),
    "baseline": (1e-3, 128, False),
    "mlp": (1e-3, 128, False),
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


def library_versions() -> dict:
    import keras
    import PIL
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "platform": platform.platform(),
    }


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
    from cnn.evaluate import classification_report
    from cnn.model import build_model
    from cnn.predict import probabilities_of

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

    # Final report on the test set, through the same inference path the app uses.
    probabilities = probabilities_of(model, to_model_input(x_test))
    report = classification_report(y_test, probabilities.argmax(axis=1))
    test_loss = float(-np.mean(np.log(np.clip(probabilities[np.arange(len(y_test)), y_test], 1e-7, 1.0))))
    epochs_run = len(history["loss"])
    best_epoch = int(np.argmax(history["val_accuracy"])) + 1

    out_dir = Path(out_dir)
    model_file = out_dir / f"{model_name}.keras"
    # Ship the weights without the optimizer state: a third of the size, and the app never trains.
    inference_model = build_model(model_name)
    inference_model.set_weights(model.get_weights())
    write_atomically(model_file, inference_model.save)
    metrics = {
        "model": model_name,
        "test_accuracy": report["accuracy"],
        "test_loss": round(test_loss, 4),
        **{key: report[key] for key in ("macro_precision", "macro_recall", "macro_f1")},
        "per_class": report["per_class"],
        "confusion_matrix": report["confusion_matrix"],
        "parameters": int(model.count_params()),
        "model_file_bytes": model_file.stat().st_size,
        "optimizer": f"AdamW (peak learning rate {peak_learning_rate}, weight decay {WEIGHT_DECAY}, "
        f"{WARMUP_EPOCHS}-epoch warm-up then cosine decay)",
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
        "test_size": len(x_test),
        "training_seconds": round(training_seconds, 1),
        "training_images_per_second": round(len(x_train) * epochs_run / training_seconds, 1),
        "seed": seed,
        "command": command,
        "versions": library_versions(),
    }
    write_json(out_dir / f"{model_name}_history.json", history)
    write_json(out_dir / f"{model_name}_metrics.json", metrics)
    return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=MODEL_NAMES, default="cnn")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ASSETS_DIR)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the model's own")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N images (smoke tests)")
    args = parser.parse_args(argv)
    command = "python -m cnn.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    metrics = train(args.model, args.epochs, args.out, args.seed, args.limit, args.batch_size, command=command)
    print(
        f"{args.model}: test accuracy {metrics['test_accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}, "
        f"{metrics['parameters']:,} parameters, {metrics['training_seconds']:.0f} s -> {args.out}"
    )


if __name__ == "__main__":
    main()
