"""The training doodles: seeded and reproducible, drawn as the canvas sends them, every class covered."""

import numpy as np
import pytest

from cnn import doodles
from cnn.config import CANVAS_SIZE, IMAGE_SIZE, NUM_CLASSES


def test_the_same_seed_gives_the_same_doodles():
    first_images, first_labels = doodles.procedural_set(40, seed=3, workers=1)
    second_images, second_labels = doodles.procedural_set(40, seed=3, workers=1)
    np.testing.assert_array_equal(first_images, second_images)
    np.testing.assert_array_equal(first_labels, second_labels)
    other_images, _ = doodles.procedural_set(40, seed=4, workers=1)
    assert not np.array_equal(first_images, other_images)


def test_parallel_and_serial_generation_agree():
    serial = doodles.procedural_set(1200, seed=5, workers=1)
    parallel = doodles.procedural_set(1200, seed=5, workers=2)
    np.testing.assert_array_equal(serial[0], parallel[0])


def test_every_class_is_drawn_as_a_framed_model_input():
    images, labels = doodles.procedural_set(10 * NUM_CLASSES, seed=0, workers=1)
    assert sorted(set(labels.tolist())) == list(range(NUM_CLASSES))
    assert images.shape[1:] == (IMAGE_SIZE, IMAGE_SIZE) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    lit = (images > 0.5).mean(axis=(1, 2))
    assert (lit > 0.02).all() and (lit < 0.7).all()  # strokes, not empty frames or filled squares


@pytest.mark.parametrize("class_id", range(NUM_CLASSES))
def test_the_canvas_is_a_round_white_pen_on_black(class_id):
    rng = np.random.default_rng([1, class_id])
    strokes = doodles.by_hand(doodles.CLASS_DRAWERS[class_id](rng), rng)
    canvas = doodles.render_canvas(strokes, rng, mirror=False)
    assert canvas.shape == (CANVAS_SIZE, CANVAS_SIZE) and canvas.dtype == np.uint8
    assert canvas[0].max() == 0 and canvas[-1].max() == 0  # a margin all round, like a drawing
    assert canvas.max() == 255 and (canvas > 0).mean() < 0.5


def test_dataset_images_are_abstracted_into_outlines(sample):
    images, labels = sample
    made, kept = doodles.abstracted_set(images[:30], labels[:30], seed=0, workers=1)
    assert len(made) >= 28 and set(kept.tolist()) <= set(labels[:30].tolist())
    # An outline, not the photo: far fewer lit pixels than the filled item.
    filled = (images[:30] > 25).mean()
    assert (made > 0.5).mean() < filled


def test_outliers_are_seeded_framed_drawings_of_none_of_the_ten():
    from cnn.outliers import OUTLIER, OUTLIER_DRAWERS, outlier_set

    images, labels = outlier_set(200, seed=3, workers=1)
    again, _ = outlier_set(200, seed=3, workers=1)
    np.testing.assert_array_equal(images, again)
    assert len(images) >= 190 and set(labels.tolist()) == {OUTLIER} and OUTLIER == NUM_CLASSES
    assert images.shape[1:] == (IMAGE_SIZE, IMAGE_SIZE) and images.min() >= 0.0 and images.max() <= 1.0
    assert ((images > 0.5).mean(axis=(1, 2)) > 0.005).all()  # something drawn, never an empty frame
    for index, drawer in enumerate(OUTLIER_DRAWERS):  # every generator draws strokes inside about the unit box
        strokes = drawer(np.random.default_rng(index))
        points = np.vstack(strokes)
        assert strokes and points.shape[1] == 2 and np.abs(points).max() < 3, drawer.__name__


def test_outliers_are_trained_towards_the_uniform_answer():
    from cnn.outliers import OUTLIER
    from cnn.train import targets

    rows = targets(np.array([3, OUTLIER, 0], np.uint8))
    np.testing.assert_array_equal(rows[0], np.eye(NUM_CLASSES, dtype=np.float32)[3])
    np.testing.assert_allclose(rows[1], np.full(NUM_CLASSES, 1 / NUM_CLASSES))
    assert rows[2, 0] == 1.0 and rows.sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
