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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn.artifacts import library_versions, read_json, write_atomically, write_json
from cnn.config import ASSETS_DIR, NUM_CLASSES, SEED
from cnn.data import load_fashion_mnist
from cnn.registry import DRAWINGS, MODEL_NAMES, averages_flips, model_spec

VALIDATION_SIZE = 6_000
WARMUP_EPOCHS = 1
# AdamW decays by weight_decay * learning_rate per step (decoupled, Loshchilov & Hutter), so it
# takes values near 0.05, not SGD's 5e-4, which here shrank weights by only 1e-6 a step.
WEIGHT_DECAY = 0.05
# BatchNorm's scale and shift and the biases are not decayed: they set no capacity.
NO_DECAY_VARIABLES = ("gamma", "beta", "bias")


# The drawing model's extra data (cnn/doodles.py): each training image abstracted into a doodle,
# plus procedural doodles of every class; validated on doodles alone, since drawings are its job.
PROCEDURAL_DOODLES = 40_000
# Doodles of things that are none of the ten (cnn/outliers.py), taught the uniform answer: outlier exposure.
OUTLIER_DOODLES = 16_000
PROCEDURAL_VALIDATION_DOODLES = 4_000
DOODLE_VALIDATION_SEED_OFFSET = 1_000  # validation doodles come from their own seed
CORRECTION_COPIES = 16  # placements of each correction kept by the Draw page, as for the real doodles


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in 0..1."""
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def split_validation(x: np.ndarray, y: np.ndarray, validation_size: int, seed: int):
    """Shuffle with the seed and carve the last validation_size images off as validation."""
    order = np.random.default_rng(seed).permutation(len(x))
    train_index, validation_index = order[:-validation_size], order[-validation_size:]
    return (x[train_index], y[train_index]), (x[validation_index], y[validation_index])


def targets(labels: np.ndarray) -> np.ndarray:
    """uint8 labels (N,) -> float32 (N, 10) training targets: one-hot for a class, every class 1/10 for
    OUTLIER, "none of the ten" (outlier exposure: the loss then pushes the answer towards uniform)."""
    from cnn.outliers import OUTLIER

    one_hot = np.zeros((len(labels), NUM_CLASSES), np.float32)
    known = labels != OUTLIER
    one_hot[np.flatnonzero(known), labels[known]] = 1.0
    one_hot[~known] = 1.0 / NUM_CLASSES
    return one_hot


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, augmenter=None, shuffle_seed=None):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((to_model_input(x), targets(y)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augmenter is not None:
        dataset = dataset.map(lambda images, labels: (augmenter(images), labels))
    return dataset.prefetch(tf.data.AUTOTUNE)


@dataclass(frozen=True)
class TrainingData:
    """What one run trains, validates and reports on: uint8 (N, 28, 28) images and uint8 labels."""

    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    dataset_images: tuple[np.ndarray, np.ndarray]  # the training photos: the nearest-neighbour index shows these, never doodles
    description: str  # for the metrics file


def train(
    model_name: str,
    epochs: int,
    out_dir: Path,
    seed: int = SEED,
    limit: int | None = None,
    batch_size: int | None = None,
    verbose: int | str = "auto",
    command: str | None = None,
    corrections: Path | None = None,
) -> dict:
    """Train one model, write its artifacts into out_dir and return its metrics.
    corrections: a SQLite file of the Draw page's kept corrections (cnn/teach.py), for the drawing model."""
    import keras

    from cnn.model import build_model

    spec = model_spec(model_name)
    if epochs < 1:
        raise ValueError("epochs must be at least 1.")
    if corrections is not None and spec.training_data != DRAWINGS:
        raise ValueError(f"--corrections are drawings: only a model trained on drawings takes them, not {model_name}.")
    batch_size = batch_size or spec.batch_size
    keras.utils.set_random_seed(seed)

    data = training_data(spec.training_data, seed, limit, corrections)
    model = compiled_model(model_name, epochs, steps_per_epoch=int(np.ceil(len(data.train[1]) / batch_size)))
    history, training_seconds = fit(model, data, epochs, batch_size, seed, spec.augment, verbose)

    out_dir = Path(out_dir)
    # Ship the weights without the optimizer state: a third of the size, and the app never trains.
    inference_model = build_model(model_name)
    inference_model.set_weights(model.get_weights())
    write_atomically(out_dir / f"{model_name}.keras", inference_model.save)
    metrics = {
        "model": model_name,
        **export_and_evaluate(inference_model, model_name, out_dir, data.test, data.validation, data.dataset_images, seed),
        "parameters": int(model.count_params()),
        "optimizer": f"AdamW (peak learning rate {spec.peak_learning_rate}, weight decay {WEIGHT_DECAY}, "
        f"BatchNorm and biases not decayed, {WARMUP_EPOCHS}-epoch warm-up then cosine decay)",
        "loss_function": "categorical cross-entropy (one-hot targets; uniform for drawings of none of the ten)",
        "augmentation": "horizontal flip, +-2 px shifts, random erasing, outline and silhouette restyling" if spec.augment else "none",
        "training_data": data.description,
        "batch_size": batch_size,
        **epoch_summary(history, epochs),
        "train_size": len(data.train[1]),
        "val_size": len(data.validation[1]),
        "training_seconds": round(training_seconds, 1),
        "training_images_per_second": round(len(data.train[1]) * len(history["loss"]) / training_seconds, 1),
        "seed": seed,
        "command": command,
        "versions": library_versions(),
    }
    write_json(out_dir / f"{model_name}_history.json", history)
    write_json(out_dir / f"{model_name}_metrics.json", metrics)
    return metrics


