"""Flask server around `cnn.predict`: the upload-and-classify JSON API plus a one-page demo.

Run it with `flask --app cnn.server run` (development) or any WSGI server pointed at
`cnn.server:create_app()`. Routes:

    GET  /          upload page (templates/index.html, static/)
    POST /predict   multipart field "file" or a raw image/* body -> predict() dict as JSON;
                    ?top_k=1..10 (default 3), ?include_input=1 adds "model_input" (PNG data URL)
    GET  /sample    a random image of the shipped test sample, its true label and the prediction
    GET  /model     the shipped model card (assets/cnn_metrics.json)
    GET  /health    status, model name and the app's version: what a monitor needs, nothing about the host

Every error is JSON {"error": "..."} with no server path in it; tracebacks and paths only go to the log.
Every response carries security headers (SECURITY_HEADERS): the page runs only its own script and
cannot be framed by another site.
"""

import functools
import random

import numpy as np
from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, ServiceUnavailable, UnsupportedMediaType

from cnn import __version__
from cnn.artifacts import read_json
from cnn.config import CLASS_NAMES, DEFAULT_MODEL, MAX_UPLOAD_BYTES, metrics_path
from cnn.data import load_test_sample
from cnn.decode import FORMATS_IN_WORDS, UPLOAD_EXTENSIONS
from cnn.predict import InvalidImageError, classify, load_model, warm_up
from cnn.render import as_uint8, png_data_url

DEFAULT_TOP_K = 3
UPLOAD_FIELD = "file"  # The seed apps' contract: request.files["file"].
TRUE_VALUES, FALSE_VALUES = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
# The page's script and stylesheet come from this server; pictures are its data: URLs (the model input,
# test images) and blob: URLs (the user's own file, previewed without uploading it twice).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MODEL_MISSING = "The model is not installed on this server."


def create_app(test_config: dict | None = None) -> Flask:
    """The app factory `flask --app cnn.server run` and WSGI servers call."""
    # Templates and static files live next to this module, so they are found wherever the package runs.
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES)
    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it: keep the model card and the top-k list in their own order.

    register_routes(app)
    register_error_handlers(app)

    @app.after_request
    def add_security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    load_model_at_start(app)
    return app


# ---------------------------------------------------------------------------------------
# Model and data: one shared, thread-safe model (cnn.predict caches it per process).


def load_model_at_start(app: Flask) -> None:
    """Load the model and run it once at start-up, so the first user does not wait for it."""
    try:
        warm_up(DEFAULT_MODEL)
    except FileNotFoundError as error:
        app.logger.warning("Starting without a model: %s", error)


def shared_model():
    """The default model, or 503 when it is missing: the path and the training command go to the log."""
    try:
        return load_model(DEFAULT_MODEL)
    except FileNotFoundError as error:
        current_app.logger.error("%s", error)
        raise ServiceUnavailable(MODEL_MISSING) from error


@functools.cache
def shipped_sample() -> tuple[np.ndarray, np.ndarray]:
    """The shipped stratified test sample, read once."""
    try:
        return load_test_sample()
    except FileNotFoundError as error:
        current_app.logger.error("The test sample is missing (%s). Create it with: python -m cnn.data", error)
        raise ServiceUnavailable("The test sample is not installed on this server.") from error


# ---------------------------------------------------------------------------------------
# Request parsing: every bad value becomes a 4xx with a readable message.


def top_k_argument() -> int:
    value = request.args.get("top_k", str(DEFAULT_TOP_K))
    try:
        top_k = int(value)
    except ValueError:
        raise BadRequest(f"top_k must be a whole number from 1 to {len(CLASS_NAMES)}, got {value!r}.") from None
    if not 1 <= top_k <= len(CLASS_NAMES):
        raise BadRequest(f"top_k must be from 1 to {len(CLASS_NAMES)}, got {top_k}.")
    return top_k


def flag_argument(name: str) -> bool:
    value = request.args.get(name, "").strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise BadRequest(f"{name} must be 1 or 0, got {value!r}.")


