"""Explore: one random test image at a time, its true class and the network's answer."""

import streamlit as st

from cnn.config import CLASS_NAMES
from cnn.predict import predict
from cnn.render import upscale
from ui.figures import show_picture
from ui.layout import page_header
from ui.loaders import load_sample, random_sample_index, require_model
from ui.prediction import show_prediction

INPUT_SCALE = 10

page_header(
    "app_pages/explore.py",
    "A random image from the test set, which the network never saw during training, its true label and "
    "the network's three best answers. Press **Next** for another one.",
)
require_model()


def next_sample() -> None:
    st.session_state["explore_index"] = random_sample_index()
    st.session_state["explore_seen"] = st.session_state.get("explore_seen", 0) + 1


if "explore_index" not in st.session_state:
    next_sample()

images, labels = load_sample()
index = st.session_state["explore_index"]
image, true_class = images[index], int(labels[index])
result = predict(image, top_k=3)
correct = result["class_id"] == true_class
if correct and st.session_state.get("explore_scored") != st.session_state["explore_seen"]:
    st.session_state["explore_right"] = st.session_state.get("explore_right", 0) + 1
st.session_state["explore_scored"] = st.session_state["explore_seen"]  # count each image once, however often the page reruns

image_column, answer_column = st.columns([1, 2], gap="large")
with image_column:
    show_picture(
        upscale(image, INPUT_SCALE), f"Test image #{index}, a {CLASS_NAMES[true_class]}, 28x28 pixels enlarged", f"Test image #{index}"
    )
    st.button("Next", key="explore_next", type="primary", icon=":material/skip_next:", on_click=next_sample)
with answer_column:
    st.markdown(f"**True class:** {CLASS_NAMES[true_class]}")
    with st.container(key="explore_answer"):
        show_prediction(result)
    if correct:
        st.success(f"Right: the network says {result['prediction']}.", icon=":material/check_circle:")
    else:
        st.warning(f"Wrong: the network says {result['prediction']}, the label is {CLASS_NAMES[true_class]}.", icon=":material/cancel:")
    st.caption(
        f"This session: the network got {st.session_state.get('explore_right', 0)} of "
        f"{st.session_state['explore_seen']} right (your session only)."
    )
