"""Explore: one random test image at a time, its true class and the network's answer."""

import numpy as np
import streamlit as st

import app_ui
from cnn.config import CLASS_NAMES

INPUT_SCALE = 10

app_ui.page_header(
    "Explore",
    ":material/shuffle:",
    "A random image from the test set, which the network never saw during training, its true label and "
    "the network's three best answers. Press **Next** for another one.",
)
app_ui.require_model()


def next_sample() -> None:
    images, _ = app_ui.load_sample()
    st.session_state["explore_index"] = int(np.random.default_rng().integers(len(images)))
    st.session_state["explore_seen"] = st.session_state.get("explore_seen", 0) + 1


if "explore_index" not in st.session_state:
    next_sample()

image, true_class, result = app_ui.describe_sample(st.session_state["explore_index"])
correct = result["class_id"] == true_class
if correct and st.session_state.get("explore_scored") != st.session_state["explore_seen"]:
    st.session_state["explore_right"] = st.session_state.get("explore_right", 0) + 1
st.session_state["explore_scored"] = st.session_state["explore_seen"]  # count each image once, however often the page reruns

image_column, answer_column = st.columns([1, 2], gap="large")
with image_column:
    st.image(app_ui.upscale(image, INPUT_SCALE), caption=f"Test image #{st.session_state['explore_index']}")
    st.button("Next", key="explore_next", type="primary", icon=":material/skip_next:", on_click=next_sample)
with answer_column:
    st.markdown(f"**True class:** {CLASS_NAMES[true_class]}")
    with st.container(key="explore_answer"):
        app_ui.show_prediction(result)
    if correct:
        st.success(f"Right: the network says {result['prediction']}.", icon=":material/check_circle:")
    else:
        st.warning(f"Wrong: the network says {result['prediction']}, the label is {CLASS_NAMES[true_class]}.", icon=":material/cancel:")
    st.caption(
        f"This session: the network got {st.session_state.get('explore_right', 0)} of "
        f"{st.session_state['explore_seen']} right (your session only)."
    )