def uploaded_image():
    """The image the client sent: the multipart field "file" or the raw body of an image/* request."""
    if request.mimetype == "multipart/form-data":
        file = request.files.get(UPLOAD_FIELD)
        if file is None:
            raise BadRequest(f'Missing form field "{UPLOAD_FIELD}": send the image file in it.')
        return file
    if request.mimetype.startswith("image/"):
        return request.get_data(cache=False)
    if not request.mimetype:
        raise BadRequest(f'No image: send multipart field "{UPLOAD_FIELD}" or a raw body with Content-Type image/*.')
    raise UnsupportedMediaType(
        f'Content-Type {request.mimetype} is not supported: send multipart/form-data with field "{UPLOAD_FIELD}" '
        "or a raw body with Content-Type image/*."
    )


# ---------------------------------------------------------------------------------------
# Responses.


def upload_limit_mb() -> int:
    return current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)


def classify_request(image, top_k: int, include_input: bool) -> dict:
    """predict()'s dict; with include_input also the 28x28 model input, from a single preprocessing pass."""
    shared_model()  # A missing model is a 503 before any work.
    try:
        result, model_input, _ = classify(image, top_k=top_k, model_name=DEFAULT_MODEL)
    except InvalidImageError as error:
        raise BadRequest(str(error)) from error
    return result | {"model_input": png_data_url(as_uint8(model_input))} if include_input else result


def register_routes(app: Flask) -> None:
    @app.get("/")
    def index():
        accept = ",".join(["image/*"] + [f".{extension}" for extension in UPLOAD_EXTENSIONS])
        return render_template("index.html", max_upload_mb=upload_limit_mb(), accept=accept, formats=FORMATS_IN_WORDS)

    @app.post("/predict")
    def predict_route():
        top_k, include_input = top_k_argument(), flag_argument("include_input")
        return jsonify(classify_request(uploaded_image(), top_k, include_input))

    @app.get("/sample")
    def sample_route():
        """One random test image (or ?index=N) with its true label and the model's answer."""
        top_k = top_k_argument()
        images, labels = shipped_sample()
        index_value = request.args.get("index")
        if index_value is None:
            index = random.randrange(len(images))
        else:
            try:
                index = int(index_value)
            except ValueError:
                raise BadRequest(f"index must be a whole number, got {index_value!r}.") from None
            if not 0 <= index < len(images):
                raise BadRequest(f"index must be from 0 to {len(images) - 1}, got {index}.")
        result = classify_request(images[index], top_k, include_input=True)
        true_class_id = int(labels[index])
        return jsonify(
            {
                "index": index,
                "image": png_data_url(as_uint8(images[index])),
                "true_label": CLASS_NAMES[true_class_id],
                "true_class_id": true_class_id,
                "correct": result["class_id"] == true_class_id,
            }
            | result
        )

    @app.get("/model")
    def model_card():
        metrics = read_json(metrics_path(DEFAULT_MODEL))
        if metrics is None:
            app.logger.error(
                "No model card at %s. Train the model with: python -m cnn.train --model %s", metrics_path(DEFAULT_MODEL), DEFAULT_MODEL
            )
            raise NotFound("The model card is not installed on this server.")
        return jsonify(metrics)

    @app.get("/health")
    def health():
        try:
            shared_model()
            loaded, problem = True, None
        except ServiceUnavailable as error:
            loaded, problem = False, error.description
        body: dict[str, object] = {
            "status": "ok" if loaded else "unavailable",
            "model_loaded": loaded,
            "model": DEFAULT_MODEL,
            "version": __version__,
        }
        if problem:
            body["error"] = problem
        return jsonify(body), 200 if loaded else 503


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Werkzeug's errors (400, 404, 405, 413, 415, 503...) as JSON, keeping headers such as Allow."""
        if error.description != type(error).description:
            message = error.description  # Raised here with a specific message.
        elif error.code == 404:
            message = f"Not found: {request.path}"
        elif error.code == 405:
            message = f"Method {request.method} is not allowed on {request.path}."
        elif error.code == 413:
            message = f"The upload is larger than {upload_limit_mb()} MB."
        else:
            message = error.description
        response = error.get_response()
        response.set_data(app.json.dumps({"error": message}))
        response.content_type = "application/json"
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # The traceback goes to the log, never to the client.
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return jsonify(error="Internal server error."), 500
