"""Classification metrics computed with NumPy, and target verdicts for the measurement reports.

Shared by training, the benchmark and robustness commands, the tests and the app.
"""

import numpy as np

from cnn.config import CLASS_NAMES, NUM_CLASSES


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """(10, 10) counts: rows are true classes, columns predicted classes."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predictions.astype(np.int64)), 1)
    return matrix


def classification_report(labels: np.ndarray, predictions: np.ndarray) -> dict:
    """Accuracy, per-class and macro precision/recall/F1 and the confusion matrix, JSON-ready."""
    matrix = confusion_matrix(labels, predictions)
    true_positives = np.diag(matrix).astype(np.float64)
    predicted_counts = matrix.sum(axis=0)
    true_counts = matrix.sum(axis=1)
    precision = np.divide(true_positives, predicted_counts, out=np.zeros(NUM_CLASSES), where=predicted_counts > 0)
    recall = np.divide(true_positives, true_counts, out=np.zeros(NUM_CLASSES), where=true_counts > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros(NUM_CLASSES), where=denominator > 0)
    per_class = {
        name: {
            "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4),
            "f1": round(float(f1[i]), 4),
            "support": int(true_counts[i]),
        }
        for i, name in enumerate(CLASS_NAMES)
    }
    return {
        "accuracy": round(float(true_positives.sum() / max(len(labels), 1)), 4),
        "macro_precision": round(float(precision.mean()), 4),
        "macro_recall": round(float(recall.mean()), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }


# A target: (name, dotted path of the measured value in a report, ">=" or "<=", unit, goal).
Target = tuple[str, str, str, str, float]


def lookup(report: dict, dotted: str):
    """report["a"]["b"] for "a.b", or None when any key is missing (not measured)."""
    value = report
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def check_targets(report: dict, targets: tuple[Target, ...]) -> list[dict]:
    """One JSON-ready verdict per target: {"name", "measured", "target", "met"}; met is None when not measured."""
    verdicts = []
    for name, dotted, comparison, unit, goal in targets:
        measured = lookup(report, dotted)
        met = None if measured is None else measured >= goal if comparison == ">=" else measured <= goal
        verdicts.append({"name": name, "measured": measured, "target": f"{comparison} {goal:g}{unit and ' ' + unit}", "met": met})
    return verdicts


def misclassified_indices(labels: np.ndarray, probabilities: np.ndarray, true_class: int | None = None) -> np.ndarray:
    """Indices of wrong predictions, the most confident mistakes first, optionally of one true class."""
    predictions = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predictions != labels)
    if true_class is not None:
        wrong = wrong[labels[wrong] == true_class]
    return wrong[np.argsort(-probabilities[wrong].max(axis=1), kind="stable")]


def mistakes_list(labels: np.ndarray, probabilities: np.ndarray) -> list[list]:
    """Every mistake as [test index, predicted class, its probability], the most confident first: what the
    Training page's gallery shows without scoring the test set again."""
    wrong = misclassified_indices(labels, probabilities)
    predicted = probabilities[wrong].argmax(axis=1)
    return [[int(index), int(p), round(float(probabilities[index, p]), 4)] for index, p in zip(wrong, predicted)]
