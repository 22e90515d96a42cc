"""Draw: sketch a clothing item and watch the network think, updated after every stroke.

Beside the answer: the 28x28 image the network receives; below it, folded under the answer on a
phone: where it looks (Grad-CAM), what each conv layer sees, the training images it finds most
alike, and the same drawing through simpler models.
"""

import streamlit as st

from cnn.config import CLASS_NAMES, DEFAULT_MODEL
from cnn.explain import where_it_looked
from cnn.insights import CHANNELS_PER_LAYER, insights
from cnn.playground import TrainedModel
from cnn.predict import InvalidImageError, NothingDrawnError, classify, preprocess, resolve_model_name
from cnn.render import HEAT_LEGEND, channel_columns, grad_cam_overlay, heat_legend, tile_row, upscale
from cnn.teach import TaughtDrawing, corrections_db, drawings_zip, keep_correction, taught_answer
from ui.canvas import sketch_canvas
from ui.figures import Figure, figure_html, figures_html, table_html
from ui.layout import page_header
from ui.loaders import require_model, trained_models
from ui.playground import network_label, own_model_switch
from ui.prediction import prediction_html

INPUT_SCALE = 8  # the 28x28 model input shown 224x224
CAM_SCALE = 6
LAYER_TILE = 56  # pixels: a feature-map tile, however coarse its layer
NEIGHBOUR_TILE = 84  # pixels: a nearest training image (28x28, three times)
PREDICTED = "The predicted class"
LAST_DRAWING = "draw_last_png"  # the Feature maps page can open the drawing made here
TAUGHT = "draw_taught"  # this session's corrections
JUST_TAUGHT = "draw_just_taught"  # the class just taught, for one confirmation
COMPARED = (DEFAULT_MODEL, "baseline", "mlp")
# What the synthetic doodle benchmark (python -m bench.drawn_doodles) showed works, per kind of item.
TIPS = """**What works** (measured on the project's synthetic doodle benchmark and real Quick, Draw! doodles, see the Training page):
- **T-shirt, top**: a T with short sleeves and a neckline.
- **Trousers**: two long legs under a waistband; an outline with the gap between the legs.
- **Sweater (pullover)**: long sleeves hanging down, with cuff and hem bands.
- **Coat, jacket**: long sleeves and a zip or buttons down the middle; a hood or lapels help.
- **Shirt**: a pointed collar and a row of buttons.
- **Dress**: narrow at the waist, wide at the hem.
- **Bag**: a body with a handle or strap; a backpack with a top loop and a front pocket.
- **Shoes**: a side view with a sole line; a flip flop from above with its V strap; a boot with a tall shaft.

Undo (also Ctrl+Z) and Clear sit under the canvas. Drew something it gets wrong? Teach it under the answer."""

page_header(
    "app_pages/draw.py",
    "Draw a T-shirt, trousers, a bag, a shoe... with the mouse or a finger. After every stroke the network "
    "guesses again, and below its answer you see how it got there: the 28x28 image it receives, where it "
    "looks, what each layer sees and which training images it finds most alike.",
)
model_name = resolve_model_name(None, sketch=True)
require_model(model_name)
own = own_model_switch("draw_own_model")  # this session's Playground network, when the user switched to it
if own is not None:
    st.caption("Answering with your Playground network. It learnt from Fashion-MNIST photos only, where the shipped "
               "drawing model also learnt from doodles: expect it to find drawings harder.")  # fmt: skip


