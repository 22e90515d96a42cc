"""The model registry: every fact about each shipped model, in one place.

Training, export, explanations, the app, the benchmarks and the Makefile read these specs;
nothing else lists the models. Import-light on purpose (no Keras, no TensorFlow): the app and
the server read it too.
"""

from dataclasses import dataclass

DRAWINGS = "drawings"  # Fashion-MNIST plus doodles (cnn/doodles.py), validated on doodles
FASHION = "fashion"  # Fashion-MNIST alone


@dataclass(frozen=True)
class ModelSpec:
    name: str  # file stem in assets/ and the --model value
    label: str  # what the app calls it
    builder: str  # the function in cnn/model.py that builds it
    peak_learning_rate: float
    batch_size: int
    # Flips and the rest of cnn.augment; a model trained on mirrored images is also served averaged
    # with its mirror image (cnn/serving.py), one that never saw them is not: its shoes all point left.
    augment: bool
    epochs: int  # what `make train` runs
    training_data: str = FASHION
    purpose: str = ""
    # Shown from the inside (feature maps, Grad-CAM, nearest training images): the export command then
    # also writes the nearest-neighbour index of its embeddings (cnn/neighbours.py).
    explained: bool = False
    # The share of right held-out answers the "not sure" threshold flags (cnn/calibration.py). The drawing
    # model's held-out doodles include every hard procedural style, and outlier exposure spreads its answers
    # on them: flagging 10% of those flags about 18% of right answers on drawings as people make them
    # (python -m bench.drawn_doodles), so it flags 5%.
    right_flagged: float = 0.10


MODELS = (
    ModelSpec("cnn", "CNN", "build_cnn", 2e-3, 128, augment=True, epochs=60, explained=True,
              purpose="the shipped classifier for photos and uploads"),
    ModelSpec("sketch", "Drawing CNN", "build_cnn", 2e-3, 128, augment=True, epochs=12, training_data=DRAWINGS,
              explained=True, right_flagged=0.05, purpose="the Draw page's model: the same network also trained on doodles"),
    # The tutorial baseline and the MLP train as the seeds trained them, without augmentation, so the
    # comparison stays honest.
    ModelSpec("baseline", "Baseline CNN", "build_baseline", 1e-3, 128, augment=False, epochs=15,
              purpose="the seeds' tutorial CNN, for comparison"),
    ModelSpec("mlp", "MLP", "build_mlp", 1e-3, 128, augment=False, epochs=30,
              purpose="a fully connected network with no convolutions, for comparison"),
)  # fmt: skip
MODEL_SPECS = {spec.name: spec for spec in MODELS}
MODEL_NAMES = tuple(MODEL_SPECS)
DEFAULT_MODEL = "cnn"
DRAWING_MODEL = "sketch"  # what predict(image, sketch=True) runs when it is trained


def model_spec(model_name: str) -> ModelSpec:
    if model_name not in MODEL_SPECS:
        raise ValueError(f"Unknown model {model_name!r}; choose one of {', '.join(MODEL_NAMES)}.")
    return MODEL_SPECS[model_name]


def averages_flips(model_name: str) -> bool:
    """Whether the model is served averaged with its mirror image: only if training flipped images."""
    return model_spec(model_name).augment


def main() -> None:
    """python -m cnn.registry: 'name epochs' per line, for the Makefile's train target."""
    for spec in MODELS:
        print(spec.name, spec.epochs)


if __name__ == "__main__":
    main()
