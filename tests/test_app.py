"""The Streamlit pages, run headless with streamlit.testing.v1.AppTest, and the shared UI helpers.

Each page: it renders without an exception, its widgets exist (looked up by key), and a known
input gives the output the `cnn` package computes for that input.
"""

import base64
import gc
import html
import re

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnn.config import CANVAS_SIZE, CLASS_NAMES, PROJECT_DIR
from cnn.evaluate import misclassified_indices
from cnn.explain import load_layers
from cnn.predict import NothingDrawnError, classify, load_model, predict, preprocess
from cnn.registry import DRAWING_MODEL, MODEL_NAMES
from cnn.render import channel_columns, feature_map_grid, grad_cam_overlay, tile_row, upscale
from tests.helpers import as_photo, encode
from ui import loaders, training
from ui.canvas import png_from_drawing
from ui.layout import PAGES
from ui.prediction import headline as prediction_headline
from ui.upload import classify_file, results_table

MAIN = str(PROJECT_DIR / "streamlit_app.py")
TIMEOUT = 60  # seconds per script run: loading the model is slow on a busy machine


def run_page(page: str | None = None, session_state: dict | None = None) -> AppTest:
    """A fresh session (its own session_state) on `page`, run once there."""
    app = AppTest.from_file(MAIN, default_timeout=TIMEOUT)
    if page:
        app.run()  # the router registers its pages on the first run: only then can AppTest switch to one
        app.switch_page(page)
    for key, value in (session_state or {}).items():
        app.session_state[key] = value
    return app.run()


def html_bodies(app: AppTest) -> str:
    """Every st.html block on the page, one string: the answers and the pictures with their alt text."""
    return "".join(element.proto.body for element in app.get("html"))


def headlines(app: AppTest) -> list[str]:
    """The prediction headlines of show_prediction() on the page: 'Label' or 'Not sure: maybe A, B or C?'."""
    bodies = html_bodies(app)
    return [html.unescape(text) for text in re.findall(r'<h2 class="prediction-headline">(.*?)</h2>', bodies)]


def shows(app: AppTest, result: dict) -> bool:
    """The page's headline is the one show_prediction() writes for this result."""
    found = headlines(app)
    assert found, "no prediction headline on the page"
    return found[0] == prediction_headline(result)


def bar_labels(app: AppTest) -> list[str]:
    """The class names of show_prediction()'s probability bars, in the order they are drawn."""
    bars = [element.proto.body for element in app.get("html") if "probability-bars" in element.proto.body]
    assert len(bars) == 1, "expected one set of probability bars"
    return [html.unescape(label) for label in re.findall(r'<span class="label[^"]*">([^<]*)</span>', bars[0])]


def figure_blocks(app: AppTest) -> list[str]:
    """The page's blocks of figures (ui.figures), in page order."""
    return [element.proto.body for element in app.get("html") if 'class="figures' in element.proto.body]


def insights_html(app: AppTest) -> str:
    """The Draw page's views below the answer: its last block of figures."""
    return figure_blocks(app)[-1]


def figure_captions(app: AppTest) -> list[str]:
    """The captions of every figure on the page, unescaped, line breaks as newlines."""
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", "".join(figure_blocks(app)), flags=re.DOTALL)
    return [html.unescape(caption.replace("<br>", "\n")) for caption in captions]


def canvas_rgba(item: np.ndarray) -> np.ndarray:
    """A dataset item drawn in white on the Draw page's black 280x280 canvas, as the canvas returns it (RGBA)."""
    grey = np.zeros((CANVAS_SIZE, CANVAS_SIZE), dtype=np.uint8)
    grey[40:240, 40:240] = np.asarray(Image.fromarray(item).resize((200, 200), Image.Resampling.NEAREST))
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    return rgba


def canvas_png(rgba: np.ndarray) -> bytes:
    return encode(Image.fromarray(rgba, "RGBA"))


def canvas_state(rgba: np.ndarray) -> dict:
    """The sketch_canvas component's value after a stroke: the canvas as a PNG data URL and the stroke count."""
    return {"drawing": {"png": "data:image/png;base64," + base64.b64encode(canvas_png(rgba)).decode(), "strokes": 1}}