@st.fragment
def drawing_and_answer(pen_width: int, show_all: bool, chosen_class: int | None, own: TrainedModel | None) -> None:
    """The canvas, the answer and every view of how it got there: what one stroke changes."""
    canvas_column, result_column = st.columns([1, 1], gap="large")
    with canvas_column:
        drawing = sketch_canvas(key="draw_canvas", pen_width=pen_width)
        st.caption(
            "Drawing needs a mouse, a pen or a finger. With a keyboard only, try **Upload** (an image file) or **Explore** (test images)."
        )

    with result_column, st.container(key="prediction"):
        if drawing is None:
            st.info("Draw a clothing item on the black canvas: the prediction appears here.", icon=":material/draw:")
            show_taught()
            return
        try:
            if own is None:
                result, model_input, embedding = classify(drawing, sketch=True)
            else:  # the same model input, answered by the user's own network
                model_input = preprocess(drawing, sketch=True)
                result, embedding = own.answer(model_input), None
        except NothingDrawnError:
            st.info("The canvas is empty: draw a clothing item to get a prediction.", icon=":material/draw:")
            return
        except InvalidImageError as error:
            st.error(str(error))
            return
        st.session_state[LAST_DRAWING] = drawing
        result = taught_answer(result, embedding, taught_drawings())
        # The answer and the model input as one element: the part of the page each stroke redraws first.
        answer = prediction_html(
            result, show_all, unsure_tip="Add the part that tells it apart: long sleeves with cuffs, a zip, two legs, a strap."
        )
        model_view = Figure("", (upscale(model_input, INPUT_SCALE),), alt="The drawing as the network receives it: 28x28 pixels",
                            caption="What the network sees: 28x28 pixels, enlarged")  # fmt: skip
        st.html(answer + figures_html([figure_html(model_view)]))
        teach_this_drawing(drawing, result, embedding)

    show_insights(model_input, result, chosen_class, own)


def taught_drawings() -> list[TaughtDrawing]:
    """This session's corrections (cnn/teach.py): they decide the answer for drawings close to them."""
    return st.session_state.setdefault(TAUGHT, [])


def teach_this_drawing(drawing: bytes, result: dict, embedding) -> None:
    """Wrong or unsure? The user names the right class; it counts from the next stroke, for this session."""
    if embedding is None:
        return  # a model exported without embeddings cannot compare drawings
    if "taught" in result:
        st.caption(f"Answered from a drawing you taught it (similarity {result['taught']['similarity']:.2f}).")
    just_taught = st.session_state.pop(JUST_TAUGHT, None)
    with st.expander("Wrong? Teach it this drawing", icon=":material/school:", expanded=bool(result["unsure"] or just_taught)):
        if just_taught:
            st.success(f"Taught: this drawing is a {just_taught}. Drawings close to it are now answered {just_taught} in this session.")
        right = st.selectbox("What is it?", CLASS_NAMES, index=None, placeholder="Pick the right class", key="draw_teach_class")
        st.button("Teach it", key="draw_teach", disabled=right is None, icon=":material/add:",
                  on_click=teach, args=(drawing, result, embedding))  # fmt: skip
        show_taught()


def teach(drawing: bytes, result: dict, embedding) -> None:
    """The Teach button's callback: keep the correction for the session (and in the collection file where
    that is switched on), then clear the choice for the next drawing."""
    right = st.session_state.get("draw_teach_class")
    if right is None:
        return
    taught = TaughtDrawing(drawing, CLASS_NAMES.index(right), embedding, result["model"], result["prediction"])
    taught_drawings().append(taught)
    database = corrections_db()
    if database is not None:
        keep_correction(database, taught)
    st.session_state["draw_teach_class"] = None
    st.session_state[JUST_TAUGHT] = right


def show_taught() -> None:
    """How many drawings the user taught, to download or forget."""
    taught = taught_drawings()
    if not taught:
        return
    st.caption(f"You taught me {len(taught)} drawing{'s' if len(taught) > 1 else ''} in this session"
               + (", also kept for training where the app runs (CNN_CORRECTIONS_DB)." if corrections_db() else "; nothing is kept after it."))  # fmt: skip
    download_column, clear_column = st.columns(2)
    download_column.download_button("Download them (PNG + CSV)", drawings_zip(taught), "my-drawings.zip", "application/zip",
                                    key="draw_taught_download", on_click="ignore", icon=":material/download:")  # fmt: skip
    clear_column.button("Forget them", key="draw_taught_clear", icon=":material/delete:", on_click=taught.clear)


