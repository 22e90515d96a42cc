"""The Flask server: every route and every bad request. The load test is bench/loadtest.py (make loadtest)."""

import base64
import io
import logging
import re

import numpy as np
import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from cnn import server
from cnn.artifacts import read_json
from cnn.config import CLASS_NAMES, DEFAULT_MODEL, metrics_path
from cnn.data import load_test_sample
from cnn.predict import predict, predict_batch, preprocess
from tests.helpers import encode


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_data_url(data_url: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix) :]))))


def assert_json_error(response, status: int) -> str:
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body["error"]


@pytest.fixture(scope="module")
def app():
    return server.create_app({"TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def sample():
    return load_test_sample()


@pytest.fixture(scope="module")
def well_classified(sample):
    """A test image the model gets right with the highest confidence: (image uint8 (28, 28), label)."""
    images, labels = sample
    results = predict_batch(list(images), top_k=1)
    correct = [i for i, result in enumerate(results) if result["class_id"] == labels[i]]
    if not correct:
        pytest.fail("The model classifies no test-sample image correctly.")
    best = max(correct, key=lambda i: results[i]["confidence"])
    return images[best], CLASS_NAMES[labels[best]]


# ---------------------------------------------------------------------------------------
# GET /


def test_index_serves_the_upload_page_and_its_assets(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="/predict"' in html and 'name="file"' in html
    assert 'id="sample-button"' in html and 'id="model-input"' in html
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "image-rendering: pixelated" in css.get_data(as_text=True)
    script = client.get("/static/app.js")
    assert script.status_code == 200
    assert "include_input=1" in script.get_data(as_text=True)


def test_templates_and_static_files_are_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    client = server.create_app().test_client()
    assert client.get("/").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_debug_is_off_by_default(monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    assert server.create_app().debug is False


# ---------------------------------------------------------------------------------------
# POST /predict


def test_predict_filestorage_upload_answers_the_predict_dict(client, well_classified):
    image, label = well_classified
    data = png_bytes(image)
    upload = FileStorage(stream=io.BytesIO(data), filename="item.png", content_type="image/png")
    response = client.post("/predict", data={"file": upload})
    assert response.status_code == 200
    body = response.get_json()
    assert body["prediction"] == label
    assert body == predict(data)  # the same contract as the package, unchanged
    assert isinstance(body["unsure"], bool) and body["model"] == "cnn"
    assert body["unsure_reason"] is None and body["headline"] == label
    assert [entry["label"] for entry in body["top_k"]][0] == label and len(body["top_k"]) == 3
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)


def test_a_drawing_of_noise_is_none_of_the_ten_in_the_json(client):
    noise = (np.random.default_rng(3).random((150, 150)) * 255).astype(np.uint8)
    body = client.post("/predict", data=encode(Image.fromarray(noise)), content_type="image/png").get_json()
    assert body["unsure"] is True and body["unsure_reason"] == "unlike_training"
    assert body["headline"] == "This doesn't look like any of the ten items I know"


def test_predict_accepts_a_raw_image_body(client, well_classified):
    image, label = well_classified
    response = client.post("/predict", data=png_bytes(image), content_type="image/png")
    assert response.status_code == 200
    assert response.get_json()["prediction"] == label


@pytest.mark.parametrize("top_k", [1, 5, 10])
def test_predict_top_k(client, well_classified, top_k):
    response = client.post(f"/predict?top_k={top_k}", data=png_bytes(well_classified[0]), content_type="image/png")
    assert response.status_code == 200
    ranked = response.get_json()["top_k"]
    assert len(ranked) == top_k
    probabilities = [entry["probability"] for entry in ranked]
    assert probabilities == sorted(probabilities, reverse=True)


@pytest.mark.parametrize("top_k", ["0", "11", "-1", "2.5", "three", ""])
def test_predict_rejects_a_bad_top_k(client, well_classified, top_k):
    response = client.post(f"/predict?top_k={top_k}", data=png_bytes(well_classified[0]), content_type="image/png")
    assert "top_k" in assert_json_error(response, 400)


def test_include_input_adds_the_exact_model_input(client, well_classified):
    data = png_bytes(well_classified[0])
    response = client.post("/predict?include_input=1&top_k=3", data={"file": (io.BytesIO(data), "item.png")})
    assert response.status_code == 200
    body = response.get_json()
    model_input = decode_data_url(body.pop("model_input"))
    assert model_input.shape == (28, 28)
    np.testing.assert_array_equal(model_input, np.round(preprocess(data) * 255).astype(np.uint8))
    assert body == predict(data)  # the one-pass path gives the same answer as predict()


def test_include_input_rejects_a_bad_flag(client, well_classified):
    response = client.post("/predict?include_input=maybe", data=png_bytes(well_classified[0]), content_type="image/png")
    assert "include_input" in assert_json_error(response, 400)


def test_predict_missing_file_field(client, well_classified):
    response = client.post("/predict", data={"image": (io.BytesIO(png_bytes(well_classified[0])), "item.png")})
    assert '"file"' in assert_json_error(response, 400)


def test_predict_without_any_body(client):
    assert_json_error(client.post("/predict"), 400)


def test_predict_empty_file(client):
    error = assert_json_error(client.post("/predict", data={"file": (io.BytesIO(b""), "empty.png")}), 400)
    assert "empty" in error


def test_predict_empty_raw_body(client):
    assert "empty" in assert_json_error(client.post("/predict", data=b"", content_type="image/png"), 400)


def test_predict_non_image_file(client):
    # A multipart upload is accepted as such: its content is what is wrong, so 400 with predict()'s message.
    response = client.post("/predict", data={"file": (io.BytesIO(b"name,price\nshirt,10\n"), "table.csv")})
    assert "not an image" in assert_json_error(response, 400)


def test_predict_non_image_raw_body_is_an_unsupported_media_type(client):
    response = client.post("/predict", data=b"name,price\nshirt,10\n", content_type="text/csv")
    assert "image/*" in assert_json_error(response, 415)


def test_predict_blank_image(client):
    blank = png_bytes(np.full((64, 64), 255, dtype=np.uint8))
    assert "Nothing drawn" in assert_json_error(client.post("/predict", data=blank, content_type="image/png"), 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "application/x-www-form-urlencoded"])
def test_predict_unsupported_content_type(client, content_type):
    error = assert_json_error(client.post("/predict", data=b'{"a": 1}', content_type=content_type), 415)
    assert content_type in error


def test_predict_oversized_raw_body_is_413(client):
    too_big = b"\x89PNG" + bytes(server.MAX_UPLOAD_BYTES)
    assert "10 MB" in assert_json_error(client.post("/predict", data=too_big, content_type="image/png"), 413)


def test_predict_oversized_upload_is_413(client):
    too_big = io.BytesIO(bytes(server.MAX_UPLOAD_BYTES + 1))
    assert_json_error(client.post("/predict", data={"file": (too_big, "huge.png")}), 413)


def test_unexpected_error_is_a_json_500_without_traceback(client, well_classified, monkeypatch, caplog):
    def broken_classify(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(server, "classify", broken_classify)
    with caplog.at_level(logging.ERROR):
        response = client.post("/predict", data=png_bytes(well_classified[0]), content_type="image/png")
    error = assert_json_error(response, 500)
    assert "secret" not in response.get_data(as_text=True) and "secret" not in error
    logged = [record.exc_info[1] for record in caplog.records if record.exc_info]
    assert any(isinstance(error, RuntimeError) and "secret internal detail" in str(error) for error in logged)


def test_missing_model_is_a_json_503_without_the_server_path(client, well_classified, monkeypatch, caplog):
    def no_model(name):
        raise FileNotFoundError(f"No trained model at /srv/secret/assets/{name}.tflite.")

    monkeypatch.setattr(server, "load_model", no_model)
    with caplog.at_level(logging.ERROR):
        error = assert_json_error(client.post("/predict", data=png_bytes(well_classified[0]), content_type="image/png"), 503)
    assert error == server.MODEL_MISSING and "/srv/secret" in caplog.text  # the path goes to the log only
    health = client.get("/health")
    assert health.status_code == 503 and health.get_json()["model_loaded"] is False
    assert "/srv/secret" not in health.get_data(as_text=True)


# ---------------------------------------------------------------------------------------
# Unknown routes and wrong methods


def test_unknown_route_is_a_json_404(client):
    assert "/no/such/page" in assert_json_error(client.get("/no/such/page"), 404)


@pytest.mark.parametrize(("method", "path"), [("get", "/predict"), ("put", "/predict"), ("post", "/"), ("post", "/health")])
def test_wrong_method_is_a_json_405(client, method, path):
    response = getattr(client, method)(path)
    assert_json_error(response, 405)
    assert response.headers.get("Allow")


# ---------------------------------------------------------------------------------------
# GET /sample, /model, /health


def test_sample_returns_a_test_image_its_label_and_the_top_3(client, sample):
    images, labels = sample
    response = client.get("/sample")
    assert response.status_code == 200
    body = response.get_json()
    index = body["index"]
    np.testing.assert_array_equal(decode_data_url(body["image"]), images[index])
    assert decode_data_url(body["model_input"]).shape == (28, 28)
    assert body["true_class_id"] == labels[index] and body["true_label"] == CLASS_NAMES[labels[index]]
    assert len(body["top_k"]) == 3
    assert body["correct"] == (body["prediction"] == body["true_label"])
    assert body["prediction"] == predict(images[index])["prediction"]


def test_sample_by_index_and_top_k(client, well_classified, sample):
    images, _ = sample
    index = next(i for i, image in enumerate(images) if np.array_equal(image, well_classified[0]))
    body = client.get(f"/sample?index={index}&top_k=5").get_json()
    assert body["index"] == index and body["correct"] is True
    assert body["prediction"] == well_classified[1] and len(body["top_k"]) == 5


@pytest.mark.parametrize("query", ["index=-1", "index=100000", "index=first", "top_k=0"])
def test_sample_rejects_bad_arguments(client, query):
    assert_json_error(client.get(f"/sample?{query}"), 400)


def test_model_card_is_the_shipped_metrics_file(client):
    response = client.get("/model")
    assert response.status_code == 200
    card = response.get_json()
    assert card == read_json(metrics_path(DEFAULT_MODEL))
    assert card["model"] == DEFAULT_MODEL and 0.0 <= card["test_accuracy"] <= 1.0


def test_health_says_what_a_monitor_needs_and_nothing_about_the_host(client):
    from cnn import __version__

    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "model_loaded": True, "model": DEFAULT_MODEL, "version": __version__}


@pytest.mark.parametrize("path", ["/", "/health", "/no/such/page"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_takes_every_accepted_format_and_runs_no_inline_script(client):
    from cnn.decode import UPLOAD_EXTENSIONS

    page = client.get("/").get_data(as_text=True)
    accept = re.search(r'accept="([^"]+)"', page).group(1).split(",")
    assert "image/*" in accept and {f".{extension}" for extension in UPLOAD_EXTENSIONS} <= set(accept)
    assert ".heic" in accept and ".jfif" in accept
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attributes for attributes in scripts) and " style=" not in page  # the policy would block inline ones