@pytest.fixture(scope="module")
def confident_indices(sample) -> dict[int, int]:
    """For each class, the test-sample image the model classifies right with the highest probability."""
    images, labels = sample
    chosen = {}
    for class_id in range(len(CLASS_NAMES)):
        candidates = np.flatnonzero(labels == class_id)
        probabilities = [predict(images[index], top_k=1)["probabilities"][CLASS_NAMES[class_id]] for index in candidates]
        chosen[class_id] = int(candidates[int(np.argmax(probabilities))])
    return chosen


# ---------------------------------------------------------------------------------------
# Pages.


def test_home_shows_the_model_card_from_the_metrics_file():
    metrics = loaders.load_metrics()
    app = run_page()
    assert not app.exception
    assert app.title[0].value.endswith("Fashion-MNIST CNN")
    shown = {metric.label: metric.value for metric in app.metric}
    assert shown["Test accuracy"] == f"{metrics['test_accuracy']:.2%}"
    assert shown["Macro F1"] == f"{metrics['macro_f1']:.3f}"
    card = app.table[0].value
    values = dict(zip(card["Item"], card["Value"]))
    assert values["Parameters"] == f"{metrics['parameters']:,}"
    assert values["Optimizer"] == metrics["optimizer"]
    assert values["Loss function"] == metrics["loss_function"]
    assert str(metrics["test_size"]) in values["Training / validation / test images"].replace(",", "")


def test_draw_shows_a_hint_until_something_is_drawn():
    app = run_page("app_pages/draw.py")
    assert not app.exception
    assert app.slider(key="draw_pen_width").value == 16
    assert app.toggle(key="draw_show_all").value is False
    assert "prediction appears here" in app.info[0].value
    assert not headlines(app)


def test_draw_shows_the_hint_again_once_the_canvas_is_cleared():
    # The canvas's Clear and Undo-to-empty send {"drawing": None}.
    app = run_page("app_pages/draw.py", {"draw_canvas": {"drawing": None}})
    assert not app.exception
    assert "prediction appears here" in app.info[0].value


def test_draw_predicts_what_the_canvas_holds(sample, confident_indices):
    images, _ = sample
    drawing = canvas_rgba(images[confident_indices[1]])  # a pair of trousers, filled in
    expected = predict(drawing, top_k=3, sketch=True)
    app = run_page("app_pages/draw.py", {"draw_canvas": canvas_state(drawing)})
    assert not app.exception
    assert shows(app, expected)
    assert not app.info
    assert bar_labels(app) == [entry["label"] for entry in expected["top_k"]]
    assert "What the network sees: 28x28 pixels, enlarged" in figure_captions(app)
    # The live views below the answer, one block of figures: Grad-CAM for the predicted class, a tile column
    # per conv layer, the nearest training images, the other networks' answers.
    captions = figure_captions(app)
    assert any(caption.startswith(f"Grad-CAM for {expected['top_k'][0]['label']}") for caption in captions)
    conv_names = load_layers(expected["model"]).conv_names
    layers_caption = next(caption for caption in captions if caption.startswith(conv_names[0]))
    assert [part.split(" ")[0] for part in layers_caption.split(" · ")] == conv_names  # a column for every conv layer
    neighbours_caption = next(caption for caption in captions if caption.split(" (")[0] in CLASS_NAMES)
    assert len(neighbours_caption.split("\n")[0].split(" · ")) == 6  # the nearest training images
    assert insights_html(app).count("<img ") == 4  # Grad-CAM and its scale, the neighbours, the layers
    compared = [name for name in ("cnn", "baseline", "mlp") if name in loaders.trained_models()]
    assert compared and all(html.escape(loaders.model_label(name)) in insights_html(app) for name in compared)

    app.toggle(key="draw_show_all").set_value(True).run()
    assert not app.exception
    assert shows(app, expected)
    assert sorted(bar_labels(app)) == sorted(CLASS_NAMES)

    app.selectbox(key="draw_cam_class").set_value("Bag").run()
    assert not app.exception
    assert any(caption.startswith("Grad-CAM for Bag") for caption in figure_captions(app))


