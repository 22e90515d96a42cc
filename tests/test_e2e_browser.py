"""End to end in a real browser: `streamlit run streamlit_app.py` driven by Debian's Chromium through Playwright.

Draws on the canvas with the mouse and with a finger on a phone-sized screen, uploads files through
the file input, and walks every page through the sidebar, failing on any Streamlit exception box.
Screenshots of the Draw page on a desktop and on a phone go to test-artifacts/ (the ones in
docs/screenshots/ come from there), and one of the page whenever a test fails. Skipped only where
/usr/bin/chromium is missing (CI installs it).
"""

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.browser import (
    CANVAS,
    CHROMIUM,
    DESKTOP,
    EXCEPTION,
    PHONE,
    PREDICTION,
    SCRIPT_FINISHED,
    T_SHIRT,
    TROUSERS,
    axe_violations,
    chromium,
    draw_stroke,
    touch_stroke,
)
from bench.drawn_doodles import CATEGORIES
from bench.robustness import render_worn_with_box
from bench.servers import running_streamlit
from cnn.config import CLASS_NAMES, PROJECT_DIR
from cnn.predict import predict
from tests.helpers import as_photo, encode

ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts"
PAGE_TIMEOUT_MS = 120_000  # the first page that loads the model, or classifies the test set, is slow on a busy machine