def training_data(kind: str, seed: int, limit: int | None, corrections: Path | None) -> TrainingData:
    """The train / validation split of the official training set (the test set kept for the report); for the
    drawing model, with its doodles and any kept corrections."""
    (x_train_full, y_train_full), test = load_fashion_mnist()
    validation_size = VALIDATION_SIZE
    if limit:
        x_train_full, y_train_full = x_train_full[:limit], y_train_full[:limit]
        test = (test[0][:limit], test[1][:limit])
        validation_size = max(limit // 10, 1)
    train_split, validation = split_validation(x_train_full, y_train_full, validation_size, seed)
    if kind != DRAWINGS:
        return TrainingData(train_split, validation, test, train_split, training_data_description(kind))
    (x_train, y_train), (x_val, y_val) = train_split, validation
    train_set, validation, real_doodles = with_doodles(x_train, y_train, x_val, y_val, seed, limit)
    description = training_data_description(kind, real_doodles)
    if corrections is not None:
        from cnn.teach import corrections_training_set

        corrected_images, corrected_labels, corrected = corrections_training_set(corrections, seed, CORRECTION_COPIES)
        train_set = joined([train_set, (corrected_images, corrected_labels)])
        description += f"; plus {corrected} corrections kept by the Draw page ({corrections.name}), {CORRECTION_COPIES} placements each"
    return TrainingData(train_set, validation, test, train_split, description)


def compiled_model(model_name: str, epochs: int, steps_per_epoch: int):
    """The untrained model, compiled: AdamW with a linear warm-up, then cosine decay to zero over the whole run."""
    import keras

    from cnn.model import build_model

    peak_learning_rate = model_spec(model_name).peak_learning_rate
    warmup_steps = min(WARMUP_EPOCHS, epochs - 1) * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else peak_learning_rate,
        decay_steps=max(epochs * steps_per_epoch - warmup_steps, 1),
        warmup_target=peak_learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=WEIGHT_DECAY)
    optimizer.exclude_from_weight_decay(var_names=NO_DECAY_VARIABLES)
    model = build_model(model_name)
    # Dense targets (see targets()): a one-hot class, or uniform for a drawing that is none of the ten.
    model.compile(
        optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(), metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")]
    )
    return model