def test_draw_learns_a_correction_at_once_and_offers_it_for_download(sample, confident_indices):
    drawing = canvas_rgba(sample[0][confident_indices[1]])  # trousers
    app = run_page("app_pages/draw.py", {"draw_canvas": canvas_state(drawing)})
    assert not app.exception and headlines(app)[0] != "Bag"
    app.selectbox(key="draw_teach_class").set_value("Bag").run()
    app.button(key="draw_teach").click().run()
    assert not app.exception
    assert headlines(app)[0] == "Bag"  # the same drawing again: answered from what it was taught
    assert any("Taught: this drawing is a Bag" in element.value for element in app.success)
    assert any("You taught me 1 drawing" in caption.value for caption in app.caption)
    assert app.selectbox(key="draw_teach_class").value is None  # ready for the next correction
    app.button(key="draw_taught_clear").click().run()
    assert not app.exception and headlines(app)[0] != "Bag"
    assert not any("You taught me" in caption.value for caption in app.caption)


def in_page_order(node) -> list:
    """Every element under node, depth first: the order a phone stacks them in."""
    children = getattr(node, "children", None)
    if not children:
        return [node]
    return [node] + [element for child in children.values() for element in in_page_order(child)]


def test_draw_puts_the_canvas_before_its_settings():
    # On a phone the columns stack in page order: the canvas and the answer come first, then the settings.
    app = run_page("app_pages/draw.py")
    elements = in_page_order(app.main)
    keys = [getattr(element, "key", None) for element in elements]
    settings = [keys.index(key) for key in ("draw_pen_width", "draw_show_all", "draw_cam_class")]
    answer_hint = next(i for i, element in enumerate(elements) if element.type == "info" and "prediction appears here" in element.value)
    assert keys.index("draw_canvas") < answer_hint < min(settings)


def test_loading_a_model_sets_aside_what_is_loaded_from_the_garbage_collector():
    # Streamlit collects garbage after every script run: frozen objects make that collection cheap.
    loaders.get_model.clear()
    gc.unfreeze()
    loaders.get_model(DRAWING_MODEL)
    assert gc.get_freeze_count() > 10_000


def test_clearing_the_app_cache_reloads_the_model_from_disk():
    first = loaders.get_model(DRAWING_MODEL)
    loaders.get_model.clear()
    second = loaders.get_model(DRAWING_MODEL)
    assert second is not first  # read again, not handed back from cnn.predict's own cache
    assert load_model(DRAWING_MODEL) is second  # and predict() now uses that one


def test_draw_runs_the_drawing_model(sample):
    drawing = canvas_png(canvas_rgba(sample[0][0]))
    result, model_input, _ = classify(drawing, sketch=True)
    assert result == predict(drawing, sketch=True) and result["model"] == DRAWING_MODEL
    np.testing.assert_array_equal(model_input, preprocess(drawing, sketch=True))

    blank = np.zeros((CANVAS_SIZE, CANVAS_SIZE, 4), dtype=np.uint8)
    blank[..., 3] = 255
    with pytest.raises(NothingDrawnError):
        classify(canvas_png(blank), sketch=True)


def test_upload_classifies_each_file_and_names_the_bad_one(sample, confident_indices):
    images, _ = sample
    bag_png = encode(as_photo(images[confident_indices[8]]))  # dark on white, 140x140, like a product photo
    trouser_jpeg = encode(as_photo(images[confident_indices[1]]).convert("RGB"), "JPEG", quality=90)
    app = run_page("app_pages/upload.py")
    assert not app.exception
    assert "Choose or drop" in app.info[0].value

    app.file_uploader(key="upload_files").set_value(
        [
            ("bag.png", bag_png, "image/png"),
            ("notes.png", b"not an image at all", "image/png"),
            ("trousers.jpg", trouser_jpeg, "image/jpeg"),
        ]
    ).run()
    assert not app.exception
    assert len(app.error) == 1 and "notes.png" in app.error[0].value
    # A plain HTML table, the file names as row headers, in a region the keyboard can scroll.
    (table,) = [element.proto.body for element in app.get("html") if 'aria-label="All results"' in element.proto.body]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], flags=re.DOTALL)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.DOTALL) for row in rows]
    assert [row[0] for row in cells] == ["bag.png", "notes.png", "trousers.jpg"]
    assert cells[1][2] == "" and cells[0][2].endswith("%")  # confidence
    assert cells[0][1] == predict(bag_png)["prediction"] == "Bag"
    assert cells[2][1] == predict(trouser_jpeg)["prediction"] == "Trouser"
    assert "not an image" in cells[1][6]
    assert app.get("download_button"), "no CSV download"