INSIGHTS = ".st-key-insights"
# (sidebar label, page title, text near the end of the page) for every page.
PAGES = (
    ("Home", "Fashion-MNIST CNN", "Reproduce:"),
    ("Draw", "Draw", "prediction appears here"),
    ("Upload", "Upload", "Choose or drop one or more images"),
    ("Feature maps", "Feature maps", "channels stay silent for this image"),
    ("Training", "Training", "Speed and memory"),
    ("Playground", "Playground", "Data augmentation"),
    ("Explore", "Explore", "your session only"),
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def app_url():
    """The app served by `streamlit run` on a free loopback port, stopped after the module's tests."""
    with running_streamlit() as (url, *_):
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    """A fresh browser tab: a fresh Streamlit session."""
    tab = browser.new_page(viewport=DESKTOP)
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    yield tab
    tab.close()


@pytest.fixture
def phone(browser):
    """A fresh tab the size of a phone, that takes touch."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)
    tab = context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    yield tab
    context.close()


def save_screenshot(tab, name: str) -> None:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    with contextlib.suppress(Exception):  # a dead page must not hide the real failure
        tab.screenshot(path=ARTIFACTS_DIR / f"{name}.png", full_page=True)


@contextlib.contextmanager
def screenshot_on_failure(tab, name: str):
    """Save test-artifacts/<name>.png if the block fails."""
    try:
        yield
    except BaseException:
        save_screenshot(tab, name)
        raise


def open_page(tab, url: str, title: str, last_text: str) -> None:
    tab.goto(url)
    wait_for_page(tab, title, last_text)


def wait_for_page(tab, title: str, last_text: str) -> None:
    """The page's title and a text near its end are shown, its script run has finished, no exception box,
    and axe-core finds nothing moderate, serious or critical."""
    tab.locator("h1", has_text=title).first.wait_for()
    tab.get_by_text(last_text).first.wait_for()
    tab.wait_for_selector(SCRIPT_FINISHED)
    assert_no_exception(tab)
    assert_accessible(tab)


def assert_no_exception(tab) -> None:
    boxes = tab.locator(EXCEPTION)
    assert boxes.count() == 0, f"Streamlit exception on {tab.url}:\n{boxes.first.inner_text()}"


def assert_sound(tab) -> None:
    """After an interaction: no exception box and nothing for axe-core to find."""
    assert_no_exception(tab)
    assert_accessible(tab)


def assert_accessible(tab) -> None:
    """WCAG 2.1 A and AA and axe's best practices: no finding of moderate impact or worse (bench/browser.py)."""
    findings = axe_violations(tab)
    assert not findings, f"axe-core on {tab.url}:\n" + "\n".join(
        f"{f['impact']} {f['id']} x{f['count']}: {f['help']} {f['targets']}" for f in findings
    )


def test_every_page_through_the_sidebar(app_url, page):
    with screenshot_on_failure(page, "every_page"):
        open_page(page, app_url, *PAGES[0][1:])
        for label, title, last_text in PAGES:
            page.locator('[data-testid="stSidebar"] a', has_text=label).first.click()
            wait_for_page(page, title, last_text)
        # Explore's one-click flow: Next shows another image, still without an exception.
        page.get_by_text("of 1 right").wait_for()
        page.get_by_role("button", name="Next").click()
        page.get_by_text("of 2 right").wait_for()
        assert_sound(page)


def test_draw_a_shape_and_see_a_prediction(app_url, page):
    with screenshot_on_failure(page, "draw"):
        open_page(page, f"{app_url}/Draw", *PAGES[1][1:])
        prediction = page.locator(PREDICTION)
        prediction.get_by_text("prediction appears here").wait_for()
        page.locator(CANVAS).wait_for()
        draw_stroke(page, T_SHIRT)
        page.wait_for_function(
            "([selector, labels]) => { const text = document.querySelector(selector)?.innerText ?? '';"
            " return text.includes('sure') && labels.some((label) => text.includes(label)); }",
            arg=[PREDICTION, list(CLASS_NAMES)],
        )
        prediction.get_by_text("What the network sees").wait_for()  # the 28x28 model input
        insights = page.locator(INSIGHTS)
        insights.get_by_text("Grad-CAM for").first.wait_for()
        insights.get_by_text("conv6 7x7x128", exact=False).wait_for()  # every conv layer's tiles
        insights.get_by_text("Looks most like").wait_for()
        page.wait_for_selector(SCRIPT_FINISHED)
        assert_sound(page)
        page.set_viewport_size({"width": DESKTOP["width"], "height": 2000})  # the whole page in one picture
        page.wait_for_timeout(500)
        save_screenshot(page, "draw-desktop")
        page.set_viewport_size(DESKTOP)
        # Undo takes the only stroke away, like Clear: the hint comes back.
        page.get_by_role("button", name="Undo", exact=True).click()
        prediction.get_by_text("prediction appears here").wait_for()
        assert_sound(page)


# Bright pixels on the canvas, counted in the page: what the user sees drawn.
COUNT_INK = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0;
    for (let i = 0; i < pixels.length; i += 4) ink += pixels[i] > 128;
    return ink;
}"""


def test_draw_with_a_finger_on_a_phone(app_url, phone):
    with screenshot_on_failure(phone, "draw_phone"):
        open_page(phone, f"{app_url}/Draw", *PAGES[1][1:])
        phone.locator(CANVAS).scroll_into_view_if_needed()
        touch_stroke(phone, TROUSERS)
        prediction = phone.locator(PREDICTION)
        prediction.get_by_text("What the network sees").wait_for()
        phone.locator(INSIGHTS).get_by_text("conv6 7x7x128", exact=False).wait_for()
        phone.wait_for_selector(SCRIPT_FINISHED)
        assert_sound(phone)
        # On a phone the columns stack: the answer comes below the canvas, the views below the answer.
        canvas_box, answer_box = phone.locator(CANVAS).bounding_box(), prediction.bounding_box()
        insights_box = phone.locator(INSIGHTS).bounding_box()
        assert canvas_box["y"] < answer_box["y"] < insights_box["y"]
        assert answer_box["x"] + answer_box["width"] <= PHONE["width"] + 1  # nothing wider than the screen
        assert canvas_box["width"] >= 0.85 * PHONE["width"]  # the canvas fills the screen's width, for a finger
        settings_box = phone.locator('[data-testid="stSlider"]').first.bounding_box()
        assert canvas_box["y"] < settings_box["y"]  # the canvas first, the settings below it
        save_screenshot(phone, "draw-phone")
        prediction.scroll_into_view_if_needed()  # the answer, then the views below it
        save_screenshot(phone, "draw-phone-answer")


def scaled(points) -> list[tuple[float, float]]:
    """A benchmark template's 0..100 grid -> canvas fractions, with a margin."""
    return [(0.08 + 0.84 * x / 100, 0.08 + 0.84 * y / 100) for x, y in points]


def test_pants_drawn_stroke_by_stroke_as_people_draw_them(app_url, page):
    pants = next(category for category in CATEGORIES if category.name == "pants")
    with screenshot_on_failure(page, "draw_pants"):
        open_page(page, f"{app_url}/Draw", *PAGES[1][1:])
        for stroke in pants.styles[1]:  # a waistband, then both legs in one stroke
            draw_stroke(page, scaled(stroke))
            page.wait_for_selector(SCRIPT_FINISHED)
        page.locator(PREDICTION).get_by_role("heading").filter(has_text="Trouser").wait_for()
        assert_sound(page)


