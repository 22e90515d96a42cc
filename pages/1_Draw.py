"""Draw: sketch a clothing item and watch the network's answer change with every stroke."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

import app_ui
from cnn.predict import InvalidImageError

CANVAS_SIZE = 280
INPUT_SCALE = 8  # the 28x28 model input shown 224x224

app_ui.page_header(
    "Draw",
    ":material/draw:",
    "Draw a T-shirt, trousers, a bag, a shoe... with the mouse (or a finger). After every stroke the network "
    "guesses again. On the right you see its answer and the 28x28 image it actually receives: your drawing "
    "trimmed to the item, shrunk, centred and its lines evened out, like the training photos were prepared.",
)
app_ui.require_model()

st.session_state.setdefault("draw_canvas_version", 0)


def clear_canvas() -> None:
    # A new key gives a fresh, empty canvas component.
    st.session_state["draw_canvas_version"] += 1


canvas_column, result_column = st.columns([1, 1], gap="large")

with canvas_column:
    pen_width = st.slider("Pen width", min_value=4, max_value=40, value=16, step=2, key="draw_pen_width")
    canvas = st_canvas(
        stroke_width=pen_width,
        stroke_color="#FFFFFF",
        background_color="#000000",  # white on black, like the images the network learnt from
        width=CANVAS_SIZE,
        height=CANVAS_SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"draw_canvas_{st.session_state['draw_canvas_version']}",
    )
    st.button("Clear the canvas", key="draw_clear", icon=":material/delete:", on_click=clear_canvas)
    st.caption(
        "Undo, redo and reset are also in the canvas toolbar (hover over the canvas). "
        "**Tips:** draw the item large and from the front, as in a catalogue photo; close its outline; "
        "filling it in helps for solid items such as bags and boots."
    )

with result_column:
    show_all = st.toggle("Show all 10 classes", key="draw_show_all")
    with st.container(key="prediction"):
        drawn_objects = (canvas.json_data or {}).get("objects", [])
        if not drawn_objects or canvas.image_data is None:
            st.info("Draw a clothing item on the black canvas: the prediction appears here.", icon=":material/draw:")
            st.stop()
        try:
            result, model_input = app_ui.classify_drawing(canvas.image_data)
        except InvalidImageError as error:
            if app_ui.is_nothing_drawn(error):
                st.info("The canvas is empty: draw a clothing item to get a prediction.", icon=":material/draw:")
            else:
                st.error(str(error))
            st.stop()
        app_ui.show_prediction(result, show_all, unsure_tip="Draw the item larger, close its outline or fill it in.")
        st.image(app_ui.upscale(model_input, INPUT_SCALE), caption="What the network sees: 28x28 pixels, enlarged")
