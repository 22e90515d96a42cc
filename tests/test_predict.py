"""predict(): every accepted input type, every bad input, and the output contract."""

import io
import json
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from cnn.config import CLASS_NAMES, MAX_UPLOAD_BYTES
from cnn.frame import preprocess_many
from cnn.predict import (
    InvalidImageError,
    NothingDrawnError,
    load_unsure_rule,
    overlapped,
    predict,
    predict_batch,
    preprocess,
)
from cnn.serving import CHUNK_SIZE
from tests.helpers import as_photo, encode

BAG = CLASS_NAMES.index("Bag")
TROUSER = CLASS_NAMES.index("Trouser")


@pytest.fixture(scope="module")
def confident(sample):
    """Sample images the model labels correctly with at least 90% confidence, per class."""
    images, labels = sample
    results = predict_batch(list(images))
    chosen = {}
    for image, label, result in zip(images, labels, results):
        if result["class_id"] == label and result["confidence"] >= 0.9:
            chosen.setdefault(int(label), image)
    return chosen


def check_contract(result: dict, top_k: int = 3) -> None:
    assert set(result) == {
        "prediction",
        "class_id",
        "confidence",
        "unsure",
        "unsure_reason",
        "headline",
        "top_k",
        "probabilities",
        "model",
        "garment_box",
    }
    assert result["prediction"] == CLASS_NAMES[result["class_id"]]
    assert isinstance(result["unsure"], bool)
    low_confidence = result["confidence"] < load_unsure_rule(result["model"]).unsure_below
    assert result["unsure_reason"] in (None, "low_confidence", "unlike_training")
    assert result["unsure"] == (result["unsure_reason"] is not None)
    if result["unsure_reason"] != "unlike_training":  # far from the training data is said first, whatever the confidence
        assert result["unsure"] == low_confidence
    expected_headline = {None: result["prediction"], "unlike_training": "This doesn't look like any of the ten items I know"}
    if result["unsure_reason"] == "low_confidence":
        assert result["headline"].startswith("Not sure: maybe " + result["prediction"])
    else:
        assert result["headline"] == expected_headline[result["unsure_reason"]]
    assert len(result["top_k"]) == top_k
    assert result["top_k"][0]["label"] == result["prediction"]
    assert result["confidence"] == result["top_k"][0]["probability"]
    probabilities = [entry["probability"] for entry in result["top_k"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert list(result["probabilities"]) == list(CLASS_NAMES)
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert json.loads(json.dumps(result)) == result  # only JSON builtins


# --- Accepted inputs ---------------------------------------------------------------------


def test_png_bytes_of_a_photo(confident):
    result = predict(encode(as_photo(confident[BAG])))
    check_contract(result)
    assert result["prediction"] == "Bag"


def test_every_input_type_gives_the_same_answer(confident):
    image = confident[TROUSER]
    photo = as_photo(image)
    png = encode(photo)
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec
    from werkzeug.datastructures import FileStorage

    inputs = {
        "bytes": png,
        "bytearray": bytearray(png),
        "BytesIO": io.BytesIO(png),
        "FileStorage": FileStorage(stream=io.BytesIO(png), filename="trouser.png", content_type="image/png"),
        "UploadedFile": UploadedFile(UploadedFileRec("id", "trouser.png", "image/png", png), None),
        "PIL": photo,
        "uint8 HxW": np.asarray(photo),
        "float HxW": np.asarray(photo) / 255.0,
        "HxWx1": np.asarray(photo)[..., None],
        "RGB": np.asarray(photo.convert("RGB")),
        "dataset array": image,
    }
    for name, source in inputs.items():
        result = predict(source)
        assert result["prediction"] == "Trouser", name


def test_canvas_rgba_with_transparent_background(confident):
    # The drawing canvas returns RGBA: strokes opaque, background transparent.
    strokes = np.asarray(Image.fromarray(confident[TROUSER]).resize((280, 280))) > 60
    canvas = np.zeros((280, 280, 4), dtype=np.uint8)
    canvas[strokes] = (255, 255, 255, 255)
    assert predict(canvas)["prediction"] == "Trouser"
    canvas[strokes] = (0, 0, 0, 255)  # black pen works the same
    assert predict(canvas)["prediction"] == "Trouser"


def test_top_k_is_clamped_to_the_number_of_classes(confident):
    assert len(predict(confident[BAG], top_k=1)["top_k"]) == 1
    check_contract(predict(confident[BAG], top_k=10), top_k=10)
    assert len(predict(confident[BAG], top_k=50)["top_k"]) == 10


def test_flask_jsonify_works(confident):
    import flask  # a requirement of the app (requirements.txt)

    with flask.Flask(__name__).app_context():
        response = flask.jsonify(predict(encode(as_photo(confident[BAG]))))
    assert response.get_json()["prediction"] == "Bag"


def unusual_formats(image: np.ndarray) -> dict[str, bytes]:
    photo = as_photo(image)
    rgb = photo.convert("RGB")
    gif = io.BytesIO()
    second_frame = Image.new("L", photo.size, 255)  # blank: only the first frame may be used
    photo.convert("P").save(gif, format="GIF", save_all=True, append_images=[second_frame.convert("P")])
    sixteen_bit = Image.fromarray(np.asarray(photo).astype(np.uint16) * 257)
    return {
        "1-bit": encode(photo.convert("1")),
        "16-bit": encode(sixteen_bit),
        "palette": encode(photo.convert("P")),
        "GIF first frame": gif.getvalue(),
        "CMYK JPEG": encode(rgb.convert("CMYK"), "JPEG", quality=95),
        "WEBP": encode(rgb, "WEBP", quality=90),
        "BMP": encode(rgb, "BMP"),
        "JPEG": encode(rgb, "JPEG", quality=85),
    }


def test_unusual_but_valid_formats(confident):
    for label in (BAG, TROUSER):
        for name, data in unusual_formats(confident[label]).items():
            assert predict(data)["class_id"] == label, name


def test_exif_rotation_is_applied(confident):
    upright = as_photo(confident[TROUSER], size=96)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the stored pixels must be rotated 90 degrees clockwise to display
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    data = encode(stored.convert("RGB"), "JPEG", quality=95, exif=exif.tobytes())
    assert np.abs(preprocess(data) - preprocess(upright)).mean() < 0.03
    assert predict(data)["prediction"] == "Trouser"


# --- Preprocessing -----------------------------------------------------------------------


def test_dataset_image_passes_through_unchanged(sample):
    images, _ = sample
    for image in images[:50]:
        assert np.array_equal(preprocess(image), image.astype(np.float32) / 255.0)


def test_photo_of_a_dataset_image_comes_back_as_that_image(confident):
    # Rendered dark-on-white and upscaled 200/28 times, the item must return bright on black at 28x28.
    original = confident[BAG].astype(np.float32) / 255.0
    model_input = preprocess(encode(as_photo(confident[BAG], size=200)))
    assert model_input.shape == (28, 28) and model_input.dtype == np.float32
    assert np.abs(model_input - original).mean() < 0.05


def test_aspect_ratio_is_kept_and_item_centred():
    tall = np.zeros((300, 100), dtype=np.uint8)
    tall[20:280, 40:60] = 255  # a 260x20 bar
    model_input = preprocess(tall)
    columns = np.flatnonzero(model_input.max(axis=0) > 0.5)
    rows = np.flatnonzero(model_input.max(axis=1) > 0.5)
    assert len(rows) >= 27  # longest edge scaled to 28
    assert 1 <= len(columns) <= 4  # width kept in proportion (20/260 * 28 ~ 2)
    assert abs(columns.mean() - 13.5) <= 1  # centred


def test_small_item_on_large_white_background_is_cropped(confident):
    page = Image.new("L", (600, 400), 255)
    page.paste(as_photo(confident[BAG], size=60), (450, 40))
    assert predict(encode(page))["prediction"] == "Bag"


# --- Bad inputs --------------------------------------------------------------------------


def png_with_declared_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: a decompression bomb's calling card."""
    data = bytearray(encode(Image.new("L", (8, 8))))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


class TextFile(io.StringIO):
    pass


BAD_INPUTS = {
    "None": (None, "No image"),
    "not an image": (b"%PDF-1.4 definitely not a picture", "not an image"),
    "empty bytes": (b"", "empty"),
    "empty file": (io.BytesIO(b""), "empty"),
    "truncated PNG": (encode(Image.new("L", (64, 64), 128))[:40], "truncated or corrupt"),
    "corrupt JPEG": (encode(Image.new("RGB", (64, 64)), "JPEG")[:200] + b"\x00" * 50, "truncated or corrupt"),
    "decompression bomb": (png_with_declared_size(60_000, 60_000), "too large"),
    "huge file": (b"\x89PNG" + bytes(MAX_UPLOAD_BYTES), "larger than 10 MB"),
    "text-mode file": (TextFile("hello"), "binary mode"),
    "unsupported type": (12345, "Cannot read an image"),
    "zero-size array": (np.zeros((0, 28)), "empty"),
    "wrong-rank array": (np.zeros((2, 28, 28, 1)), "shape"),
    "two-channel array": (np.zeros((28, 28, 2)), "shape"),
    "NaN array": (np.full((28, 28), np.nan), "NaN"),
    "blank white image": (encode(Image.new("L", (200, 200), 255)), "Nothing drawn"),
    "blank black array": (np.zeros((28, 28), dtype=np.uint8), "Nothing drawn"),
    "empty canvas": (np.zeros((280, 280, 4), dtype=np.uint8), "Nothing drawn"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_raises_one_readable_error(name):
    source, message = BAD_INPUTS[name]
    with pytest.raises(ValueError, match=message) as raised:  # a ValueError, as the docs promise callers
        predict(source)
    assert isinstance(raised.value, InvalidImageError)


def test_one_bad_image_does_not_sink_the_batch(confident):
    results = predict_batch([confident[BAG], b"junk", np.zeros((28, 28)), confident[TROUSER]])
    assert [result.get("prediction") for result in results] == ["Bag", None, None, "Trouser"]
    assert "not an image" in results[1]["error"] and "Nothing drawn" in results[2]["error"]


def test_batch_matches_single_predictions(sample):
    images, _ = sample
    batch = predict_batch(list(images[:20]))
    for image, result in zip(images[:20], batch):
        single = predict(image)
        assert single["class_id"] == result["class_id"]
        assert single["confidence"] == pytest.approx(result["confidence"], abs=1e-4)


def test_batch_across_chunks_keeps_every_answer_in_its_place(sample):
    images, _ = sample
    batch = [encode(Image.fromarray(image)) for image in images[: 2 * CHUNK_SIZE + 5]]  # 3 chunks, as uploads
    bad = {3: b"junk", CHUNK_SIZE + 1: np.zeros((28, 28)), 2 * CHUNK_SIZE + 4: b"\x89PNG\r\n\x1a\n"}
    for index, image in bad.items():
        batch[index] = image
    results = predict_batch(batch)
    assert len(results) == len(batch)
    for index, (image, result) in enumerate(zip(batch, results)):
        if index in bad:
            assert set(result) == {"error"}
        else:
            assert result == predict(image)


def test_preprocess_many_gives_what_preprocess_gives_or_raises(sample):
    images, _ = sample
    mixed = [images[0], encode(Image.fromarray(images[1])), np.zeros((28, 28)), encode(as_photo(images[2])), b"junk"]
    for image, model_input in zip(mixed, preprocess_many(mixed)):
        if isinstance(model_input, InvalidImageError):
            with pytest.raises(InvalidImageError, match=re.escape(str(model_input))):
                preprocess(image)
        else:
            np.testing.assert_array_equal(model_input, preprocess(image))
    # The blank array is "nothing drawn", a kind of InvalidImageError; the junk bytes are not an image at all.
    assert [type(model_input) for model_input in preprocess_many(mixed)[2:5:2]] == [NothingDrawnError, InvalidImageError]


def test_overlapped_keeps_order_and_raises_what_prepare_raises():
    assert overlapped(lambda chunk: chunk * 2, lambda prepared: prepared + 1, [1, 2, 3, 4]) == [3, 5, 7, 9]
    assert overlapped(lambda chunk: chunk, lambda prepared: prepared, []) == []

    def prepare(chunk: int) -> int:
        if chunk == 3:
            raise RuntimeError("a bug, not bad input")
        return chunk

    with pytest.raises(RuntimeError, match="a bug"):
        overlapped(prepare, lambda prepared: prepared, [1, 2, 3, 4])


def test_concurrent_callers_get_the_sequential_answers(sample):
    images, _ = sample
    expected = [predict(image)["class_id"] for image in images[:40]]

    def worker(offset: int) -> dict[int, int]:
        return {index: predict(encode(Image.fromarray(images[index])))["class_id"] for index in range(offset, 40, 4)}

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(worker, offset) for offset in range(4)]
    answers = {index: answer for future in futures for index, answer in future.result().items()}  # a worker's exception raises here
    assert [answers[index] for index in range(40)] == expected


# --- "Not one of my ten" ---------------------------------------------------------------------


def test_dataset_images_are_rarely_unlike_the_training_data_and_noise_always_is(sample):
    images, _ = sample
    reasons = [result["unsure_reason"] for result in predict_batch(list(images))]
    assert reasons.count("unlike_training") / len(reasons) <= 0.1  # the threshold flags about 5% of held-out images
    for seed in range(5):
        noise = (np.random.default_rng(seed).random((120, 120)) * 255).astype(np.uint8)
        assert predict(noise)["unsure_reason"] == "unlike_training"
    stripes = np.zeros((100, 100), np.uint8)
    stripes[:, ::10] = 255
    assert predict(stripes)["headline"] == "This doesn't look like any of the ten items I know"


def test_a_model_loading_never_holds_up_another_and_each_loads_once(tmp_path):
    import threading

    from cnn import predict as predict_module

    path = tmp_path / "model.file"
    path.write_bytes(b"x")
    release, loads = threading.Event(), []

    def slow_load(file):
        loads.append("slow")
        release.wait(timeout=10)
        return "slow model"

    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(predict_module.load_once, "test", "slow-model", path, slow_load)
        second = pool.submit(predict_module.load_once, "test", "slow-model", path, slow_load)
        # Another model loads and is looked up while the slow one is still loading.
        assert predict_module.load_once("test", "fast-model", path, lambda file: "fast model") == "fast model"
        assert not first.done() and not second.done()
        release.set()
        assert first.result(timeout=10) == second.result(timeout=10) == "slow model"
    assert loads == ["slow"]  # the second caller waited for the first load instead of loading again
    predict_module.unload("slow-model")
    predict_module.unload("fast-model")


def test_a_box_is_in_the_photos_own_pixels_even_when_a_big_jpeg_is_decoded_smaller(sample):
    """A 4000-pixel JPEG is decoded at a fraction of its size; the box still means the photo's own pixels."""
    from cnn.decode import decode_image, full_size

    images, labels = sample
    item = Image.fromarray(255 - images[0]).resize((1000, 1000), Image.Resampling.BICUBIC).convert("RGB")
    photo = Image.new("RGB", (4000, 3000), (120, 90, 60))  # a brown floor
    photo.paste(item, (2600, 1700))
    data = encode(photo, "JPEG", quality=92)
    decoded = decode_image(data)
    assert decoded.width < 4000 and full_size(decoded) == (4000, 3000)
    box = (2550, 1650, 1100, 1100)  # around the item, in the photo's pixels
    boxed = predict(data, box=box)
    assert boxed["prediction"] == predict(encode(item))["prediction"]
    np.testing.assert_allclose(preprocess(decoded, box=box), preprocess(data, box=box), atol=1e-6)