def test_the_drawing_survives_reruns_and_ctrl_z_undoes_a_stroke(app_url, page):
    with screenshot_on_failure(page, "draw_undo"):
        open_page(page, f"{app_url}/Draw", *PAGES[1][1:])
        canvas = page.locator(CANVAS)
        draw_stroke(page, T_SHIRT)
        page.locator(PREDICTION).get_by_text("What the network sees").wait_for()
        one_stroke = canvas.evaluate(COUNT_INK)
        assert one_stroke > 1000
        page.get_by_role("slider").first.focus()  # a wider pen: the page reruns, the canvas keeps its drawing
        page.keyboard.press("ArrowRight")
        page.locator('[data-testid="stSlider"]').get_by_text("18", exact=True).wait_for()
        page.wait_for_selector(SCRIPT_FINISHED)
        assert canvas.evaluate(COUNT_INK) == one_stroke
        canvas.scroll_into_view_if_needed()  # the settings sit below the canvas: focusing the slider scrolled it away
        draw_stroke(page, [(0.1, 0.95), (0.9, 0.95)])
        page.wait_for_function(f"(canvas) => ({COUNT_INK})(canvas) > {one_stroke}", arg=canvas.element_handle())
        canvas.focus()
        page.keyboard.press("Control+z")
        assert canvas.evaluate(COUNT_INK) == one_stroke
        assert_sound(page)


def test_feature_maps_of_a_drawing(app_url, page):
    with screenshot_on_failure(page, "feature_maps_drawing"):
        open_page(page, f"{app_url}/Feature_maps", *PAGES[3][1:])
        page.locator('[data-testid="stButtonGroup"]').get_by_text("Drawing", exact=True).click()
        page.get_by_text("Draw an item or upload").wait_for()
        page.locator(CANVAS).wait_for()
        page.wait_for_selector(SCRIPT_FINISHED)
        draw_stroke(page, TROUSERS)
        page.get_by_text("Grad-CAM for").first.wait_for()
        page.get_by_text("channels stay silent for this image").wait_for()  # the layer grid, the page's end
        assert_sound(page)
        page.set_viewport_size({"width": DESKTOP["width"], "height": 1800})  # Grad-CAM and the maps in one picture
        page.wait_for_timeout(500)
        save_screenshot(page, "feature-maps-desktop")
        page.set_viewport_size(DESKTOP)
        page.get_by_role("button", name="Clear", exact=True).click()
        page.get_by_text("Draw an item or upload").wait_for()
        assert_sound(page)


@pytest.fixture(scope="module")
def bag_photo(sample) -> bytes:
    """A test-sample bag the model gets right most confidently, as a 140x140 dark-on-white PNG."""
    images, labels = sample
    photos = [encode(as_photo(images[index])) for index in np.flatnonzero(labels == CLASS_NAMES.index("Bag"))]
    return max(photos, key=lambda photo: predict(photo)["probabilities"]["Bag"])


def test_upload_an_image_and_see_its_label(app_url, page, bag_photo, tmp_path):
    good, bad = tmp_path / "my-bag.png", tmp_path / "broken.png"
    good.write_bytes(bag_photo)
    bad.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing else")
    with screenshot_on_failure(page, "upload"):
        open_page(page, f"{app_url}/Upload", *PAGES[2][1:])
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([good, bad])
        page.get_by_role("heading", name="Bag", exact=True).wait_for()
        page.locator('[data-testid="stAlert"]', has_text="broken.png").wait_for()
        page.locator("figure", has_text="my-bag.png").locator('img[alt*="my-bag.png"]').first.wait_for()  # the thumbnail, captioned
        page.get_by_role("button", name="Download the results (CSV)").wait_for()  # the last element: the run is done
        assert_sound(page)


@pytest.fixture(scope="module")
def worn_dress(sample) -> tuple[bytes, tuple[int, int, int, int], int]:
    """A dress worn by a figure in a scene (bench.robustness's worn render) that the box makes a Dress: (PNG, box, width)."""
    images, labels = sample
    for index in np.flatnonzero(labels == CLASS_NAMES.index("Dress")):
        photo, box = render_worn_with_box(images[index], np.random.default_rng(int(index)))
        boxed = predict(photo, box=box)
        if boxed["prediction"] == "Dress" and not boxed["unsure"] and predict(photo)["prediction"] != "Dress":
            return photo, box, Image.open(io.BytesIO(photo)).width
    pytest.fail("no sample dress needs its box: the renders or the cut-out changed")