def test_upload_helpers_report_errors_per_file(sample):
    good = classify_file("shirt.png", encode(as_photo(sample[0][0])))
    bad = classify_file("empty.png", b"")
    assert good.error is None and good.result == predict(encode(as_photo(sample[0][0])))
    assert good.model_input.shape == (28, 28) and good.thumbnail.width <= 200
    assert bad.result is None and "empty" in bad.error
    table = results_table([good, bad])
    assert list(table["file"]) == ["shirt.png", "empty.png"]
    assert (
        table["unsure"][0]
        == {None: "no", "low_confidence": "yes: low confidence", "unlike_training": "yes: none of the ten"}[good.result["unsure_reason"]]
    )
    csv = table.to_csv(index=False)
    assert csv.splitlines()[0] == "file,prediction,confidence,unsure,second,third,error"
    assert csv.splitlines()[2].startswith("empty.png,,,,,,") and "None" not in csv


def test_feature_maps_shows_every_conv_layer_and_grad_cam(sample, confident_indices):
    images, labels = sample
    index = confident_indices[5]
    expected = predict(images[index])
    app = run_page("app_pages/feature_maps.py", {"maps_sample_index": index})
    assert not app.exception
    assert app.button_group(key="maps_source").value == "Test image"
    assert app.button(key="maps_next")
    assert shows(app, expected)
    pictures = html_bodies(app)
    assert f"Grad-CAM for {expected['prediction']}</strong>" in pictures
    assert re.search(
        rf'alt="Grad-CAM for {re.escape(html.escape(expected["prediction"]))}: it looked most at [a-z ]+ of the image"', pictures
    )
    assert 'alt="The 28x28 image the network sees, enlarged"' in pictures

    conv_names = load_layers().conv_names
    layer_box = app.selectbox(key="maps_layer")
    assert layer_box.options == [
        f"{name}: {maps.shape[-1]} channels, {maps.shape[0]}x{maps.shape[1]} each"
        for name, maps in zip(conv_names, (page_maps(images[index])[name] for name in conv_names))
    ]
    layer_box.set_value(conv_names[-1]).run()
    assert not app.exception
    channels = page_maps(images[index])[conv_names[-1]].shape[-1]
    assert any(f"{channels} channels of" in caption.value for caption in app.caption)
    assert any(markdown.value.startswith("**A late layer.**") for markdown in app.markdown)

    other_class = (labels[index] + 1) % len(CLASS_NAMES)
    assert app.selectbox(key="maps_class").value == "The predicted class"
    app.selectbox(key="maps_class").set_value(CLASS_NAMES[other_class]).run()
    assert not app.exception
    assert f"Grad-CAM for {html.escape(CLASS_NAMES[other_class])}</strong>" in html_bodies(app)


def page_maps(image: np.ndarray) -> dict:
    from cnn.explain import feature_maps

    return feature_maps(preprocess(image))


def test_feature_maps_from_an_upload(sample, confident_indices):
    images, _ = sample
    png = encode(as_photo(images[confident_indices[7]]))
    app = run_page("app_pages/feature_maps.py")
    app.button_group(key="maps_source").set_value("Upload").run()
    assert not app.exception
    assert "Draw an item or upload" in app.info[0].value
    app.file_uploader(key="maps_upload").set_value(("sneaker.png", png, "image/png")).run()
    assert not app.exception
    assert shows(app, predict(png))