def show_insights(model_input, result: dict, chosen_class: int | None, own: TrainedModel | None) -> None:
    """How it got there: every view from one forward and backward pass, as one block of figures."""
    answered_by = result["model"]
    compared = tuple(name for name in (model_name, *COMPARED) if name != answered_by and name in trained_models())
    try:
        seen = insights(model_input, result, answered_by, chosen_class, compare_with=compared, net=own.net if own else None)
    except ValueError:  # an MLP from the Playground
        st.info("Your network has no conv layers, so there are no feature maps or Grad-CAM to show.", icon=":material/info:")
        return
    looks = Figure(
        "Where it looks",
        (grad_cam_overlay(model_input, seen.explanation.heatmap, CAM_SCALE), heat_legend(28 * CAM_SCALE, 8)),
        alt=f"Grad-CAM for {CLASS_NAMES[seen.explanation.class_id]}: {where_it_looked(seen.explanation.heatmap)}; "
        f"below it the colour scale, {HEAT_LEGEND}",
        caption=f"Grad-CAM for {CLASS_NAMES[seen.explanation.class_id]}: the bright regions pushed the network towards it\n"
        f"(the strip: {HEAT_LEGEND})",
    )
    layers = Figure(
        "What each layer sees: the strongest channels of every conv layer, one column a layer",
        (channel_columns([layer.maps for layer in seen.layers], LAYER_TILE),),
        alt=f"The {CHANNELS_PER_LAYER} most active feature maps of every conv layer for this drawing, one column a layer, "
        "dark purple for no response and yellow for the strongest",
        caption=" · ".join(f"{layer.name} {layer.shape[0]}x{layer.shape[1]}x{layer.shape[2]}" for layer in seen.layers),
    )
    rows = [[figure_html(looks)], [figure_html(layers)]]
    if seen.neighbours:  # the shipped models have an index of their training images; a Playground network has none
        alike = Figure(
            "Looks most like these training images, to the network",
            (tile_row([neighbour.image for neighbour in seen.neighbours], NEIGHBOUR_TILE),),
            alt="The six training images nearest to the drawing in the network's embedding",
            caption=" · ".join(f"{CLASS_NAMES[neighbour.label]} ({neighbour.similarity:.2f})" for neighbour in seen.neighbours)
            + "\nThe nearest training photos in the network's own embedding (its last layer before the answer), "
            "with their labels and cosine similarity: the examples its answer leans on.",
        )
        rows[0].append(figure_html(alike))
    if seen.comparison:
        answers = [(answered_by, result), *seen.comparison.items()]
        rows[1].append(table_html(
            "The same drawing through other networks",
            ["network", "answer", "confidence"],
            [[network_label(name), answer["prediction"] + (" (not sure)" if answer["unsure"] else ""), f"{answer['confidence']:.1%}"]
             for name, answer in answers],
            caption="The CNN trained on photos only, the seeds' small baseline CNN, and an MLP with no convolutions: "
            "it sees pixels, not shapes, so a drawing that moves a little changes its answer a lot.",
        ))  # fmt: skip
    st.container(key="insights").html(figures_html(*rows))


# The settings sit below the canvas, outside the fragment: on a phone the canvas comes first. Changing one
# reruns the whole page, which sets the widgets' values in the session state before this script starts, so
# the canvas above them can read them; a stroke reruns only the fragment, so every open browser redraws
# just the answer and its views (bench.apps measures several sessions drawing at once).
PEN_WIDTH = 16
class_choice = st.session_state.get("draw_cam_class", PREDICTED)
drawing_and_answer(st.session_state.get("draw_pen_width", PEN_WIDTH), st.session_state.get("draw_show_all", False),
                   None if class_choice == PREDICTED else CLASS_NAMES.index(class_choice), own)  # fmt: skip
pen_column, classes_column, cam_column = st.columns(3, vertical_alignment="bottom")
pen_column.slider("Pen width", min_value=4, max_value=40, value=PEN_WIDTH, step=2, key="draw_pen_width")
classes_column.toggle("Show all 10 classes", key="draw_show_all")
cam_column.selectbox("Where it looks (Grad-CAM), for", [PREDICTED, *CLASS_NAMES], key="draw_cam_class")
with st.expander("Tips for drawings the network recognises", icon=":material/lightbulb:"):
    st.markdown(TIPS)
st.page_link("app_pages/feature_maps.py", label="Every channel of every layer, on the Feature maps page", icon=":material/grid_view:")
