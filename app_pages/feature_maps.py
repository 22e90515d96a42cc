"""Feature maps: what every conv layer responds to, and where the network looks (Grad-CAM)."""

import streamlit as st

from cnn.config import CLASS_NAMES, DEFAULT_MODEL
from cnn.decode import UPLOAD_EXTENSIONS, decode_file, full_size
from cnn.explain import explain, where_it_looked
from cnn.predict import InvalidImageError, NothingDrawnError, predict_model_input, preprocess, resolve_model_name
from cnn.render import HEAT_LEGEND, feature_map_grid, grad_cam_overlay, heat_legend, upscale
from ui.canvas import sketch_canvas
from ui.figures import show_picture
from ui.layout import page_header
from ui.loaders import load_sample, random_sample_index, require_model
from ui.mark_item import mark_item
from ui.playground import own_model_switch
from ui.prediction import show_prediction

SOURCES = ("Test image", "Drawing", "Upload")
LAST_DRAWING = "draw_last_png"  # set by the Draw page
INPUT_SCALE = 8
PREDICTED = "The predicted class"

page_header(
    "app_pages/feature_maps.py",
    "A CNN is a stack of filters. Each conv layer slides small learnt filters over the previous layer's "
    "output and produces one *feature map* per filter: bright where the filter's pattern is present. "
    "Pick an image, then look at every layer's maps and at Grad-CAM, which colours the pixels that pushed "
    "the network towards a class.",
)
require_model()


def new_sample_index() -> None:
    st.session_state["maps_sample_index"] = random_sample_index()


if "maps_sample_index" not in st.session_state:
    new_sample_index()

# ---- The input: a test image, a drawing or an upload -> the 28x28 model input.
source = st.segmented_control("Input", SOURCES, default=SOURCES[0], required=True, key="maps_source")
model_input, caption, model_name = None, "", DEFAULT_MODEL
if source == "Test image":
    images, labels = load_sample()
    index = st.session_state["maps_sample_index"]
    model_input = preprocess(images[index])
    caption = f"Test image #{index}, true class: {CLASS_NAMES[labels[index]]}"
    st.button("Another test image", key="maps_next", icon=":material/shuffle:", on_click=new_sample_index)
elif source == "Drawing":
    st.caption("Draw one item, white on black; everything below updates after each stroke.")
    drawing = sketch_canvas(key="maps_canvas")
    if drawing is None and st.session_state.get(LAST_DRAWING):
        drawing = st.session_state[LAST_DRAWING]  # until something is drawn here: the Draw page's drawing
        st.caption("Showing your drawing from the Draw page; draw above to replace it.")
    if drawing is not None:
        try:
            model_input = preprocess(drawing, sketch=True)
            caption, model_name = "Your drawing", resolve_model_name(None, sketch=True)  # as the Draw page answers
        except NothingDrawnError:
            pass  # an empty canvas: the hint below
        except InvalidImageError as error:
            st.error(str(error))
else:
    upload = st.file_uploader("An image of one clothing item", type=UPLOAD_EXTENSIONS, key="maps_upload")
    if upload is not None:
        box = None
        try:
            photo = decode_file(upload.getvalue())  # decoded once: marked and classified
            with st.expander("Busy photo? Drag a box around the item", icon=":material/crop_free:"):
                try:
                    box = mark_item(photo, key=f"maps_mark_{upload.file_id}", photo_size=full_size(photo))
                except ValueError as error:  # too small to show on the canvas: classified whole
                    st.info(str(error), icon=":material/info:")
            model_input = preprocess(photo, box=box)
            caption = upload.name if box is None else f"{upload.name}, inside your box"
        except InvalidImageError as error:
            st.error(f"**{upload.name}**: {error}", icon=":material/broken_image:")
            st.stop()

if model_input is None:
    st.info("Draw an item or upload an image to see what the network makes of it.", icon=":material/info:")
    st.stop()
own = own_model_switch("maps_own_model")  # this session's Playground network, when the user switched to it

# ---- Prediction and Grad-CAM.
input_column, cam_column, prediction_column = st.columns(3, gap="large")
cam_slot = cam_column.container()  # filled once the class below is chosen and explained
class_choice = cam_column.selectbox("Explain which class?", [PREDICTED, *CLASS_NAMES], key="maps_class")
result = predict_model_input(model_input, top_k=3, model_name=model_name) if own is None else own.answer(model_input)
chosen_class = result["class_id"] if class_choice == PREDICTED else CLASS_NAMES.index(class_choice)
try:
    explanation = explain(model_input, class_id=chosen_class, model_name=model_name, net=own.net if own else None)
except ValueError:  # an MLP from the Playground
    show_prediction(result)
    st.info("Your Playground network has no conv layers, so there are no feature maps or Grad-CAM to show.", icon=":material/info:")
    st.stop()

explained_name = CLASS_NAMES[explanation.class_id]
with input_column:
    show_picture(upscale(model_input, INPUT_SCALE), "The 28x28 image the network sees, enlarged", caption, title="The model input")
with cam_slot:
    show_picture(
        grad_cam_overlay(model_input, explanation.heatmap, INPUT_SCALE),
        f"Grad-CAM for {explained_name}: {where_it_looked(explanation.heatmap)}",
        f"Computed at layer {explanation.heatmap_layer}",
        title=f"Grad-CAM for {explained_name}",
    )
    show_picture(heat_legend(INPUT_SCALE * 28), f"Colour scale from low to high: {HEAT_LEGEND}", HEAT_LEGEND)
with prediction_column:
    st.markdown("**The prediction**")
    show_prediction(result)
st.caption(
    "Grad-CAM (Selvaraju et al., 2017) weighs the last conv layer's maps by how much each one raises the chosen "
    "class's score. Bright colours mark the regions that made the network say that class; choose another class "
    "above to see what would argue for it."
)

# ---- Every conv layer's feature maps.
st.header("Feature maps")
layer_names = list(explanation.feature_maps)
layer = st.selectbox(
    "Conv layer",
    layer_names,
    format_func=lambda name: (
        f"{name}: {explanation.feature_maps[name].shape[-1]} channels, "
        f"{explanation.feature_maps[name].shape[0]}x{explanation.feature_maps[name].shape[1]} each"
    ),
    key="maps_layer",
)
maps = explanation.feature_maps[layer]
silent = int((maps.max(axis=(0, 1)) <= 0).sum())
position = layer_names.index(layer)
if position < len(layer_names) / 3:
    note = (
        "**An early layer.** Its filters see only a few neighbouring pixels, so they respond to simple things: "
        "edges in one direction, bright or dark areas, the item's outline. Its maps still look like the item."
    )
elif position < 2 * len(layer_names) / 3:
    note = (
        "**A middle layer.** After one pooling step each unit sees a larger patch and combines early edges into "
        "corners, stripes and textures; the maps start to look less like the picture."
    )
else:
    note = (
        "**A late layer.** Each unit now covers most of the image and responds to whole parts: a sleeve, a heel, "
        "a handle, a collar. The maps are coarse and abstract, and only a few channels light up for a given "
        "item: this is what the classifier on top reads."
    )
st.markdown(note)
st.caption(
    f"{maps.shape[-1]} channels of {maps.shape[0]}x{maps.shape[1]} after the ReLU; each is scaled to its own "
    f"peak (dark: no response). {silent} of {maps.shape[-1]} channels stay silent for this image."
)
show_picture(
    feature_map_grid(maps),
    f"{layer}: all {maps.shape[-1]} feature maps as a grid, each scaled to its own peak, dark purple for no response and "
    f"yellow for the strongest; {silent} stay silent",
)
