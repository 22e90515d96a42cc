"""Busy photos: the box a user draws, and the automatic cut-out on backgrounds that are not plain."""

import io

import numpy as np
import pytest
from PIL import Image

import cnn.cutout
from bench.robustness import GARMENTS, render_photo, render_textured, render_worn_with_box
from cnn.cutout import busy_background, cut_out, worn_garment_box
from cnn.decode import read_planes, wearer_garment_box
from cnn.predict import InvalidImageError, predict, predict_batch
from tests.helpers import as_photo, encode

BOXED_FLOOR = 0.65  # measured 0.73 (against 0.47 for the whole photo) on the 30 sample garments, less a margin


def busy(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    return busy_background(image, np.asarray(image.convert("L"), dtype=np.float32) / 255)


def test_plain_product_photos_keep_todays_path(sample):
    images, _ = sample
    worn = 0
    for index, image in enumerate(images[:40]):
        assert not busy(render_photo(image, np.random.default_rng(index)))
        planes = read_planes(render_photo(image, np.random.default_rng(index)))
        worn += planes.garment_box is not None
        assert planes.alpha is None or planes.garment_box is not None  # no cut-out, unless of a garment worn
    assert worn <= 1  # the sample's shirt 25 is a photo of a man wearing it: his head is found


def test_textured_backgrounds_are_cut_out(sample):
    images, _ = sample
    flags = [busy(render_textured(image, np.random.default_rng(index))) for index, image in enumerate(images[:40])]
    assert np.mean(flags) >= 0.9
    grey, alpha, _ = read_planes(render_textured(images[0], np.random.default_rng(0)))
    assert alpha is not None and alpha.shape == grey.shape and 0.02 < alpha.mean() < 0.9


CHECK_COLOURS = (np.array([200, 120, 160]), np.array([90, 170, 140]))  # a woven check's two colours
ITEM_COLOUR = np.array([60, 60, 70])


def trousers_on_a_check(width: int, height: int, item: tuple[int, int, int, int]) -> tuple[Image.Image, np.ndarray]:
    """A photo of dark trousers (left, top, width, height; cut by the frame where it runs past it) on a woven
    check, and the trousers' own pixels (height, width) bool: a waistband over two legs, the check between them."""
    left, top, item_width, item_height = item
    rows, columns = np.mgrid[0:height, 0:width]
    photo = np.where((((rows // 16) + (columns // 16)) % 2 == 1)[..., None], *CHECK_COLOURS).astype(np.uint8)
    trousers = (rows >= top) & (rows < top + item_height) & (columns >= left) & (columns < left + item_width)
    gap = item_width // 3
    trousers &= ~((rows >= top + item_height // 4) & (columns >= left + gap) & (columns < left + 2 * gap))
    photo[trousers] = ITEM_COLOUR
    return Image.fromarray(photo), trousers


def pixel_overlap(alpha: np.ndarray | None, truth: np.ndarray) -> float:
    """Intersection over union of the cut (alpha over one half) and the item's true pixels."""
    if alpha is None:
        return 0.0
    return float(((alpha > 0.5) & truth).sum() / ((alpha > 0.5) | truth).sum())


def test_a_checked_floor_between_the_legs_is_left_out():
    photo, trousers = trousers_on_a_check(360, 320, (110, 50, 140, 230))
    alpha = cut_out(photo)
    # Started from the rectangle alone, GrabCut kept the squares between the legs (0.75 overlap, the gap 96% kept).
    assert pixel_overlap(alpha, trousers) > 0.9
    between_the_legs = ~trousers[110:280, 157:203]
    assert alpha[110:280, 157:203][between_the_legs].mean() < 0.3


def test_an_item_cut_off_by_the_frame_is_not_taken_for_the_floor(monkeypatch):
    photo, trousers = trousers_on_a_check(360, 320, (110, 80, 140, 400))  # the legs run off the bottom edge
    assert pixel_overlap(cut_out(photo), trousers) > 0.9
    # Its colour is on one side of the border only: were that enough to count as the floor's, the cut would lose it.
    monkeypatch.setattr(cnn.cutout, "FLOOR_SIDES", 1)
    assert pixel_overlap(cut_out(photo), trousers) < 0.5


def test_only_a_floor_of_a_few_colours_starts_as_background():
    import cv2

    photo, _ = trousers_on_a_check(160, 120, (50, 20, 60, 80))
    shades = np.random.default_rng(0).uniform(-45, 45, (120, 160, 3))  # grass and earth: a range of colours, on every side
    lawn = np.clip(np.array([60, 140, 70]) + shades, 0, 255).astype(np.uint8)
    lawn[20:100, 50:110] = ITEM_COLOUR[::-1]
    for pixels, patterned in ((np.asarray(photo)[..., ::-1].copy(), True), (lawn, False)):
        mask = np.full((120, 160), cv2.GC_BGD, np.uint8)
        mask[5:115, 5:155] = cv2.GC_PR_FGD
        assert cnn.cutout.start_floor_as_background(pixels, mask) is patterned
        assert bool((mask == cv2.GC_PR_BGD).any()) is patterned


def test_the_cut_is_the_same_every_time(sample):
    photo = render_textured(sample[0][3], np.random.default_rng(3))
    assert predict(photo) == predict(photo)
    rgb = Image.open(io.BytesIO(photo)).convert("RGB")
    np.testing.assert_array_equal(cut_out(rgb), cut_out(rgb))


def test_a_box_around_a_worn_garment_finds_it(sample):
    images, labels = sample
    garments = [index for index in range(len(labels)) if labels[index] in GARMENTS][:30]
    rendered = [render_worn_with_box(images[index], np.random.default_rng(index)) for index in garments]
    whole = predict_batch([photo for photo, _ in rendered])
    boxed = predict_batch([photo for photo, _ in rendered], boxes=[box for _, box in rendered])
    right_whole = np.mean([result["class_id"] == labels[index] for result, index in zip(whole, garments)])
    right_boxed = np.mean([result["class_id"] == labels[index] for result, index in zip(boxed, garments)])
    print(f"worn garments right: {right_whole:.2f} whole, {right_boxed:.2f} in the box")
    assert right_boxed >= BOXED_FLOOR and right_boxed >= right_whole
    photo, box = rendered[0]
    assert predict(photo, box=box) == boxed[0]  # one image or a batch: the same answer
    assert all(result["garment_box"] is None for result in boxed)  # the user's box is the box


def test_a_person_wearing_a_garment_is_classified_on_the_garment(sample, monkeypatch):
    images, labels = sample
    garments = [index for index in range(len(labels)) if labels[index] in GARMENTS][:30]
    rendered = [render_worn_with_box(images[index], np.random.default_rng(index)) for index in garments]
    found = predict_batch([photo for photo, _ in rendered])
    monkeypatch.setattr("cnn.decode.worn_garment_box", lambda outline: None)
    whole = predict_batch([photo for photo, _ in rendered])
    right_found = np.mean([result["class_id"] == labels[index] for result, index in zip(found, garments)])
    right_whole = np.mean([result["class_id"] == labels[index] for result, index in zip(whole, garments)])
    boxes = [(result["garment_box"], box) for result, (_, box) in zip(found, rendered) if result["garment_box"] is not None]
    print(f"worn garments right: {right_whole:.2f} as a whole photo, {right_found:.2f} on the garment found; found in {len(boxes)}")
    assert right_found >= right_whole + 0.1
    assert len(boxes) >= 8  # measured 11 of these 30
    assert np.median([overlap(found_box, true_box) for found_box, true_box in boxes]) >= 0.7  # the box is where the garment is


def overlap(first, second) -> float:
    """Intersection over union of two (left, top, width, height) boxes."""
    width = max(0, min(first[0] + first[2], second[0] + second[2]) - max(first[0], second[0]))
    height = max(0, min(first[1] + first[3], second[1] + second[3]) - max(first[1], second[1]))
    return width * height / (first[2] * first[3] + second[2] * second[3] - width * height)


def test_items_and_people_are_told_apart_by_their_outline():
    person = np.zeros((200, 100), bool)
    person[10:40, 38:62] = True  # a head
    person[40:50, 45:55] = True  # on a neck
    person[50:130, 20:80] = True  # the garment, widest
    person[130:200, 35:45] = person[130:200, 55:65] = True  # two legs
    assert worn_garment_box(person) == (20, 40, 60, 90)  # from the neck to the hem
    shirt = np.zeros((200, 100), bool)
    shirt[10:30, 35:65] = True  # a collar, widening straight into the body
    shirt[30:190, 5:95] = True
    assert worn_garment_box(shirt) is None
    lying = np.zeros((100, 200), bool)
    lying[20:80, 10:190] = True  # wider than tall: an item on a floor
    assert worn_garment_box(lying) is None
    bag = np.zeros((200, 120), bool)
    bag[10:60, 30:34] = bag[10:60, 86:90] = bag[10:14, 30:90] = True  # a handle: thin, not a head
    bag[60:190, 5:115] = True
    assert worn_garment_box(bag) is None


def test_a_person_is_found_through_specks_of_background_and_without_legs():
    person = np.zeros((200, 100), bool)
    person[10:40, 38:62] = True  # a head
    person[40:50, 46:54] = True  # on a thin neck
    person[50:190, 20:80] = True  # the garment, down to where the cut lost the legs to the frame
    assert worn_garment_box(person) == (20, 40, 60, 150)
    person[2:4, 5:7] = person[0:2, 90:93] = True  # specks the cut left above the head
    assert worn_garment_box(person) == (20, 40, 60, 150)
    bodice = np.zeros((200, 100), bool)
    bodice[10:40, 30:70] = True  # a dress's bodice, as wide as half the skirt: not a head without legs below
    bodice[40:50, 40:60] = True  # its waist
    bodice[50:190, 10:90] = True
    assert worn_garment_box(bodice) is None


def test_a_person_in_a_large_photo_is_looked_for_on_a_small_copy_and_boxed_in_its_pixels():
    grey = np.ones((1000, 500), np.float32)  # a white wall; the outline above, five times as large
    grey[50:200, 190:310] = grey[200:250, 225:275] = 0.2  # a head on a neck
    grey[250:650, 100:400] = 0.3  # the garment
    grey[650:1000, 175:225] = grey[650:1000, 275:325] = 0.2  # legs
    assert np.allclose(wearer_garment_box(grey, None), (100, 200, 300, 450), atol=8)  # neck to hem, within two pixels of the copy


def test_a_box_on_a_plain_photo_keeps_the_answer(sample):
    images, labels = sample
    for index in range(10):
        page = Image.new("L", (300, 300), 255)
        page.paste(as_photo(images[index]), (80, 80))  # the 140x140 item with a white margin all round
        photo = encode(page)
        assert predict(photo, box=(70, 70, 160, 160))["class_id"] == predict(photo)["class_id"], index


@pytest.mark.parametrize(
    "box, message",
    [
        ((500, 500, 50, 50), "outside the photo"),
        ((-80, -80, 40, 40), "outside the photo"),
        ((10, 10, 0, 30), "too small"),
        ((10, 10, 1, 1), "too small"),
        ((10, 10, "wide", 30), "four numbers"),
        ((10, float("nan"), 30, 30), "four numbers"),
        ((10, 10, 30), "four numbers"),
        (None.__class__, "four numbers"),
    ],
)
def test_bad_boxes_are_readable_errors(sample, box, message):
    photo = encode(as_photo(sample[0][0], size=200))
    with pytest.raises(InvalidImageError, match=message):
        predict(photo, box=box)


def test_a_box_on_a_one_pixel_image_is_a_readable_error():
    with pytest.raises(InvalidImageError, match="too small"):
        predict(encode(Image.new("RGB", (1, 1), "white")), box=(0, 0, 1, 1))


def test_a_box_dragged_from_right_to_left_counts(sample):
    photo = encode(as_photo(sample[0][1], size=200))
    assert predict(photo, box=(190, 190, -180, -180)) == predict(photo, box=(10, 10, 180, 180))


def test_one_bad_box_in_a_batch_does_not_sink_the_rest(sample):
    photos = [encode(as_photo(image, size=120)) for image in sample[0][:3]]
    results = predict_batch(photos, boxes=[None, (400, 400, 5, 5), (5, 5, 110, 110)])
    assert "error" not in results[0] and "outside" in results[1]["error"] and "error" not in results[2]
    with pytest.raises(ValueError, match="one box"):
        predict_batch(photos, boxes=[None])


def test_a_drawing_is_never_taken_for_a_person_wearing_it():
    person = np.zeros((200, 100), bool)
    person[10:40, 38:62] = True  # a head
    person[40:50, 45:55] = True  # on a neck
    person[50:130, 20:80] = True  # the garment
    person[130:200, 35:45] = person[130:200, 55:65] = True  # two legs
    picture = encode(Image.fromarray(np.where(person, 0, 255).astype(np.uint8)).resize((200, 400)))
    assert predict(picture)["garment_box"] is not None  # a photo of someone: the garment is looked for
    assert predict(picture, sketch=True)["garment_box"] is None  # on the Draw page's path it never is