def test_mark_a_worn_dress_with_a_box_and_see_dress(app_url, page, worn_dress, tmp_path):
    photo, box, width = worn_dress
    suffix = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[Image.open(io.BytesIO(photo)).format]
    path = tmp_path / f"worn-dress.{suffix}"
    path.write_bytes(photo)
    with screenshot_on_failure(page, "mark_item"):
        open_page(page, f"{app_url}/Upload", *PAGES[2][1:])
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([path])
        page.get_by_role("button", name="Download the results (CSV)").wait_for()
        page.locator(".st-key-upload_mark_choice").click()
        page.get_by_role("option", name=path.name).click()
        canvas = page.locator("canvas.dc-canvas.upper-canvas")  # Fabric.js's drawing layer, over the photo
        canvas.wait_for()
        page.wait_for_timeout(1000)  # the photo behind it is still loading
        frame_box = canvas.bounding_box()
        scale = frame_box["width"] / width  # the photo is shown scaled to the canvas's width
        left, top = frame_box["x"] + box[0] * scale, frame_box["y"] + box[1] * scale
        page.mouse.move(left, top)
        page.mouse.down()
        page.mouse.move(left + box[2] * scale, top + box[3] * scale, steps=10)
        page.mouse.up()
        page.get_by_text("Classified inside your box").wait_for()
        page.get_by_role("heading", name="Dress", exact=True).wait_for()
        page.wait_for_selector(SCRIPT_FINISHED)
        assert_sound(page)
        save_screenshot(page, "upload-mark-item")


@pytest.fixture(scope="module")
def worn_top(sample) -> bytes:
    """A garment worn by a figure (bench.robustness's worn render) that the app finds and classifies right without a box."""
    images, labels = sample
    for index in np.flatnonzero(np.isin(labels, [CLASS_NAMES.index(name) for name in ("T-shirt/top", "Pullover", "Coat")])):
        photo, _ = render_worn_with_box(images[index], np.random.default_rng(int(index)))
        result = predict(photo)
        if result["garment_box"] is not None and result["class_id"] == labels[index] and not result["unsure"]:
            return photo
    pytest.fail("no sample top is found on its wearer: the renders or the garment finder changed")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_worn_garment_gets_a_suggested_box(app_url, browser, worn_top, tmp_path, viewport):
    suffix = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[Image.open(io.BytesIO(worn_top)).format]
    path = tmp_path / f"worn-top.{suffix}"
    path.write_bytes(worn_top)
    if viewport == "phone":
        context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)
    else:
        context = browser.new_context(viewport=DESKTOP)
    tab = context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    with screenshot_on_failure(tab, f"suggested_box_{viewport}"):
        open_page(tab, f"{app_url}/Upload", *PAGES[2][1:])
        tab.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([path])
        tab.get_by_role("button", name="Download the results (CSV)").wait_for()
        tab.get_by_text("This photo shows a person").wait_for()  # the photo is chosen to mark, its box drawn
        tab.get_by_text("A person wearing it: classified on the garment").wait_for()
        tab.locator("canvas.dc-canvas.upper-canvas").wait_for()
        tab.wait_for_timeout(1500)  # the photo behind the canvas
        tab.wait_for_selector(SCRIPT_FINISHED)
        assert "Classified inside your box" not in tab.locator('[data-testid="stMain"]').inner_text()  # the suggestion stands
        assert_sound(tab)
        tab.locator("canvas.dc-canvas.upper-canvas").scroll_into_view_if_needed()
        save_screenshot(tab, f"upload-suggested-box-{viewport}")
    context.close()


def test_feature_maps_of_a_test_image_on_a_phone(app_url, phone):
    with screenshot_on_failure(phone, "feature_maps_phone"):
        open_page(phone, f"{app_url}/Feature_maps", *PAGES[3][1:])
        phone.get_by_text("Grad-CAM for").first.scroll_into_view_if_needed()
        assert_sound(phone)
        save_screenshot(phone, "feature-maps-phone")


