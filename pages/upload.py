"""Upload: classify your own images, several at once, and download the results as CSV."""

import streamlit as st

from cnn.render import upscale
from ui.layout import page_header
from ui.loaders import require_model
from ui.prediction import show_prediction
from ui.upload import UPLOAD_TYPES, classify_file, results_table

INPUT_SCALE = 5  # the 28x28 model input shown 140x140

page_header(
    "pages/upload.py",
    "Upload photos of clothing: PNG, JPEG, WebP, BMP or GIF, several at once. Each one is trimmed to the item, "
    "turned grey, shrunk to 28x28 and centred, like the training photos. Photos of a single item on a plain, "
    "light background work best.",
)
require_model()

uploads = st.file_uploader(
    "Images to classify", type=UPLOAD_TYPES, accept_multiple_files=True, key="upload_files"
)
if not uploads:
    st.info("Choose or drop one or more images above.", icon=":material/image:")
    st.stop()

file_results = [classify_file(upload.name, upload.getvalue()) for upload in uploads]
for file_result in file_results:
    if file_result.error:
        st.error(f"**{file_result.name}**: {file_result.error}", icon=":material/broken_image:")

good_results = [file_result for file_result in file_results if file_result.result is not None]
if good_results:
    st.subheader("Predictions")
for position, file_result in enumerate(good_results):
    with st.container(border=True):
        photo_column, input_column, chart_column = st.columns([1, 1, 2], vertical_alignment="center")
        photo_column.container(key=f"photo_{position}").image(file_result.thumbnail, caption=file_result.name)
        input_column.image(upscale(file_result.model_input, INPUT_SCALE), caption="What the network sees")
        with chart_column:
            show_prediction(file_result.result, unsure_tip="A photo of one item on a plain, light background works best.")

st.subheader("All results")
table = results_table(file_results)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={"confidence": st.column_config.ProgressColumn("confidence", format="percent", min_value=0.0, max_value=1.0)},
)
st.download_button(
    "Download the results (CSV)",
    data=table.to_csv(index=False).encode(),
    file_name="fashion_mnist_predictions.csv",
    mime="text/csv",
    key="upload_download",
    icon=":material/download:",
)
