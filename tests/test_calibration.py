"""The unsure rule: temperature scaling and a threshold fitted on held-out answers."""

import numpy as np
import pytest

from cnn.calibration import (
    LOW_CONFIDENCE,
    RIGHT_FLAGGED,
    UNLIKE_FLAGGED,
    UNLIKE_TRAINING,
    UnsureRule,
    fit_unlike_threshold,
    fit_unsure_rule,
    flag_rates,
    with_temperature,
)


def overconfident(seed: int = 0, count: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities that are right 70% of the time but claim about 99%."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    right = rng.random(count) < 0.7
    predicted = np.where(right, labels, (labels + rng.integers(1, 10, count)) % 10)
    logits = rng.normal(0.0, 1.0, (count, 10))
    logits[np.arange(count), predicted] += rng.uniform(4.0, 9.0, count)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32), labels


def test_temperature_keeps_the_answer_and_softens_overconfidence():
    probabilities, labels = overconfident()
    rule = fit_unsure_rule(probabilities, labels, "synthetic")
    calibrated = rule.calibrate(probabilities)
    assert rule.temperature > 1.5  # overconfident: the fitted temperature spreads the probabilities
    np.testing.assert_array_equal(calibrated.argmax(axis=1), probabilities.argmax(axis=1))
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0, atol=1e-5)
    assert abs(calibrated.max(axis=1).mean() - 0.7) < abs(probabilities.max(axis=1).mean() - 0.7)


def test_the_threshold_flags_the_chosen_share_of_right_answers():
    probabilities, labels = overconfident(1)
    rule = fit_unsure_rule(probabilities, labels, "synthetic")
    rates = flag_rates(rule, probabilities, labels)
    assert rates["right_flagged"] == pytest.approx(RIGHT_FLAGGED, abs=0.01)
    assert rates["accuracy"] == pytest.approx(0.7, abs=0.03)
    held_out = flag_rates(rule, *overconfident(2))  # fresh data from the same source: about the same
    assert held_out["right_flagged"] == pytest.approx(RIGHT_FLAGGED, abs=0.03)
    fewer = fit_unsure_rule(probabilities, labels, "synthetic", right_flagged=0.05)  # a model's own share (cnn/registry.py)
    assert fewer.unsure_below < rule.unsure_below
    assert flag_rates(fewer, probabilities, labels)["right_flagged"] == pytest.approx(0.05, abs=0.01)


def test_a_model_without_a_fitted_rule_gets_the_default():
    rule = UnsureRule.from_dict(None)
    probabilities = np.array([[0.4, 0.6] + [0.0] * 8, [0.9, 0.1] + [0.0] * 8], dtype=np.float32)
    np.testing.assert_array_equal(rule.unsure(rule.calibrate(probabilities)), [False, False])
    assert rule.unsure(np.array([[0.45, 0.3, 0.25] + [0.0] * 7]))[0]
    assert UnsureRule.from_dict(rule.as_dict()) == rule


def test_temperature_one_changes_nothing():
    probabilities, _ = overconfident(3, 50)
    np.testing.assert_allclose(with_temperature(probabilities, 1.0), probabilities, atol=1e-5)


def test_no_held_out_images_is_a_readable_error():
    with pytest.raises(ValueError, match="held-out"):
        fit_unsure_rule(np.zeros((0, 10), dtype=np.float32), np.zeros(0, dtype=int), "nothing")


# ---------------------------------------------------------------------------------------
# "Not one of my ten": the distance to the training data, beside the confidence.


def test_far_from_the_training_data_is_unsure_whatever_the_confidence():
    rule = UnsureRule(temperature=1.0, unsure_below=0.6, unlike_above=0.3)
    confident, doubtful = [0.95] + [0.05 / 9] * 9, [0.4, 0.35] + [0.25 / 8] * 8
    calibrated = np.array([confident, confident, doubtful, doubtful], dtype=np.float32)
    distances = np.array([0.1, 0.5, 0.1, 0.5], dtype=np.float32)
    assert rule.reasons(calibrated, distances) == [None, UNLIKE_TRAINING, LOW_CONFIDENCE, UNLIKE_TRAINING]
    assert rule.unsure(calibrated, distances).tolist() == [False, True, True, True]
    # Without distances (a model with no reference embeddings) only the confidence counts.
    assert rule.reasons(calibrated) == [None, None, LOW_CONFIDENCE, LOW_CONFIDENCE]


def test_the_distance_threshold_flags_the_chosen_share_of_held_out_inputs():
    distances = np.random.default_rng(0).gamma(2.0, 0.05, 10_000).astype(np.float32)
    rule = fit_unlike_threshold(UnsureRule(1.2, 0.7, "synthetic"), distances)
    assert (rule.temperature, rule.unsure_below, rule.held_out) == (1.2, 0.7, "synthetic")
    assert abs((distances > rule.unlike_above).mean() - UNLIKE_FLAGGED) < 0.005
    assert UnsureRule.from_dict(rule.as_dict()) == rule
    with pytest.raises(ValueError, match="No held-out distances"):
        fit_unlike_threshold(rule, np.array([]))
