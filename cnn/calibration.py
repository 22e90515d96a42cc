"""A calibrated "not sure": temperature scaling and one threshold, both fitted on held-out data.

Temperature scaling (Guo et al., 2017) divides the logits by one number T fitted to minimise the
negative log-likelihood of held-out answers, so a shown 80% is right about 80% of the time. It
never changes which class wins. The answer is then flagged unsure when its calibrated top-1
probability falls below a threshold, chosen on the same held-out data so that a fixed share of
the right answers (RIGHT_FLAGGED) is flagged: what is left flagged is mostly the wrong answers.
The share and both numbers are recorded in the model's metrics file; the robustness report
measures how the rule does on clean images, photos and doodles.

"Not one of my ten": a drawing of a hat can still get a high probability for one of the ten classes,
since the probabilities always sum to one. So the rule also flags an input whose embedding (the
penultimate layer) lies far from everything the model learnt from: the cosine distance to its k-th
nearest reference embedding of training inputs (Sun et al., 2022, "Out-of-Distribution Detection
with Deep Nearest Neighbors"; the references are in the neighbour index, cnn/neighbours.py). That
threshold is fitted on the same held-out data so that UNLIKE_FLAGGED of it is flagged: the bar is set
by what the model knows, not by examples of what it does not.

Probabilities here are the serving model's: for a flip-averaged model the mean of two softmaxes,
so the temperature is applied as p ** (1 / T), renormalised (exactly softmax(logits / T) for one).
"""

from dataclasses import asdict, dataclass

import numpy as np

RIGHT_FLAGGED = 0.10  # the share of right held-out answers the threshold flags, unless the model's spec says otherwise
UNLIKE_FLAGGED = 0.05  # the share of held-out inputs the distance threshold calls unlike the training data
LOW_CONFIDENCE = "low_confidence"
UNLIKE_TRAINING = "unlike_training"
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(8.0), 121))  # the grid T is fitted on
SMALLEST = 1e-12


@dataclass(frozen=True)
class UnsureRule:
    temperature: float = 1.0
    unsure_below: float = 0.5  # calibrated top-1 probability under which an answer is unsure
    held_out: str = "none: the default rule"
    # Cosine distance to the k-th nearest reference embedding above which an input is unlike anything the
    # model learnt from; None where the model has no reference embeddings.
    unlike_above: float | None = None

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        """(N, 10) probabilities -> the same with temperature T applied, rows summing to 1."""
        if self.temperature == 1.0:
            return probabilities
        return with_temperature(probabilities, self.temperature)

    def unsure(self, calibrated: np.ndarray, distances: np.ndarray | None = None) -> np.ndarray:
        """(N, 10) calibrated probabilities and (N,) reference distances (or None) -> (N,) bool."""
        return np.array([reason is not None for reason in self.reasons(calibrated, distances)], dtype=bool)

    def reasons(self, calibrated: np.ndarray, distances: np.ndarray | None = None) -> list[str | None]:
        """Why each answer is unsure: UNLIKE_TRAINING (checked first: then no answer should be trusted),
        LOW_CONFIDENCE, or None for an answer to show as it is."""
        low = calibrated.max(axis=1) < self.unsure_below
        unlike = (distances > self.unlike_above) if distances is not None and self.unlike_above is not None else np.zeros(len(low), bool)
        return [UNLIKE_TRAINING if far else LOW_CONFIDENCE if unsure else None for far, unsure in zip(unlike.tolist(), low.tolist())]

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "UnsureRule":
        return cls(**data) if data else cls()


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    logs = np.log(np.maximum(probabilities.astype(np.float64), SMALLEST)) / temperature
    logs -= logs.max(axis=1, keepdims=True)
    scaled = np.exp(logs)
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.maximum(probabilities[np.arange(len(labels)), labels], SMALLEST))))


def fit_unsure_rule(probabilities: np.ndarray, labels: np.ndarray, held_out: str, right_flagged: float = RIGHT_FLAGGED) -> UnsureRule:
    """The temperature that best fits the held-out answers, and the threshold that flags right_flagged of the right ones."""
    if len(labels) == 0:
        raise ValueError("No held-out images to calibrate on.")
    losses = [negative_log_likelihood(with_temperature(probabilities, t), labels) for t in TEMPERATURES]
    temperature = float(TEMPERATURES[int(np.argmin(losses))])
    calibrated = with_temperature(probabilities, temperature)
    right = calibrated.argmax(axis=1) == labels
    confidences = calibrated.max(axis=1)[right]
    unsure_below = float(np.quantile(confidences, right_flagged)) if len(confidences) else 1.0
    return UnsureRule(round(temperature, 4), round(unsure_below, 4), held_out)


def fit_unlike_threshold(rule: UnsureRule, distances: np.ndarray) -> UnsureRule:
    """The rule with the distance threshold that calls UNLIKE_FLAGGED of the held-out inputs unlike the training data."""
    if len(distances) == 0:
        raise ValueError("No held-out distances to fit the 'unlike the training data' threshold on.")
    return UnsureRule(rule.temperature, rule.unsure_below, rule.held_out, round(float(np.quantile(distances, 1 - UNLIKE_FLAGGED)), 4))


def flag_rates(rule: UnsureRule, probabilities: np.ndarray, labels: np.ndarray, distances: np.ndarray | None = None) -> dict:
    """How the rule does on labelled images: accuracy, share of wrong and right answers flagged unsure,
    and the share of all answers that are wrong and not flagged (confidently wrong)."""
    calibrated = rule.calibrate(probabilities)
    right = calibrated.argmax(axis=1) == labels
    unsure = rule.unsure(calibrated, distances)
    return {
        "accuracy": round(float(right.mean()), 4),
        "wrong_flagged": round(float(unsure[~right].mean()), 4) if (~right).any() else None,
        "right_flagged": round(float(unsure[right].mean()), 4) if right.any() else None,
        "confidently_wrong": round(float((~right & ~unsure).mean()), 4),
        "count": int(len(labels)),
    }
