"""Every page's skeleton, and the one list of pages the router and the Home page read."""

from dataclasses import dataclass

import streamlit as st

APP_TITLE = "Fashion-MNIST CNN"
APP_ICON = ":material/checkroom:"


@dataclass(frozen=True)
class Page:
    file: str  # the page's script, relative to streamlit_app.py
    title: str
    icon: str  # a Material icon
    url_path: str  # the page's URL, /<url_path>; "" for Home
    purpose: str  # one line for the Home page's links


HOME = Page("app_pages/home.py", "Home", ":material/home:", "", "What this app is, and the model card.")
PAGES = (
    HOME,
    Page("app_pages/draw.py", "Draw", ":material/draw:", "Draw", "Sketch a clothing item and watch the network think as you draw."),
    Page("app_pages/upload.py", "Upload", ":material/upload:", "Upload", "Classify your own photos, mark the item on a busy one, download a CSV."),
    Page("app_pages/feature_maps.py", "Feature maps", ":material/grid_view:", "Feature_maps", "See what every conv layer responds to, and where the network looks."),
    Page("app_pages/training.py", "Training", ":material/monitoring:", "Training", "Learning curves, confusion matrix, mistakes, baselines, drawings and speed."),
    Page("app_pages/playground.py", "Playground", ":material/science:", "Playground", "Change the network, train it live, then draw against it."),
    Page("app_pages/explore.py", "Explore", ":material/shuffle:", "Explore", "One click, one random test image: is the network right?"),
)  # fmt: skip

# Almost every image here is a few dozen pixels enlarged: keep its pixels square even when the browser
# rescales it. Photos (shown inside a container whose key starts with "photo") are smoothed as usual.
PAGE_STYLE = """<style>
[data-testid="stImage"] img { image-rendering: pixelated; }
[class*="st-key-photo"] [data-testid="stImage"] img { image-rendering: auto; }
</style>"""


def page_by_file(file: str) -> Page:
    return next(page for page in PAGES if page.file == file)


def page_header(file: str, intro: str) -> None:
    """The same top for every page: its title and icon from PAGES, one short intro."""
    page = page_by_file(file)
    st.html(PAGE_STYLE)
    st.title(f"{APP_ICON} {APP_TITLE}" if page is HOME else f"{page.icon} {page.title}")
    st.markdown(intro)


def stop_with_error(message: str) -> None:
    st.error(message, icon=":material/error:")
    st.stop()
