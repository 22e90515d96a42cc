"""A drawing canvas for the Draw and Feature maps pages that reports as soon as the pen lifts.

streamlit-drawable-canvas 0.13 waits a fixed delay after every mouse-up before it sends the
drawing (a constant in its JavaScript bundle, not an option): most of the time from stroke to
prediction measured with it. This is a plain <canvas> with pointer events, undo and
clear, as a Streamlit Components v2 component with inline JavaScript: no build step, no Fabric.js.
It sends the drawing as a PNG data URL, which is what cnn.predict() takes.
"""

import base64
import binascii
from pathlib import Path

import streamlit as st

from cnn.config import CANVAS_SIZE

FOLDER = Path(__file__).resolve().parent
PNG_DATA_URL_PREFIX = "data:image/png;base64,"

_mount = st.components.v2.component(
    "fashion_mnist_cnn.sketch_canvas",
    html='<div class="sketch-root"></div>',
    css=(FOLDER / "canvas.css").read_text(),
    js=(FOLDER / "canvas.js").read_text(),
)


def sketch_canvas(key: str, pen_width: int = 16, size: int = CANVAS_SIZE) -> bytes | None:
    """Show the canvas; return the drawing as PNG bytes (white on black, size x size), or None while it is empty."""
    state = _mount(
        key=key,
        data={"size": size, "penWidth": pen_width},
        default={"drawing": None},
        on_drawing_change=lambda: None,  # a state the script reads: each change reruns it
        width="stretch",  # the column's width: on a phone the canvas fills it (canvas.css)
        height="content",
    )
    return png_from_drawing(state.get("drawing"))


def png_from_drawing(drawing: dict | None) -> bytes | None:
    """The PNG bytes in the component's value {"png": data URL, "strokes": count}; None when there are none."""
    data_url = (drawing or {}).get("png")
    if not isinstance(data_url, str) or not data_url.startswith(PNG_DATA_URL_PREFIX):
        return None
    try:
        return base64.b64decode(data_url[len(PNG_DATA_URL_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return None  # not a drawing this canvas sent: treat the canvas as empty
