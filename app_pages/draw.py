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
from ui.figures import Figure, figure_html, figures_html, table_html
from ui.layout import page_header
from ui.loaders import model_label, require_model, trained_models
from ui.prediction import prediction_html

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
- **Shoes**: a side view with a sole line; a flip flop from above with its V strap; a boot with a tall shaft.

Undo (also Ctrl+Z) and Clear sit under the canvas."""

page_header(
    "app_pages/draw.py",
    "Draw a T-shirt, trousers, a bag, a shoe... with the mouse or a finger. After every stroke the network "
    "guesses again, and below its answer you see how it got there: the 28x28 image it receives, where it "
    "looks, what each layer sees and which training images it finds most alike.",
)
model_name = resolve_model_name(None, sketch=True)
require_model(model_name)

# The settings sit above the canvas, outside the fragment below: changing one reruns the whole page, while a
# stroke reruns only the fragment, so every open browser redraws just the answer and its views (bench.apps
# measures several sessions drawing at once).
pen_column, classes_column, cam_column = st.columns(3, vertical_alignment="bottom")
pen_width = pen_column.slider("Pen width", min_value=4, max_value=40, value=16, step=2, key="draw_pen_width")
show_all = classes_column.toggle("Show all 10 classes", key="draw_show_all")
class_choice = cam_column.selectbox("Where it looks (Grad-CAM), for", [PREDICTED, *CLASS_NAMES], key="draw_cam_class")
with st.expander("Tips for drawings the network recognises", icon=":material/lightbulb:"):
    st.markdown(TIPS)


@st.fragment
def drawing_and_answer(pen_width: int, show_all: bool, chosen_class: int | None) -> None:
    """The canvas, the answer and every view of how it got there: what one stroke changes."""
    canvas_column, result_column = st.columns([1, 1], gap="large")
    with canvas_column:
        drawing = sketch_canvas(key="draw_canvas", pen_width=pen_width)

    with result_column, st.container(key="prediction"):
        if drawing is None:
            st.info("Draw a clothing item on the black canvas: the prediction appears here.", icon=":material/draw:")
            return
        try:
            result, model_input = classify(drawing, sketch=True)
        except NothingDrawnError:
            st.info("The canvas is empty: draw a clothing item to get a prediction.", icon=":material/draw:")
            return
        except InvalidImageError as error:
            st.error(str(error))
            return
        st.session_state[LAST_DRAWING] = drawing
        # The answer and the model input as one element: the part of the page each stroke redraws first.
        answer = prediction_html(result, show_all, unsure_tip="Add the part that tells it apart: long sleeves with cuffs, a zip, two legs, a strap.")
        model_view = Figure("", (upscale(model_input, INPUT_SCALE),), alt="The drawing as the network receives it: 28x28 pixels",
                            caption="What the network sees: 28x28 pixels, enlarged")  # fmt: skip
        st.html(answer + figures_html([figure_html(model_view)]))

    show_insights(model_input, result, chosen_class)


def show_insights(model_input, result: dict, chosen_class: int | None) -> None:
    """How it got there: every view from one forward and backward pass, as one block of figures."""
    compared = tuple(name for name in COMPARED if name != model_name and name in trained_models())
    seen = insights(model_input, result, model_name, chosen_class, compare_with=compared)
    looks = Figure(
        "Where it looks",
        (grad_cam_overlay(model_input, seen.explanation.heatmap, CAM_SCALE), heat_legend(28 * CAM_SCALE, 8)),
        alt="The network's input with its Grad-CAM heatmap on top, and the colour scale",
        caption=f"Grad-CAM for {CLASS_NAMES[seen.explanation.class_id]}: red pushed the network towards it\n"
        "(the strip: blue ignored, red decisive)",
    )
    alike = Figure(
        "Looks most like these training images, to the network",
        (tile_row([neighbour.image for neighbour in seen.neighbours], NEIGHBOUR_TILE),),
        alt="The six training images nearest to the drawing in the network's embedding",
        caption=" · ".join(f"{CLASS_NAMES[neighbour.label]} ({neighbour.similarity:.2f})" for neighbour in seen.neighbours)
        + "\nThe nearest training photos in the network's own embedding (its last layer before the answer), "
        "with their labels and cosine similarity: the examples its answer leans on.",
    )
    layers = Figure(
        "What each layer sees: the strongest channels of every conv layer, one column a layer",
        (channel_columns([layer.maps for layer in seen.layers], LAYER_TILE),),
        alt="The most active feature maps of every conv layer for this drawing",
        caption=" · ".join(f"{layer.name} {layer.shape[0]}x{layer.shape[1]}x{layer.shape[2]}" for layer in seen.layers),
    )
    rows = [[figure_html(looks), figure_html(alike)], [figure_html(layers)]]
    if seen.comparison:
        answers = [(model_name, result), *seen.comparison.items()]
        rows[1].append(table_html(
            "The same drawing through other networks",
            ["network", "answer", "confidence"],
            [[model_label(name), answer["prediction"] + (" (not sure)" if answer["unsure"] else ""), f"{answer['confidence']:.1%}"]
             for name, answer in answers],
            caption="The CNN trained on photos only, the seeds' small baseline CNN, and an MLP with no convolutions: "
            "it sees pixels, not shapes, so a drawing that moves a little changes its answer a lot.",
        ))  # fmt: skip
    st.container(key="insights").html(figures_html(*rows))


drawing_and_answer(pen_width, show_all, None if class_choice == PREDICTED else CLASS_NAMES.index(class_choice))
st.page_link("app_pages/feature_maps.py", label="Every channel of every layer, on the Feature maps page", icon=":material/grid_view:")