def fit(model, data: TrainingData, epochs: int, batch_size: int, seed: int, augment: bool, verbose) -> tuple[dict, float]:
    """Fit, keeping the weights of the best validation epoch: the per-epoch history and the seconds it took."""
    import keras

    from cnn.augment import Augmenter

    train_data = make_dataset(*data.train, batch_size, Augmenter(seed) if augment else None, shuffle_seed=seed)
    validation_data = make_dataset(*data.validation, batch_size)
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=max(5, epochs // 3), restore_best_weights=True)
    started = time.perf_counter()
    fitted = model.fit(train_data, validation_data=validation_data, epochs=epochs, callbacks=[early_stopping], verbose=verbose)
    history = {key: [round(float(value), 5) for value in values] for key, values in fitted.history.items()}
    history.pop("learning_rate", None)
    return history, time.perf_counter() - started


def epoch_summary(history: dict, epochs: int) -> dict:
    """How the run went: the last epoch's losses and accuracies (final_*) and those of the best validation
    epoch, whose weights are kept (best_*)."""
    best_epoch = int(np.argmax(history["val_accuracy"])) + 1
    summary = {"epochs": epochs, "epochs_run": len(history["loss"]), "best_epoch": best_epoch}
    for key, name in (("loss", "train_loss"), ("accuracy", "train_accuracy"), ("val_loss", "val_loss"), ("val_accuracy", "val_accuracy")):
        summary[f"final_{name}"] = history[key][-1]
        summary[f"best_{name}"] = history[key][best_epoch - 1]
    return summary


def with_doodles(x_train, y_train, x_val, y_val, seed: int, limit: int | None):
    """The drawing model's data: the training images, each also abstracted into a doodle, procedural
    doodles, doodles of things that are none of the ten (cnn/outliers.py) and the training half of the real
    Quick, Draw! doodles (cnn/quickdraw.py) where the shared sample is beside the repository; validation on
    doodles of the ten only (see doodle_validation). Doodles are model inputs already framed by the sketch
    path, stored as uint8 like the dataset. Also returns how many real drawings were used, for the metrics file."""
    from cnn import quickdraw
    from cnn.doodles import abstracted_set, procedural_set
    from cnn.outliers import outlier_set

    procedural = limit or PROCEDURAL_DOODLES
    real_images, real_labels, real_count = quickdraw.training_set(seed, copies=1 if limit else quickdraw.COPIES)
    training = joined([(x_train, y_train), abstracted_set(x_train, y_train, seed), procedural_set(procedural, seed),
                       outlier_set(limit or OUTLIER_DOODLES, seed), (real_images, real_labels)])  # fmt: skip
    return training, doodle_validation(x_val, y_val, seed, limit), real_count


def doodle_validation(x_val, y_val, seed: int, limit: int | None):
    """The validation images abstracted into doodles, and procedural doodles, from a seed of their own."""
    from cnn.doodles import abstracted_set, procedural_set

    validation_seed = seed + DOODLE_VALIDATION_SEED_OFFSET
    procedural = max(limit // 10, 10) if limit else PROCEDURAL_VALIDATION_DOODLES
    return joined([abstracted_set(x_val, y_val, validation_seed), procedural_set(procedural, validation_seed)])


def joined(sets: list) -> tuple[np.ndarray, np.ndarray]:
    """[(images, labels), ...] -> one uint8 (N, 28, 28) image array and one uint8 label array."""
    images = np.concatenate([as_uint8(images) for images, _ in sets])
    return images, np.concatenate([labels for _, labels in sets]).astype(np.uint8)


def as_uint8(images: np.ndarray) -> np.ndarray:
    """Model inputs in 0..1 (or dataset images already uint8) -> uint8 (N, 28, 28)."""
    if images.dtype == np.uint8:
        return images
    return np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)


def reference_inputs(training_data: str, images: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """A class-balanced sample of what the model trained on, uint8 (N, 28, 28): the reference embeddings of
    the "not one of my ten" check. The drawing model's mixes its kinds of training input as training did:
    dataset images, the same abstracted into doodles, procedural doodles and the real training doodles."""
    from cnn.neighbours import REFERENCE_PER_CLASS, balanced_subset

    if training_data != DRAWINGS:
        return images[balanced_subset(labels, REFERENCE_PER_CLASS, seed)]
    from cnn import quickdraw
    from cnn.doodles import abstracted_set, procedural_set

    per_kind = REFERENCE_PER_CLASS // 3
    photos = balanced_subset(labels, per_kind, seed)
    to_abstract = balanced_subset(labels, per_kind, seed + 1)
    real_images, real_labels, _ = quickdraw.training_set(seed, copies=1)
    pool, pool_labels = joined([(images[photos], labels[photos]), abstracted_set(images[to_abstract], labels[to_abstract], seed),
                                procedural_set(per_kind * NUM_CLASSES, seed + 2), (real_images, real_labels)])  # fmt: skip
    return pool[balanced_subset(pool_labels, REFERENCE_PER_CLASS, seed)]


def training_data_description(training_data: str, real_doodles: int = 0) -> str:
    if training_data == DRAWINGS:
        from cnn.quickdraw import COPIES, CREDIT

        real = (
            (
                f", plus the training half of the real doodles ({real_doodles} trousers, T-shirts, socks, hats and bow ties "
                f"from {CREDIT}, {COPIES} placements each, the last three as none of the ten; the other half is held out)"
            )
            if real_doodles
            else ""
        )
        return (f"Fashion-MNIST training split, each image also abstracted into a doodle, plus {PROCEDURAL_DOODLES:,} "
                f"procedural doodles (cnn/doodles.py) and {OUTLIER_DOODLES:,} doodles of none of the ten taught the uniform "
                f"answer (cnn/outliers.py){real}; validated on doodles")  # fmt: skip
    return "Fashion-MNIST training split"


def export_and_evaluate(model, model_name: str, out_dir: Path, test, held_out, training_images, seed: int) -> dict:
    """Export the serving model and the app's artifacts beside the Keras one, score the test set through
    the serving model as predict() will, and fit the unsure rule on the held-out (validation) images.

    The app's artifacts: the NumPy copy of the layers (feature maps and Grad-CAM without TensorFlow)
    and, for the models the app explains, the nearest-neighbour index of the training images with the
    reference embeddings of the "not one of my ten" check (the serving model then outputs embeddings too)."""
    from cnn.calibration import fit_unlike_threshold, fit_unsure_rule, flag_rates
    from cnn.evaluate import classification_report, mistakes_list
    from cnn.neighbours import NeighbourIndex, export_neighbours
    from cnn.numpy_net import export_layers
    from cnn.serving import ServingModel, export_serving_model, serving_keras_model

    spec = model_spec(model_name)
    serving_file = out_dir / f"{model_name}.tflite"
    average_flips = averages_flips(model_name)
    export_serving_model(model, serving_file, average_flips, with_embedding=spec.explained)
    export_layers(model, out_dir / f"{model_name}_layers.npz")
    x_test, y_test = test
    serving_model = ServingModel.from_file(serving_file)
    x_held_out, y_held_out = held_out
    held_out_name = "validation doodles" if spec.training_data == DRAWINGS else "validation images"
    held_out_probabilities, held_out_embeddings = serving_model.with_embeddings(to_model_input(x_held_out))
    unsure_rule = fit_unsure_rule(held_out_probabilities, y_held_out, held_out_name, spec.right_flagged)
    index = None
    if spec.explained:
        training_x, training_y = training_images
        references = to_model_input(reference_inputs(spec.training_data, training_x, training_y, seed))
        reference_embeddings = serving_keras_model(model, average_flips, True).predict(references, batch_size=500, verbose=0)[1]
        neighbours_file = out_dir / f"{model_name}_neighbours.npz"
        export_neighbours(model, training_x, training_y, neighbours_file, reference_embeddings)
        index = NeighbourIndex.from_file(neighbours_file)
        if held_out_embeddings is None:
            raise ValueError(f"The {model_name} serving export has no embedding output to check distances with.")
        unsure_rule = fit_unlike_threshold(unsure_rule, index.reference_distances(held_out_embeddings))
    inputs = to_model_input(x_test)
    probabilities, test_embeddings = serving_model.with_embeddings(inputs)
    test_distances = index.reference_distances(test_embeddings) if index is not None and test_embeddings is not None else None
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
        "test_mistakes": mistakes_list(y_test, probabilities),
        "unsure_rule": unsure_rule.as_dict(),
        "unsure_on_test": flag_rates(unsure_rule, probabilities, y_test, test_distances),
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
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    # The same validation split training held out: split_validation is deterministic under the seed.
    seed = metrics.get("seed", SEED)
    (x_train, y_train), (x_val, y_val) = split_validation(x_train, y_train, VALIDATION_SIZE, seed)
    if model_spec(model_name).training_data == DRAWINGS:
        x_val, y_val = doodle_validation(x_val, y_val, seed, None)
    model = keras.saving.load_model(model_file, compile=False)
    metrics.update(export_and_evaluate(model, model_name, out_dir, (x_test, y_test), (x_val, y_val), (x_train, y_train), seed))
    history = read_json(out_dir / f"{model_name}_history.json")
    if history:  # the epoch summary from the training record, as the training command now writes it
        metrics.update(epoch_summary(history, metrics["epochs"]))
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
    parser.add_argument("--corrections", type=Path, default=None,
                        help="the drawing model also trains on the corrections the Draw page kept in this SQLite file (CNN_CORRECTIONS_DB)")  # fmt: skip
    parser.add_argument("--export-only", action="store_true", help="no training: re-export and re-score the model already in --out")
    args = parser.parse_args(argv)
    command = "python -m cnn.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    if args.export_only:
        metrics = export_only(args.model, args.out, command)
        print(f"{args.model}: test accuracy {metrics['test_accuracy']:.4f} through the serving model -> {args.out}")
        return
    try:
        metrics = train(
            args.model, args.epochs, args.out, args.seed, args.limit, args.batch_size, command=command, corrections=args.corrections
        )
    except ValueError as error:
        parser.error(str(error))
    print(
        f"{args.model}: test accuracy {metrics['test_accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}, "
        f"{metrics['parameters']:,} parameters, {metrics['training_seconds']:.0f} s -> {args.out}"
    )


if __name__ == "__main__":
    main()
