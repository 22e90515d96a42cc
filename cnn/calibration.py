"""A calibrated "not sure": temperature scaling and one threshold, both fitted on held-out data.

Temperature scaling (Guo et al., 2017) divides the logits by one number T fitted to minimise the
negative log-likelihood of held-out answers, so a shown 80% is right about 80% of the time. It
never changes which class wins. The answer is then flagged unsure when its calibrated top-1
probability falls below a threshold, chosen on the same held-out data so that a fixed share of
the right answers (RIGHT_FLAGGED) is flagged: what is left flagged is mostly the wrong answers.
The share and both numbers are recorded in the model's metrics file; the robustness report
measures how the rule does on clean images, photos and doodles.

Probabilities here are the serving model's: for a flip-averaged model the mean of two softmaxes,
so the temperature is applied as p ** (1 / T), renormalised (exactly softmax(logits / T) for one).
"""

from dataclasses import asdict, dataclass

import numpy as np

RIGHT_FLAGGED = 0.10  # the share of right held-out answers the threshold flags
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(8.0), 121))  # the grid T is fitted on
SMALLEST = 1e-12


@dataclass(frozen=True)
class UnsureRule:
    temperature: float = 1.0
    unsure_below: float = 0.5  # calibrated top-1 probability under which an answer is unsure
    held_out: str = "none: the default rule"

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        """(N, 10) probabilities -> the same with temperature T applied, rows summing to 1."""
        if self.temperature == 1.0:
            return probabilities
        return with_temperature(probabilities, self.temperature)

    def unsure(self, calibrated: np.ndarray) -> np.ndarray:
        """(N, 10) calibrated probabilities -> (N,) bool."""
        return calibrated.max(axis=1) < self.unsure_below

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


def fit_unsure_rule(probabilities: np.ndarray, labels: np.ndarray, held_out: str) -> UnsureRule:
    """The temperature that best fits the held-out answers, and the threshold that flags RIGHT_FLAGGED of the right ones."""
    if len(labels) == 0:
        raise ValueError("No held-out images to calibrate on.")
    losses = [negative_log_likelihood(with_temperature(probabilities, t), labels) for t in TEMPERATURES]
    temperature = float(TEMPERATURES[int(np.argmin(losses))])
    calibrated = with_temperature(probabilities, temperature)
    right = calibrated.argmax(axis=1) == labels
    confidences = calibrated.max(axis=1)[right]
    unsure_below = float(np.quantile(confidences, RIGHT_FLAGGED)) if len(confidences) else 1.0
    return UnsureRule(round(temperature, 4), round(unsure_below, 4), held_out)


def flag_rates(rule: UnsureRule, probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """How the rule does on labelled images: accuracy, share of wrong and right answers flagged unsure,
    and the share of all answers that are wrong and not flagged (confidently wrong)."""
    calibrated = rule.calibrate(probabilities)
    right = calibrated.argmax(axis=1) == labels
    unsure = rule.unsure(calibrated)
    return {
        "accuracy": round(float(right.mean()), 4),
        "wrong_flagged": round(float(unsure[~right].mean()), 4) if (~right).any() else None,
        "right_flagged": round(float(unsure[right].mean()), 4) if right.any() else None,
        "confidently_wrong": round(float((~right & ~unsure).mean()), 4),
        "count": int(len(labels)),
    }
