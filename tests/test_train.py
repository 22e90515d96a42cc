"""Training smoke test on a small subset, and atomic artifact writes."""

import json

import pytest

from cnn.artifacts import write_atomically, write_json
from cnn.model import build_model, conv_layer_names
from cnn.train import main

pytestmark = pytest.mark.slow

METRIC_KEYS = {
    "test_accuracy",
    "test_loss",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "per_class",
    "confusion_matrix",
    "parameters",
    "optimizer",
    "loss_function",
    "epochs",
    "batch_size",
    "train_size",
    "val_size",
    "test_size",
    "training_seconds",
    "command",
    "seed",
    "versions",
    "final_train_loss",
    "final_val_loss",
    "best_train_loss",
    "best_val_accuracy",
    "unsure_rule",
    "unsure_on_test",
    "test_mistakes",
    "training_data",
}


def test_tiny_training_run_learns_and_writes_every_artifact(tmp_path, test_set):
    main(["--model", "cnn", "--epochs", "3", "--limit", "1200", "--out", str(tmp_path)])
    history = json.loads((tmp_path / "cnn_history.json").read_text())
    metrics = json.loads((tmp_path / "cnn_metrics.json").read_text())
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history["loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    assert METRIC_KEYS <= set(metrics)
    assert metrics["command"] == "python -m cnn.train --model cnn --epochs 3 --limit 1200 --out " + str(tmp_path)
    assert metrics["train_size"] + metrics["val_size"] == 1200
    assert sum(map(sum, metrics["confusion_matrix"])) == metrics["test_size"] == 1200
    assert (tmp_path / "cnn.keras").stat().st_size > 100_000
    assert metrics["serving_file_bytes"] == (tmp_path / "cnn.tflite").stat().st_size > 100_000
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]  # no temp files left
    # What the app needs without TensorFlow: the layers in NumPy and the nearest-neighbour index.
    assert (tmp_path / "cnn_layers.npz").is_file() and (tmp_path / "cnn_neighbours.npz").is_file()
    assert 0.0 < metrics["unsure_rule"]["unsure_below"] <= 1.0 and metrics["unsure_rule"]["temperature"] > 0
    wrong = sum(map(sum, metrics["confusion_matrix"])) - sum(row[i] for i, row in enumerate(metrics["confusion_matrix"]))
    assert len(metrics["test_mistakes"]) == wrong
    # final_* is the last epoch, best_* the kept one, both read off the history as written.
    best = metrics["best_epoch"]
    assert metrics["best_val_accuracy"] == max(history["val_accuracy"]) == history["val_accuracy"][best - 1]
    assert metrics["final_val_accuracy"] == history["val_accuracy"][-1] and metrics["final_train_loss"] == history["loss"][-1]
    # The "not one of my ten" threshold, fitted on held-out images, and the references it compares with.
    assert 0.0 < metrics["unsure_rule"]["unlike_above"] < 2.0

    # Re-exporting keeps the training record and scores the model again, on the whole test set.
    main(["--model", "cnn", "--export-only", "--out", str(tmp_path)])
    exported = json.loads((tmp_path / "cnn_metrics.json").read_text())
    assert exported["command"] == metrics["command"] and exported["training_seconds"] == metrics["training_seconds"]
    assert exported["export_command"] == "python -m cnn.train --model cnn --export-only --out " + str(tmp_path)
    assert sum(map(sum, exported["confusion_matrix"])) == exported["test_size"] == len(test_set[1])


def test_tiny_drawing_model_run_trains_on_doodles(tmp_path, test_set):
    main(["--model", "sketch", "--epochs", "1", "--limit", "300", "--out", str(tmp_path)])
    metrics = json.loads((tmp_path / "sketch_metrics.json").read_text())
    # Each training image, once as it is and once abstracted into a doodle, plus as many procedural doodles.
    assert metrics["train_size"] >= 2 * 270 + 250 and metrics["val_size"] >= 40
    assert "doodle" in metrics["training_data"] and metrics["unsure_rule"]["held_out"] == "validation doodles"
    assert (tmp_path / "sketch.tflite").is_file() and (tmp_path / "sketch_neighbours.npz").is_file()


def test_export_only_without_a_trained_model_is_a_readable_error(tmp_path):
    with pytest.raises(ValueError, match="train it first"):
        main(["--model", "mlp", "--export-only", "--out", str(tmp_path)])


@pytest.mark.parametrize("interruption", [RuntimeError("crash"), KeyboardInterrupt()])
def test_interrupted_write_leaves_the_previous_file_intact(tmp_path, interruption):
    target = tmp_path / "cnn_metrics.json"
    write_json(target, {"test_accuracy": 0.95})

    def half_write(temp_path):
        temp_path.write_text('{"test_accur')
        raise interruption

    with pytest.raises(type(interruption)):
        write_atomically(target, half_write)
    assert json.loads(target.read_text()) == {"test_accuracy": 0.95}
    assert [path.name for path in tmp_path.iterdir()] == ["cnn_metrics.json"]


@pytest.mark.parametrize("name, max_parameters", [("cnn", 1_000_000), ("sketch", 1_000_000), ("baseline", 300_000), ("mlp", 1_000_000)])
def test_models_are_functional_with_named_conv_layers(name, max_parameters):
    model = build_model(name)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.count_params() <= max_parameters
    expected_convs = {"cnn": 6, "sketch": 6, "baseline": 2, "mlp": 0}[name]
    assert model.name == name
    assert conv_layer_names(model) == [f"conv{index}" for index in range(1, expected_convs + 1)]


def test_unknown_model_name_is_a_readable_error():
    with pytest.raises(ValueError, match="choose one of cnn, sketch, baseline, mlp"):
        build_model("resnet")


def test_corrections_are_for_the_drawing_model_only(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--model", "mlp", "--epochs", "1", "--limit", "100", "--corrections", str(tmp_path / "kept.sqlite"), "--out", str(tmp_path)])
    assert "only a model trained on drawings" in capsys.readouterr().err
