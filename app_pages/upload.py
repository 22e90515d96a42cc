"""Upload: classify your own images, several at once, mark the item on a busy photo, download the results as CSV."""

import numpy as np
import streamlit as st

from cnn.decode import FORMATS_IN_WORDS, UPLOAD_EXTENSIONS
from cnn.render import upscale
from ui.figures import show_picture
from ui.layout import page_header
from ui.loaders import require_model
from ui.mark_item import mark_item
from ui.prediction import show_prediction
from ui.upload import classified_file, results_html, results_table

INPUT_SCALE = 5  # the 28x28 model input shown 140x140
SUGGESTED_BOX = (
    "This photo shows a person: the app found the garment they wear and classified what is in the box. "
    "Not right? Turn on the canvas's edit toggle to move or resize it, or draw a new one."
)

page_header(
    "app_pages/upload.py",
    f"Upload photos of clothing ({FORMATS_IN_WORDS}), several at once. Each one is trimmed to the item, "
    "turned grey, shrunk to 28x28 and centred, like the training photos. On a busy background (a floor, a "
    "fabric, outdoors) the item is cut out first; if it is worn or the cut goes wrong, mark the item with a box.",
)
require_model()

uploads = st.file_uploader("Images to classify", type=UPLOAD_EXTENSIONS, accept_multiple_files=True, key="upload_files")
if not uploads:
    st.info("Choose or drop one or more images above.", icon=":material/image:")
    st.stop()

file_results = [classified_file(upload.name, upload.getvalue(), box=None) for upload in uploads]

# ---- Mark the item: the canvas opens for one photo at a time, so a batch stays fast.
markable = [index for index, file_result in enumerate(file_results) if file_result.result is not None]
if markable:
    with st.container(border=True, key="mark_item"):
        st.markdown("**Busy photo, or a person wearing the item?** Drag a box around the item.")
        worn = [index for index in markable if file_results[index].result["garment_box"] is not None]
        chosen = st.selectbox(
            "Photo to mark",
            markable,
            index=markable.index(worn[0]) if worn else None,  # a suggested box is shown at once
            format_func=lambda index: file_results[index].name,
            placeholder="Choose a photo",
            key="upload_mark_choice",
        )
        if chosen is not None:
            marked = file_results[chosen]
            suggested = marked.result["garment_box"]
            if suggested is not None:
                st.caption(SUGGESTED_BOX)
            try:
                box = mark_item(marked.photo, key=f"upload_mark_{uploads[chosen].file_id}", photo_size=marked.photo_size,
                                suggested_box=suggested)  # fmt: skip
            except ValueError as error:
                st.info(str(error), icon=":material/info:")
                box = None
            if box is None:
                st.caption("No box yet: the whole photo is classified. Delete the box (the canvas's bin) to go back to it.")
            elif suggested is not None and np.allclose(box, suggested, atol=0.01 * max(marked.photo_size)):
                pass  # the suggested box, untouched: its answer is already shown
            else:
                file_results[chosen] = classified_file(marked.name, uploads[chosen].getvalue(), box=box)
                st.caption(f"Classified inside your box: {box[2]:.0f}x{box[3]:.0f} pixels of the photo.")
for file_result in file_results:
    if file_result.error:
        st.error(f"**{file_result.name}**: {file_result.error}", icon=":material/broken_image:")

good_results = [file_result for file_result in file_results if file_result.result is not None]
if good_results:
    st.header("Predictions")
for position, file_result in enumerate(good_results):
    with st.container(border=True):
        photo_column, input_column, chart_column = st.columns([1, 1, 2], vertical_alignment="center")
        with photo_column.container(key=f"photo_{position}"):
            show_picture(np.asarray(file_result.thumbnail.convert("RGB")), f"Your photo {file_result.name}", file_result.name, photo=True)
        with input_column:
            show_picture(upscale(file_result.model_input, INPUT_SCALE), f"The 28x28 image the network sees for {file_result.name}",
                         "What the network sees")  # fmt: skip
        with chart_column:
            if file_result.result["garment_box"] is not None:
                st.caption("A person wearing it: classified on the garment in the orange box. Not the garment? Move the box above.")
            show_prediction(file_result.result, unsure_tip="A photo of one item on a plain, light background works best.")

st.header("All results")
table = results_table(file_results)
st.html(results_html(table))
st.download_button(
    "Download the results (CSV)",
    data=table.to_csv(index=False).encode(),
    file_name="fashion_mnist_predictions.csv",
    mime="text/csv",
    key="upload_download",
    icon=":material/download:",
)