def test_playground_train_stop_train_again_and_draw_with_it(app_url, page):
    """The issue's path: a preset, Train, Stop, Train again to the end, then the Draw page on the trained network."""
    with screenshot_on_failure(page, "playground"):
        open_page(page, f"{app_url}/Playground", "Playground", "Data augmentation")
        page.get_by_role("radio", name="The seeds' CNN").click()
        page.get_by_text("The tutorial network this project started from").wait_for()
        page.get_by_role("radio", name="Tiny CNN").click()
        page.get_by_text("passes 85% within a few epochs").wait_for()
        train = page.get_by_role("button", name="Train", exact=True)
        train.click()
        page.get_by_text(re.compile(r"Epoch \d+ of 5")).first.wait_for()
        page.get_by_text(re.compile(r"Validation accuracy: \d+\.\d%")).first.wait_for()
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("Stopped: the network keeps what it learnt so far.").wait_for()
        page.get_by_text("Your network").wait_for()
        page.wait_for_selector(SCRIPT_FINISHED)
        assert_sound(page)

        train.click()
        page.get_by_text(re.compile(r"Validation accuracy: \d+\.\d%")).first.wait_for()
        page.get_by_text("Epoch 5 of 5").first.wait_for()
        page.get_by_text("Beside the shipped models").wait_for()
        expect_no_stop = page.get_by_role("button", name="Stop")
        expect_no_stop.wait_for(state="detached")
        page.wait_for_selector(SCRIPT_FINISHED)
        assert "Stopped" not in page.locator('[data-testid="stMain"]').inner_text()
        assert_sound(page)
        page.set_viewport_size({"width": DESKTOP["width"], "height": 2400})
        page.wait_for_timeout(500)
        save_screenshot(page, "playground-desktop")
        page.set_viewport_size(DESKTOP)

        page.get_by_text("Use my network on the Draw and Feature maps pages").click()
        page.wait_for_selector(SCRIPT_FINISHED)
        page.get_by_role("link", name="Draw against it").click()
        page.get_by_text("Answering with your Playground network").wait_for()
        page.locator(CANVAS).wait_for()
        draw_stroke(page, TROUSERS)
        page.locator(INSIGHTS).get_by_text("Your Playground network").wait_for()  # its answer beside the shipped models'
        page.locator(INSIGHTS).get_by_text("conv2 14x14x16", exact=False).wait_for()  # its own layers
        page.wait_for_selector(SCRIPT_FINISHED)
        assert_sound(page)


def test_playground_on_a_phone(app_url, phone):
    """The MLP preset (seconds to train) on a phone: the knobs, the live view and the results fit and stay sound."""
    with screenshot_on_failure(phone, "playground_phone"):
        open_page(phone, f"{app_url}/Playground", "Playground", "Data augmentation")
        phone.get_by_role("radio", name="No convolutions (MLP)").click()
        phone.get_by_text("no convolutions: every pixel into a dense layer", exact=False).first.wait_for()
        phone.get_by_role("button", name="Train", exact=True).click()
        phone.get_by_text(re.compile(r"Validation accuracy: \d+\.\d%")).first.wait_for()
        phone.get_by_text("Beside the shipped models").wait_for()
        phone.wait_for_selector(SCRIPT_FINISHED)
        assert_sound(phone)
        phone.get_by_text("Your network").scroll_into_view_if_needed()
        save_screenshot(phone, "playground-phone")


def test_the_flask_page_classifies_an_upload_under_its_content_security_policy(browser, bag_photo, tmp_path):
    """The demo page of `flask --app cnn.server run`: its own script runs under the policy (no violations),
    the controls are disabled while a request runs, and an upload gets its answer."""
    from bench.servers import running_flask

    photo_path = tmp_path / "bag.jfif"  # a JPEG as Windows browsers save one
    photo_path.write_bytes(encode(Image.open(io.BytesIO(bag_photo)).convert("RGB"), "JPEG", quality=95))
    with running_flask() as (url, *_):
        tab = browser.new_page(viewport=DESKTOP)
        violations: list[str] = []
        tab.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
        try:
            with screenshot_on_failure(tab, "flask_page"):
                tab.goto(url)
                tab.locator("#model-stats dt").first.wait_for()  # the model card, drawn by the page's script
                tab.set_input_files("#file-input", str(photo_path))
                tab.locator("#label").filter(has_text="Bag").wait_for()
                assert tab.locator("#file-input").is_enabled() and tab.locator("#top-k").is_enabled()
                tab.locator("#sample-button").click()
                tab.locator("#truth").wait_for()
                assert not violations, violations
        finally:
            tab.close()
