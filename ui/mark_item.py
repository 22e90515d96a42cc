"""Mark the item on a photo: a streamlit-drawable-canvas with the photo behind it, where the user drags a box.

Every photo is shown at the canvas's width, scaled up if it is small (a 190-pixel photo is too small to drag
a box on, above all on a phone), and no taller than MAX_CANVAS_HEIGHT; the canvas maps the box back to the
shown image's pixels, and this maps it on to the photo's. The last box drawn counts; none (or all deleted)
means the whole photo.
"""

from PIL import Image

CANVAS_WIDTH = 300  # CSS pixels: the canvas has a fixed width, and this one fits a 390-pixel phone inside the bordered box
MAX_CANVAS_HEIGHT = 480  # CSS pixels: a tall photo is shown narrower, so the canvas fits on a screen
MIN_SHOWN_SIDE = 8  # pixels: a photo smaller than this cannot be marked (a 1x1 image, a thin strip)
BOX_COLOUR = "#E4572E"
BOX_FILL = "rgba(228, 87, 46, 0.12)"


def mark_item(
    photo: Image.Image, key: str, photo_size: tuple[int, int] | None = None, suggested_box=None
) -> tuple[float, float, float, float] | None:
    """Show the photo on a canvas; return the box (left, top, width, height) in the pixels of a photo of
    photo_size (the size `photo` was shrunk from, if it was; default its own), or None. suggested_box, in
    the same pixels, is drawn to start with: the user moves or resizes it with the canvas's edit toggle."""
    # Imported here: the component registers itself with Streamlit's runtime on import, and ui.upload takes
    # this module's colours where there is none (the tests).
    from streamlit_drawable_canvas import boxes_to_drawing, st_canvas

    width, height = photo_size or photo.size
    if min(width, height) < MIN_SHOWN_SIDE:
        raise ValueError(f"This photo is too small to mark ({width}x{height} pixels); it is classified whole.")
    scale = min(CANVAS_WIDTH / photo.width, MAX_CANVAS_HEIGHT / photo.height)
    shown = photo.convert("RGB").resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))), Image.Resampling.LANCZOS)
    to_photo = width / shown.width  # the canvas's image space is the shown image's
    initial = None
    if suggested_box is not None:
        left, top, box_width, box_height = (value / to_photo for value in suggested_box)
        initial = boxes_to_drawing([{"label": "", "left": left, "top": top, "width": box_width, "height": box_height}],
                                   stroke_color=BOX_COLOUR, fill_color=BOX_FILL)  # fmt: skip
    result = st_canvas(
        background_image=shown,
        background_image_fit="contain",
        drawing_mode="labeled_rect",
        label="",
        fill_color=BOX_FILL,
        initial_drawing=initial,
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
    return (box["left"] * to_photo, box["top"] * to_photo, box["width"] * to_photo, box["height"] * to_photo)
