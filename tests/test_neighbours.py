"""The neighbour index's reference embeddings: the distance behind "not one of my ten"."""

import numpy as np
import pytest

from cnn.neighbours import NEIGHBOUR_RANK, NeighbourIndex, kth_distances


def test_the_kth_distance_is_the_kth_smallest_cosine_distance():
    rng = np.random.default_rng(0)
    queries, references = rng.normal(size=(7, 16)), rng.normal(size=(50, 16))
    unit_queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    unit_references = references / np.linalg.norm(references, axis=1, keepdims=True)
    for rank in (1, 3, NEIGHBOUR_RANK):
        # One query at a time, every distance written out and sorted.
        expected = [sorted(1.0 - float(np.dot(query, reference)) for reference in unit_references)[rank - 1] for query in unit_queries]
        np.testing.assert_allclose(kth_distances(unit_queries, unit_references, rank), expected, atol=1e-5)


def test_an_input_among_the_references_is_near_and_one_outside_them_far():
    rng = np.random.default_rng(1)
    cluster = np.abs(rng.normal(size=(40, 8))) + np.array([5, 0, 0, 0, 0, 0, 0, 0])  # all pointing one way
    index = NeighbourIndex(np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8), np.ones((1, 8)), references=cluster)
    near, far = index.reference_distances(np.array([[6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [0, 0, 0, 0, 0, 0, 0, 5.0]]))
    assert near < 0.05 and far > 0.5
    # The scale of an embedding does not matter, only its direction.
    np.testing.assert_allclose(index.reference_distances(10 * cluster[:3]), index.reference_distances(cluster[:3]), atol=1e-5)


def test_an_index_without_references_says_to_re_export():
    index = NeighbourIndex(np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8), np.ones((1, 8)))
    with pytest.raises(ValueError, match="re-export"):
        index.reference_distances(np.ones((1, 8)))