def test_feature_maps_from_a_drawing(sample, confident_indices):
    drawing = canvas_rgba(sample[0][confident_indices[1]])
    app = run_page("app_pages/feature_maps.py", {"maps_source": "Drawing"})
    assert not app.exception
    assert "Draw an item or upload" in app.info[0].value  # nothing drawn yet
    app = run_page("app_pages/feature_maps.py", {"maps_source": "Drawing", "maps_canvas": canvas_state(drawing)})
    assert not app.exception
    assert shows(app, predict(canvas_png(drawing), sketch=True))


def test_feature_maps_opens_the_drawing_from_the_draw_page(sample, confident_indices):
    drawing = canvas_png(canvas_rgba(sample[0][confident_indices[8]]))
    app = run_page("app_pages/feature_maps.py", {"maps_source": "Drawing", "draw_last_png": drawing})
    assert not app.exception
    assert shows(app, predict(drawing, sketch=True))
    assert any("from the Draw page" in caption.value for caption in app.caption)


def test_canvas_value_to_png():
    rgba = canvas_rgba(np.full((28, 28), 255, dtype=np.uint8))
    assert png_from_drawing(canvas_state(rgba)["drawing"]) == canvas_png(rgba)
    for empty in (None, {}, {"png": None}, {"png": "data:image/jpeg;base64,AAAA"}, {"png": "data:image/png;base64,%%%"}):
        assert png_from_drawing(empty) is None, empty


def test_training_page_shows_curves_scores_mistakes_and_comparison():
    app = run_page("app_pages/training.py")
    assert not app.exception
    available = list(MODEL_NAMES)  # every model ships in assets/
    assert app.selectbox(key="training_model").options == [loaders.model_label(name) for name in available]
    assert app.toggle(key="training_normalise").value is False
    assert app.selectbox(key="training_mistake_class").value == "All classes"

    per_class, comparison = app.dataframe[0].value, app.dataframe[1].value
    assert list(per_class["class"]) == list(CLASS_NAMES)
    assert list(comparison["model"]) == [loaders.model_label(name) for name in available]
    assert list(comparison["test accuracy"]) == [loaders.load_metrics(name)["test_accuracy"] for name in available]
    robustness = loaders.load_robustness()
    assert (robustness is None) == any("No robustness report" in info.value for info in app.info)
    if robustness is not None:
        target_names = [target["name"] for target in robustness["targets"]]
        assert any(list(frame.value.get("measure", [])) == target_names for frame in app.table)
    benchmark = loaders.load_benchmark()
    if benchmark is not None:
        speed = app.table[-1].value
        assert list(speed["measure"]) == [target["name"] for target in benchmark["targets"]]
    assert_gallery_shows_only_mistakes(app)

    app.toggle(key="training_normalise").set_value(True).run()
    app.selectbox(key="training_mistake_class").set_value("Shirt").run()  # the hardest class
    assert not app.exception
    gallery = assert_gallery_shows_only_mistakes(app)
    assert all(caption.startswith("Shirt → ") for caption in gallery)


def test_training_falls_back_to_the_shipped_sample_without_the_dataset(monkeypatch):
    """Streamlit Community Cloud has no Fashion-MNIST install: the mistakes come from the 300-image sample."""
    import cnn.data

    monkeypatch.setattr(cnn.data, "find_data_dir", lambda: None)
    loaders.load_test_set.clear()
    try:
        app = run_page("app_pages/training.py")
        assert not app.exception
        assert any("the shipped test sample (300 images" in caption.value for caption in app.caption)
        assert_gallery_shows_only_mistakes(app)
    finally:
        loaders.load_test_set.clear()


def assert_gallery_shows_only_mistakes(app: AppTest) -> list[str]:
    """The gallery's captions ('true → predicted (p%)'): all wrong, as many as the page says (at most 24)."""
    gallery = [caption for caption in figure_captions(app) if " → " in caption]
    for caption in gallery:
        true_label, rest = caption.split(" → ")
        assert true_label in CLASS_NAMES and rest.split(" (")[0] in CLASS_NAMES
        assert rest.split(" (")[0] != true_label, caption
    count = next(int(c.value.split(" mistakes")[0].replace(",", "")) for c in app.caption if " mistakes on " in c.value)
    assert len(gallery) == min(24, count)
    return gallery


