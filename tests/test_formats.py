"""Every format a phone or a browser saves, read by content; anything else refused by name of what works;
no file of up to the upload limit can stall predict() or exhaust memory; damaged files fail cleanly."""

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from PIL import Image

from bench.fuzz import inputs, outcome
from cnn.decode import ACCEPTED_FORMATS, FORMAT_EXTENSIONS, FORMATS_IN_WORDS, UPLOAD_EXTENSIONS, full_decode_pixels, register_heif_opener
from cnn.predict import InvalidImageError, predict
from tests.helpers import as_photo, encode


@pytest.fixture(scope="module")
def confident_photo(sample) -> tuple[Image.Image, str]:
    """A test-sample item the model names with the highest confidence, as an RGB product photo."""
    images, labels = sample
    results = [predict(as_photo(image).convert("RGB")) for image in images[:40]]
    best = max(range(len(results)), key=lambda index: results[index]["confidence"])
    return as_photo(images[best]).convert("RGB"), results[best]["prediction"]


@pytest.mark.parametrize("image_format", ACCEPTED_FORMATS)
def test_every_accepted_format_is_classified_like_the_png(confident_photo, image_format):
    register_heif_opener()
    photo, label = confident_photo
    assert predict(encode(photo, image_format))["prediction"] == label


def test_the_uploaders_take_what_devices_save():
    assert {"jfif", "jpe", "heic", "heif", "avif", "tif", "tiff", "webp", "png", "jpg"} <= set(UPLOAD_EXTENSIONS)
    assert set(FORMAT_EXTENSIONS) == set(ACCEPTED_FORMATS)
    for words in ("PNG", "JPEG", "HEIC", "AVIF", "TIFF"):
        assert words in FORMATS_IN_WORDS


@pytest.mark.parametrize("image_format", ["ICO", "PPM", "TGA", "PCX", "SGI", "PDF"])
def test_other_formats_are_refused_with_the_list_of_what_works(confident_photo, image_format):
    # Pillow reads most of these: predict() must not hand uploads to those decoders.
    with pytest.raises(InvalidImageError, match="send a PNG, JPEG") as error:
        predict(encode(confident_photo[0], image_format))
    assert "HEIC" in str(error.value)


def test_a_file_named_wrongly_is_read_by_its_content(confident_photo, tmp_path):
    photo, label = confident_photo
    misnamed = tmp_path / "photo.jpg"
    misnamed.write_bytes(encode(photo, "PNG"))
    with misnamed.open("rb") as file:
        assert predict(file)["prediction"] == label


MEASURE = textwrap.dedent(
    """
    import io, resource, sys, time
    import numpy as np
    from PIL import Image
    from cnn.predict import InvalidImageError, predict
    from tests.helpers import as_photo, encode

    warm = np.zeros((28, 28), np.uint8); warm[6:22, 8:20] = 200
    predict(encode(as_photo(warm)))  # the model and the decoders loaded before measuring
    side, image_format = int(sys.argv[1]), sys.argv[2]
    photo = Image.new("RGB", (side, side), (236, 236, 236))
    photo.paste((30, 30, 110), (side // 3, side // 4, 2 * side // 3, 3 * side // 4))
    data = encode(photo, image_format)
    del photo
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        outcome = predict(data)["prediction"]
    except InvalidImageError as error:
        outcome = "refused: " + str(error)
    seconds = time.perf_counter() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"{seconds:.3f} {grown_mb:.0f} {outcome}")
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("side", "image_format", "decoded"),
    [(7000, "PNG", False), (int(full_decode_pixels("PNG") ** 0.5) - 8, "PNG", True), (7000, "JPEG", True), (2400, "WEBP", True)],
)
def test_no_upload_stalls_predict_or_grows_its_memory_by_more_than_100_mb(side, image_format, decoded):
    """A mostly flat image compresses to far under the upload limit whatever its size: the header's size is
    checked before decoding, a JPEG decodes at a fraction of its size, everything else works on a shrunk copy."""
    measured = subprocess.run([sys.executable, "-c", MEASURE, str(side), image_format], capture_output=True, text=True, check=True)
    seconds, grown_mb, answer = measured.stdout.strip().splitlines()[-1].split(" ", 2)
    print(f"{image_format} {side}x{side}: {seconds} s, peak memory +{grown_mb} MB, {answer[:60]}")  # pytest -s shows it
    assert answer.startswith("refused") != decoded, answer
    assert float(seconds) < 1.0 and float(grown_mb) <= 100, measured.stdout


FUZZ_INPUTS = 800  # about 100 a format: bench.fuzz runs many more
STALL_SECONDS = 2.0  # twice bench.fuzz's goal: a loaded test machine passes, a stalled decoder does not


def test_damaged_files_of_every_format_give_a_result_or_a_clear_error_quickly():
    stream = inputs(seed=1)
    seen: dict[str, set] = {}
    for _ in range(FUZZ_INPUTS):
        image_format, data = next(stream)
        started = time.perf_counter()
        kind = outcome(data)
        took = time.perf_counter() - started
        assert kind in ("result", "InvalidImageError"), f"{image_format} input raised {kind}"
        assert took < STALL_SECONDS, f"a damaged {image_format} file took {took:.2f} s"
        seen.setdefault(image_format, set()).add(kind)
    assert set(seen) == set(ACCEPTED_FORMATS)
    assert all("InvalidImageError" in kinds for kinds in seen.values())  # the mutations do break every format


def test_a_damaged_avif_or_heic_is_a_clear_error_not_a_runtime_error(confident_photo):
    register_heif_opener()
    for image_format in ("AVIF", "HEIF"):
        data = bytearray(encode(confident_photo[0], image_format))
        data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)  # the coded image zeroed
        try:
            result = predict(bytes(data))  # a decoder may conceal the damage: then a result
            assert np.isfinite(result["confidence"])
        except InvalidImageError as error:  # any other exception fails the test
            assert "corrupt" in str(error)
