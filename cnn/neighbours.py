"""The training images that look most like an input, to the network: its reasons shown as examples.

The export command embeds a fixed, class-balanced subset of the training images with the trained
network (the classifier's input, its penultimate layer) and writes them with their labels to
`assets/<model>_neighbours.npz`. At run time an input's embedding, from the same forward pass that
draws its feature maps, is compared with all of them by cosine similarity: one small matrix product
in NumPy, no search library needed at this size.

The same file holds the reference embeddings of the "not one of my ten" check (cnn/calibration.py):
a class-balanced sample of what the model trained on (for the drawing model doodles too, which the
gallery never shows), embedded by the serving model exactly as predict() embeds an input, so that
an input's distance to its k-th nearest reference says how unlike the training data it is.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnn.artifacts import write_atomically
from cnn.config import NUM_CLASSES

PER_CLASS = 300  # training images per class in the index: enough for look-alikes, small enough for a git clone
REFERENCE_PER_CLASS = 400  # training inputs per class the distance check compares with
# k: the k-th nearest reference. Sun et al. found k should shrink with the share of the training data
# kept; 4,000 references of some 100,000 training inputs is a few percent.
NEIGHBOUR_RANK = 5
INDEX_SEED = 0


@dataclass(frozen=True)
class Neighbour:
    index: int  # position in the index
    label: int  # class id
    similarity: float  # cosine similarity of the embeddings, 1 = the same direction
    image: np.ndarray  # (28, 28) uint8, the training image


class NeighbourIndex:
    def __init__(self, images: np.ndarray, labels: np.ndarray, embeddings: np.ndarray, references: np.ndarray | None = None):
        self.images = images  # (N, 28, 28) uint8
        self.labels = labels  # (N,) uint8
        self.unit_embeddings = unit_rows(embeddings.astype(np.float32))  # (N, units)
        self.unit_references = None if references is None else unit_rows(references.astype(np.float32))  # (M, units)

    @classmethod
    def from_file(cls, path: Path) -> "NeighbourIndex":
        with np.load(path, allow_pickle=False) as archive:
            references = archive["references"] if "references" in archive.files else None
            return cls(archive["images"], archive["labels"], archive["embeddings"], references)

    def reference_distances(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, units) serving-model embeddings -> (N,) cosine distance of each to its NEIGHBOUR_RANK-th nearest reference."""
        if self.unit_references is None:
            raise ValueError("This neighbour index has no reference embeddings: re-export the model.")
        return kth_distances(unit_rows(embeddings.astype(np.float32)), self.unit_references)

    def nearest(self, embedding: np.ndarray, count: int = 5) -> list[Neighbour]:
        """The `count` most similar training images to an embedding (units,), most similar first."""
        query = unit_rows(embedding.astype(np.float32)[np.newaxis])[0]
        similarities = self.unit_embeddings @ query  # (N,)
        count = min(count, len(similarities))
        best = np.argpartition(-similarities, count - 1)[:count]
        best = best[np.argsort(-similarities[best], kind="stable")]
        return [Neighbour(int(i), int(self.labels[i]), float(similarities[i]), self.images[i]) for i in best]


def kth_distances(unit_queries: np.ndarray, unit_references: np.ndarray, rank: int = NEIGHBOUR_RANK) -> np.ndarray:
    """(N, units) and (M, units) unit rows -> (N,) cosine distance of each query to its rank-th nearest reference."""
    similarities = unit_queries @ unit_references.T  # (N, M)
    kth_largest = np.partition(similarities, similarities.shape[1] - rank, axis=1)[:, similarities.shape[1] - rank]
    return (1.0 - kth_largest).astype(np.float32)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def balanced_subset(labels: np.ndarray, per_class: int = PER_CLASS, seed: int = INDEX_SEED) -> np.ndarray:
    """Indices of per_class images of each class, in a fixed random order."""
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == label), min(per_class, int((labels == label).sum())), replace=False)
              for label in range(NUM_CLASSES)]  # fmt: skip
    return np.sort(np.concatenate(chosen))


def export_neighbours(model, images: np.ndarray, labels: np.ndarray, path: Path, references: np.ndarray | None = None) -> None:
    """Embed a class-balanced subset of images (uint8 (N, 28, 28)) with the Keras model and write the index,
    with the reference embeddings (M, units) of the distance check where given."""
    import keras

    chosen = balanced_subset(labels)
    embedder = keras.Model(model.inputs, model.layers[-1].input)  # the classifier's input
    embeddings = embedder.predict(images[chosen][..., np.newaxis].astype(np.float32) / 255, batch_size=500, verbose=0)
    arrays: dict[str, Any] = {"images": images[chosen], "labels": labels[chosen], "embeddings": embeddings.astype(np.float16)}
    if references is not None:
        arrays["references"] = unit_rows(references.astype(np.float32)).astype(np.float16)
    write_atomically(path, lambda temp: np.savez_compressed(open(temp, "wb"), **arrays))
