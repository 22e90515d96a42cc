"""Draw: sketch a clothing item and watch the network think, updated after every stroke.

Beside the answer: the 28x28 image the network receives; below it, folded under the answer on a
phone: where it looks (Grad-CAM), what each conv layer sees, the training images it finds most
alike, and the same drawing through simpler models.
"""

import streamlit as st

from cnn.config import CLASS_NAMES, DEFAULT_MODEL
from cnn.insights import insights
from cnn.predict import InvalidImageError, NothingDrawnError, classify, resolve_model_name
from cnn.render import channel_columns, grad_cam_overlay, heat_legend, tile_row, upscale
from ui.canvas import sketch_canvas
from ui.layout import page_header
from ui.loaders import model_label, require_model, trained_models
from ui.prediction import show_prediction

INPUT_SCALE = 8  # the 28x28 model input shown 224x224
CAM_SCALE = 6
LAYER_TILE = 56  # pixels: a feature-map tile, however coarse its layer
NEIGHBOUR_TILE = 84  # pixels: a nearest training image (28x28, three times)
PREDICTED = "The predicted class"
LAST_DRAWING = "draw_last_png"  # the Feature maps page can open the drawing made here
COMPARED = (DEFAULT_MODEL, "baseline", "mlp")
# What the doodle benchmark (python -m bench.drawn_doodles) showed works, per kind of item.
TIPS = """**What works** (measured on our own doodle benchmark, see the Training page):
- **T-shirt, top**: a T with short sleeves and a neckline.
- **Trousers**: two long legs under a waistband; an outline with the gap between the legs.
- **Sweater (pullover)**: long sleeves hanging down, with cuff and hem bands.
- **Coat, jacket**: long sleeves and a zip or buttons down the middle; a hood or lapels help.
- **Shirt**: a pointed collar and a row of buttons.
- **Dress**: narrow at the waist, wide at the hem.
- **Bag**: a body with a handle or strap; a backpack with a top loop and a front pocket.
- **Shoes**: a side view with a sole line; a flip flop from above with its V strap; a boot with a tall shaft."""

page_header(
    "app_pages/draw.py",
    "Draw a T-shirt, trousers, a bag, a shoe... with the mouse or a finger. After every stroke the network "
    "guesses again, and below its answer you see how it got there: the 28x28 image it receives, where it "
    "looks, what each layer sees and which training images it finds most alike.",
)
model_name = resolve_model_name(None, sketch=True)
require_model(model_name)

canvas_column, result_column = st.columns([1, 1], gap="large")

with canvas_column:
    pen_width = st.slider("Pen width", min_value=4, max_value=40, value=16, step=2, key="draw_pen_width")
    drawing = sketch_canvas(key="draw_canvas", pen_width=pen_width)
    st.caption("Undo (also Ctrl+Z) and Clear sit under the canvas.")
    with st.expander("Tips for drawings the network recognises", icon=":material/lightbulb:"):
        st.markdown(TIPS)

with result_column:
    show_all = st.toggle("Show all 10 classes", key="draw_show_all")
    with st.container(key="prediction"):
        if drawing is None:
            st.info("Draw a clothing item on the black canvas: the prediction appears here.", icon=":material/draw:")
            st.stop()
        try:
            result, model_input = classify(drawing, sketch=True)
        except NothingDrawnError:
            st.info("The canvas is empty: draw a clothing item to get a prediction.", icon=":material/draw:")
            st.stop()
        except InvalidImageError as error:
            st.error(str(error))
            st.stop()
        st.session_state[LAST_DRAWING] = drawing
        show_prediction(result, show_all, unsure_tip="Add the part that tells it apart: long sleeves with cuffs, a zip, two legs, a strap.")
        st.image(upscale(model_input, INPUT_SCALE), caption="What the network sees: 28x28 pixels, enlarged")

# ---- How it got there: every view from one forward and backward pass.
with st.container(key="insights"):
    cam_column, neighbours_column = st.columns([1, 2], gap="large")
    class_choice = cam_column.selectbox("Where it looks, for", [PREDICTED, *CLASS_NAMES], key="draw_cam_class")
    chosen_class = None if class_choice == PREDICTED else CLASS_NAMES.index(class_choice)
    compared = tuple(name for name in COMPARED if name != model_name and name in trained_models())
    seen = insights(model_input, result, model_name, chosen_class, compare_with=compared)

    with cam_column:
        st.image(
            grad_cam_overlay(model_input, seen.explanation.heatmap, CAM_SCALE),
            caption=f"Grad-CAM for {CLASS_NAMES[seen.explanation.class_id]}: red pushed the network towards it",
        )
        st.image(heat_legend(28 * CAM_SCALE, 8), caption="blue: ignored, red: decisive")
    # Each view is one picture: a page that sends a handful of images instead of dozens is on screen sooner.
    with neighbours_column:
        st.markdown("**Looks most like** these training images, to the network")
        st.image(
            tile_row([neighbour.image for neighbour in seen.neighbours], NEIGHBOUR_TILE),
            caption=" · ".join(f"{CLASS_NAMES[neighbour.label]} ({neighbour.similarity:.2f})" for neighbour in seen.neighbours),
        )
        st.caption(
            "The nearest training photos in the network's own embedding (its last layer before the answer), "
            "with their labels and cosine similarity: the examples its answer leans on."
        )

    st.markdown("**What each layer sees**: the strongest channels of every conv layer for this drawing, one column a layer")
    st.image(
        channel_columns([layer.maps for layer in seen.layers], LAYER_TILE),
        caption=" · ".join(f"{layer.name} {layer.shape[0]}x{layer.shape[1]}x{layer.shape[2]}" for layer in seen.layers),
    )
    st.page_link("app_pages/feature_maps.py", label="Every channel of every layer, on the Feature maps page", icon=":material/grid_view:")

    if seen.comparison:
        with st.expander("The same drawing through other networks", icon=":material/compare_arrows:"):
            # A Markdown table: drawn at once, where a data grid would be set up again after every stroke.
            lines = ["| network | answer | confidence |", "| --- | --- | --- |"]
            for name, answer in [(model_name, result), *seen.comparison.items()]:
                maybe = " (not sure)" if answer["unsure"] else ""
                lines.append(f"| {model_label(name)} | {answer['prediction']}{maybe} | {answer['confidence']:.1%} |")
            st.markdown("\n".join(lines))
            st.caption(
                "The CNN trained on photos only, the seeds' small baseline CNN, and an MLP with no convolutions: "
                "it sees pixels, not shapes, so a drawing that moves a little changes its answer a lot."
            )