def test_mistakes_are_wrong_and_most_confident_first():
    labels = np.array([0, 1, 2, 3])
    probabilities = np.array(
        [[0.9, 0.1, 0, 0], [0.7, 0.3, 0, 0], [0, 0.6, 0.4, 0], [0, 0, 0.2, 0.8]], dtype=np.float32
    )  # right, wrong (0.7), wrong (0.6), right
    assert list(misclassified_indices(labels, probabilities)) == [1, 2]
    assert list(misclassified_indices(labels, probabilities, true_class=2)) == [2]


def test_explore_shows_the_prediction_for_its_sample():
    app = run_page("app_pages/explore.py")
    assert not app.exception
    images, labels = loaders.load_sample()
    first = app.session_state["explore_index"]
    expected = predict(images[first])
    assert shows(app, expected)
    assert any(markdown.value == f"**True class:** {CLASS_NAMES[labels[first]]}" for markdown in app.markdown)

    app.button(key="explore_next").click().run()
    assert not app.exception
    second = app.session_state["explore_index"]
    assert app.session_state["explore_seen"] == 2
    assert shows(app, predict(images[second]))


def test_sessions_do_not_share_state():
    first = run_page("app_pages/explore.py")
    first.button(key="explore_next").click().run()
    second = run_page("app_pages/explore.py")
    assert first.session_state["explore_seen"] == 2
    assert second.session_state["explore_seen"] == 1


# ---------------------------------------------------------------------------------------
# Image helpers.


def test_upscale_keeps_pixels_square():
    image = np.array([[0.0, 1.0], [0.5, 0.25]], dtype=np.float32)
    big = upscale(image, 3)
    assert big.shape == (6, 6) and big.dtype == np.uint8
    assert (big[:3, :3] == 0).all() and (big[:3, 3:] == 255).all() and (big[3:, :3] == 128).all()


def test_grad_cam_overlay_colours_only_where_the_heat_is():
    model_input = np.full((28, 28), 0.5, dtype=np.float32)
    heatmap = np.zeros((28, 28), dtype=np.float32)
    heatmap[:14] = 1.0
    overlay = grad_cam_overlay(model_input, heatmap, scale=2)
    assert overlay.shape == (56, 56, 3) and overlay.dtype == np.uint8
    cold, hot = overlay[-1, -1], overlay[0, 0]
    assert cold[0] == cold[1] == cold[2] == 128  # untouched grey
    assert hot[0] > hot[2]  # red end of the ramp


def test_feature_map_grid_lays_out_every_channel():
    maps = np.random.default_rng(0).random((7, 7, 20)).astype(np.float32)
    maps[..., 3] = 0.0  # a silent channel stays dark, without dividing by zero
    grid = feature_map_grid(maps, columns=8, tile=14, gap=2)
    assert grid.shape == (3 * 16 - 2, 8 * 16 - 2, 3)
    silent_tile = grid[0:14, 3 * 16 : 3 * 16 + 14]
    assert (silent_tile == silent_tile[0, 0]).all()


def test_every_page_is_in_the_router_once_with_todays_urls():
    assert [page.url_path for page in PAGES] == ["", "Draw", "Upload", "Feature_maps", "Training", "Playground", "Explore"]
    assert all((PROJECT_DIR / page.file).is_file() for page in PAGES)
    assert sorted(path.name for path in (PROJECT_DIR / "app_pages").glob("*.py")) == sorted(page.file.split("/")[1] for page in PAGES)
    # Streamlit's older multipage mode scans a folder called pages/ and then shows "Page not found" on /Draw.
    assert not (PROJECT_DIR / "pages").exists()


def test_tile_row_and_channel_columns_make_one_picture_each():
    row = tile_row([np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)], tile=56, gap=4)
    assert row.shape == (56, 116, 3) and row.dtype == np.uint8
    assert (row[:, :56] == 0).all() and (row[:, 60:] == 255).all() and (row[:, 56:60] == 255).all()
    maps = [np.random.default_rng(0).random((28, 28, 4)).astype(np.float32), np.zeros((7, 7, 4), np.float32)]
    columns = channel_columns(maps, tile=56, gap=4)
    assert columns.shape == (4 * 60 - 4, 2 * 60 - 4, 3)
    silent = columns[:56, 60:116]
    assert (silent == silent[0, 0]).all()  # a silent channel is one flat colour, without dividing by zero


