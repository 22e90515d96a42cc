"""Draw: sketch a clothing item and watch the network's answer change with every stroke."""

import streamlit as st

import app_ui
from cnn.predict import InvalidImageError
from sketch_canvas import sketch_canvas

INPUT_SCALE = 8  # the 28x28 model input shown 224x224

app_ui.page_header(
    "Draw",
    ":material/draw:",
    "Draw a T-shirt, trousers, a bag, a shoe... with the mouse (or a finger). After every stroke the network "
    "guesses again. On the right you see its answer and the 28x28 image it actually receives: your drawing "
    "trimmed to the item, shrunk, centred and its lines evened out, like the training photos were prepared.",
)
app_ui.require_model()

canvas_column, result_column = st.columns([1, 1], gap="large")

with canvas_column:
    pen_width = st.slider("Pen width", min_value=4, max_value=40, value=16, step=2, key="draw_pen_width")
    drawing = sketch_canvas(key="draw_canvas", pen_width=pen_width)
    st.caption(
        "Undo (also Ctrl+Z) and Clear sit under the canvas. "
        "**Tips:** draw the item large and from the front, as in a catalogue photo; close its outline; "
        "filling it in helps for solid items such as bags and boots."
    )

with result_column:
    show_all = st.toggle("Show all 10 classes", key="draw_show_all")
    with st.container(key="prediction"):
        if drawing is None:
            st.info("Draw a clothing item on the black canvas: the prediction appears here.", icon=":material/draw:")
            st.stop()
        try:
            result, model_input = app_ui.classify_drawing(drawing)
        except InvalidImageError as error:
            if app_ui.is_nothing_drawn(error):
                st.info("The canvas is empty: draw a clothing item to get a prediction.", icon=":material/draw:")
            else:
                st.error(str(error))
            st.stop()
        app_ui.show_prediction(result, show_all, unsure_tip="Draw the item larger, close its outline or fill it in.")
        st.image(app_ui.upscale(model_input, INPUT_SCALE), caption="What the network sees: 28x28 pixels, enlarged")
