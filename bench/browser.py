"""The one set of browser helpers the app benchmark and the end-to-end tests share: Debian's Chromium
driven by Playwright, the DOM the pages agree on, and drawing on the canvas with the mouse or a finger."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
DESKTOP = {"width": 1400, "height": 1100}
PHONE = {"width": 390, "height": 844}

# The DOM the Streamlit pages agree on (see the Draw page): a page has rendered when Streamlit
# reports its script run finished; the Draw page's canvas is the sketch canvas component's
# <canvas> (Playwright's CSS selectors reach into its shadow root), and its answer sits in
# st.container(key="prediction").
SCRIPT_FINISHED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CANVAS = "canvas.sketch-canvas"
PREDICTION = ".st-key-prediction"
EXCEPTION = '[data-testid="stException"]'

# Closed outlines in canvas fractions, each drawn as one stroke.
TROUSERS = [(0.3, 0.15), (0.7, 0.15), (0.72, 0.85), (0.55, 0.85), (0.5, 0.4), (0.45, 0.85), (0.28, 0.85), (0.3, 0.15)]
BAG = [(0.2, 0.4), (0.8, 0.4), (0.8, 0.85), (0.2, 0.85), (0.2, 0.4), (0.35, 0.4), (0.4, 0.2), (0.6, 0.2), (0.65, 0.4)]
T_SHIRT = [
    (0.35, 0.15), (0.65, 0.15), (0.9, 0.35), (0.8, 0.45), (0.7, 0.4), (0.7, 0.85),
    (0.3, 0.85), (0.3, 0.4), (0.2, 0.45), (0.1, 0.35), (0.35, 0.15),
]  # fmt: skip
SHOE = [(0.15, 0.3), (0.3, 0.3), (0.35, 0.55), (0.85, 0.6), (0.88, 0.75), (0.15, 0.75), (0.15, 0.3)]
STROKES = (TROUSERS, BAG, T_SHIRT, SHOE)


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Playwright's Browser), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def canvas_points(page, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Canvas fractions -> page coordinates of the canvas on screen."""
    return on_box(page.locator(CANVAS).bounding_box(), points)


def on_box(box: dict, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Fractions of a bounding box (Playwright's {x, y, width, height}) -> page coordinates."""
    return [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]


def draw_stroke(page, points: list[tuple[float, float]]) -> None:
    """Draw one stroke through points (canvas fractions) with the mouse and release it."""
    xy = canvas_points(page, points)
    page.mouse.move(*xy[0])
    page.mouse.down()
    for point in xy[1:]:
        page.mouse.move(*point, steps=6)  # a stroke is the pointer moves in between
    page.mouse.up()


def touch_stroke(page, points: list[tuple[float, float]], steps: int = 6) -> None:
    """Draw one stroke as a finger would: real touch events through the DevTools protocol, which the
    browser turns into touch pointer events as a phone's does (the tab needs has_touch)."""
    xy = canvas_points(page, points)
    dense = []
    for (x0, y0), (x1, y1) in zip(xy, xy[1:]):
        dense += [(x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps) for step in range(steps)]
    dense.append(xy[-1])
    session = page.context.new_cdp_session(page)
    try:
        session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": dense[0][0], "y": dense[0][1]}]})
        for x, y in dense[1:]:
            session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        session.detach()


# ---------------------------------------------------------------------------------------
# Accessibility: axe-core (Deque's engine behind Lighthouse's audit), vendored from npm with its licence.

AXE_SCRIPT = Path(__file__).resolve().parent.parent / "tests" / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices (heading order, landmarks, regions).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SERIOUS = ("serious", "critical")


def axe_violations(page, impacts: tuple[str, ...] = ("moderate", *SERIOUS)) -> list[dict]:
    """axe-core's findings on the page as it is now, of the given impacts: [{id, impact, help, targets}].
    Component iframes (the drawing canvases) are left out: they are their libraries' own documents."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, iframes: false, resultTypes: ['violations']})", AXE_TAGS
    )
    return [
        {"id": rule["id"], "impact": rule["impact"], "help": rule["help"], "targets": [node["target"] for node in rule["nodes"]][:5],
         "count": len(rule["nodes"])}
        for rule in results["violations"]
        if rule["impact"] in impacts
    ]  # fmt: skip