def test_target_tables_spell_out_their_signs():
    # st.table reads cells as Markdown: a target starting with ">" would show as a quote.
    table = training.targets_table([
        {"name": "doodles, top-1", "measured": 80.0, "target": ">= 75 %", "met": True},
        {"name": "predict() p50", "measured": None, "target": "<= 2 ms", "met": None},
    ])  # fmt: skip
    assert list(table["target"]) == ["≥ 75 %", "≤ 2 ms"]
    assert table["measured"][0] == "80.00%" and table["measured"].isna()[1]
    assert list(table["verdict"]) == ["met", "not measured"]


def test_the_uploader_takes_what_predict_takes():
    import tomllib

    from cnn.config import MAX_UPLOAD_MB

    settings = tomllib.loads((PROJECT_DIR / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["maxUploadSize"] == MAX_UPLOAD_MB


def test_the_upload_page_classifies_each_file_and_box_once(sample, monkeypatch):
    """Every rerun of the Upload page (a dragged box included) asks again for every file: only new (file, box)
    pairs may reach the model."""
    from ui import upload

    calls = []
    real = upload.classify_file
    monkeypatch.setattr(upload, "classify_file", lambda name, data, box=None: calls.append(box) or real(name, data, box=box))
    upload.classified_file.clear()
    data = encode(as_photo(sample[0][5]))
    first = upload.classified_file("coat.png", data, box=None)
    for box in (None, None, (2, 2, 100, 100), (2, 2, 100, 100), None):
        upload.classified_file("coat.png", data, box=box)
    assert calls == [None, (2, 2, 100, 100)]
    assert first.photo_size == (140, 140) and first.photo.size == (140, 140)  # small photos keep their size


def test_charts_say_what_they_show_in_words():
    """A chart's Vega-Lite description is its accessible name: a screen reader reads it instead of the pixels."""
    from ui import training

    history = {"loss": [0.9, 0.4], "val_loss": [0.8, 0.5], "accuracy": [0.7, 0.9], "val_accuracy": [0.72, 0.88]}
    assert training.history_chart(history, "accuracy", 2)["description"] == (
        "Learning curve: Training accuracy from 70.0% after epoch 1 to 90.0% after epoch 2, validation accuracy from "
        "72.0% after epoch 1 to 88.0% after epoch 2; the weights of epoch 2 were kept."
    )
    matrix = np.eye(10, dtype=int) * 90 + 1  # 91 right per class, 1 in every other cell
    assert "1,000 test images" in training.confusion_chart(matrix.tolist(), False)["description"]
    assert "910 on the diagonal" in training.confusion_chart(matrix.tolist(), False)["description"]


def test_the_playground_curves_grow_by_appending_to_an_unchanging_chart():
    """Streamlit adds rows appended to a chart's data without drawing the chart again, while its spec stays the
    same: the live curves come in epoch order beside one spec for the whole run."""
    from types import SimpleNamespace

    from ui import playground

    early = SimpleNamespace(training_curve=[(0.25, 1.2, 0.6), (0.5, 0.9, 0.7)], validation_curve=[(0.5, 0.95, 0.68)])
    later = SimpleNamespace(
        training_curve=[*early.training_curve, (0.75, 0.7, 0.75)], validation_curve=[*early.validation_curve, (1.0, 0.6, 0.8)]
    )
    before, after = playground.curve_points(early, "accuracy"), playground.curve_points(later, "accuracy")
    assert after[: len(before)] == before  # an append
    assert [point["epoch"] for point in after] == sorted(point["epoch"] for point in after)
    assert {"epoch": 1.0, "value": 0.8, "split": "validation"} in after
    assert playground.curve_points(later, "loss")[-1]["value"] == 0.6
    assert "data" not in playground.curve_chart("accuracy") and "accuracy" in playground.curve_chart("accuracy")["description"].lower()
