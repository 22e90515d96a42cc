"""Mark the item on a photo: a streamlit-drawable-canvas with the photo behind it, where the user drags a box.

The photo is shown scaled to fit ("contain"); the canvas maps the box back to the shown image's pixels,
and this maps it on to the original photo's. The last box drawn counts; none (or all deleted) means
the whole photo.
"""

from PIL import Image
from streamlit_drawable_canvas import st_canvas

CANVAS_WIDTH = 480  # CSS pixels: fits beside the results on a desktop and across a phone
MIN_SHOWN_SIDE = 8  # pixels: a photo smaller than this cannot be marked (a 1x1 image, a thin strip)
BOX_COLOUR = "#E4572E"


def mark_item(photo: Image.Image, key: str) -> tuple[float, float, float, float] | None:
    """Show the photo on a canvas; return the box (left, top, width, height) in the photo's pixels, or None."""
    scale = min(1.0, CANVAS_WIDTH / photo.width)
    shown = photo.convert("RGB").resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))))
    if min(shown.size) < MIN_SHOWN_SIDE:
        raise ValueError(f"This photo is too small to mark ({photo.width}x{photo.height} pixels); it is classified whole.")
    result = st_canvas(
        background_image=shown,
        background_image_fit="contain",
        drawing_mode="labeled_rect",
        label="",
        fill_color="rgba(228, 87, 46, 0.12)",
        stroke_color=BOX_COLOUR,
        stroke_width=3,
        width=shown.width,
        height=shown.height,
        update_streamlit=True,
        key=key,
    )
    boxes = result.boxes_in_image_space or []
    if not boxes:
        return None
    box = boxes[-1]
    to_photo = photo.width / shown.width  # the canvas's image space is the shown image's
    return (box["left"] * to_photo, box["top"] * to_photo, box["width"] * to_photo, box["height"] * to_photo)
