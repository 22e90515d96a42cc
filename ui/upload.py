"""The Upload page's helpers: classify each file on its own, and the results table behind the CSV."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image, ImageDraw

from cnn.decode import decode_file, full_size
from cnn.predict import InvalidImageError, classify
from ui.mark_item import BOX_COLOUR

THUMBNAIL_SIZE = 200
MARK_SIDE = 720  # pixels: the copy of each photo kept for drawing a box on (ui/mark_item.py shows it)
CACHED_FILES = 64  # classified (file, box) pairs kept: a rerun or a dragged box redoes only what changed
UNSURE_WORDS = {None: "no", "low_confidence": "yes: low confidence", "unlike_training": "yes: none of the ten"}


@dataclass
class FileResult:
    """One uploaded file's outcome: a result and its model input, or the reason it failed."""

    name: str
    result: dict | None = None
    model_input: np.ndarray | None = None
    thumbnail: Image.Image | None = None
    error: str | None = None
    photo: Image.Image | None = None  # at most MARK_SIDE on a side, to mark the item on
    photo_size: tuple[int, int] | None = None  # the photo's own (width, height): boxes are in its pixels


def classify_file(name: str, data: bytes, top_k: int = 3, box=None) -> FileResult:
    """Classify one uploaded file (inside box, if given); a bad file gives a FileResult with its error, never an exception.
    The file is decoded once: the same image is classified, then shrunk in place for the pictures."""
    try:
        image = decode_file(data)
        result, model_input, _ = classify(image, top_k=top_k, box=box)
    except InvalidImageError as error:
        return FileResult(name, error=str(error))
    photo_size = full_size(image)  # boxes are in the photo's own pixels, however it was decoded
    image.thumbnail((MARK_SIDE, MARK_SIDE))
    thumbnail = image.convert("RGB")
    thumbnail.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    if result["garment_box"] is not None:  # where the garment was found on a photo of a person
        left, top, width, height = (value * thumbnail.width / photo_size[0] for value in result["garment_box"])
        ImageDraw.Draw(thumbnail).rectangle((left, top, left + width, top + height), outline=BOX_COLOUR, width=3)
    return FileResult(name, result, model_input, thumbnail, photo=image, photo_size=photo_size)


@st.cache_data(max_entries=CACHED_FILES, show_spinner=False)
def classified_file(name: str, data: bytes, *, box) -> FileResult:
    """classify_file, remembered per file and box: each rerun of the page (a dragged box included) classifies
    only what it has not seen, and a file is decoded once."""
    return classify_file(name, data, box=box)


def results_table(file_results: list[FileResult]) -> pd.DataFrame:
    """One row per file: its prediction, confidence, whether the model is unsure, and runners-up, or its error."""
    rows = []
    for file_result in file_results:
        # Blank text where there is nothing to say: the table and the CSV show "", not "None".
        row = {"file": file_result.name, "prediction": "", "confidence": None, "unsure": "", "second": "", "third": ""}
        if file_result.result is not None:
            top_k = file_result.result["top_k"]
            row |= {"prediction": top_k[0]["label"], "confidence": top_k[0]["probability"]}
            row["unsure"] = UNSURE_WORDS[file_result.result["unsure_reason"]]
            row |= {column: f"{entry['label']} ({entry['probability']:.1%})" for column, entry in zip(("second", "third"), top_k[1:3])}
        row["error"] = file_result.error or ""
        rows.append(row)
    return pd.DataFrame(rows, columns=["file", "prediction", "confidence", "unsure", "second", "third", "error"])


def results_html(table: pd.DataFrame) -> str:
    """The results as a plain HTML table with column and row headers (the file names), which a screen reader
    reads cell by cell, in a region that scrolls sideways on a phone and takes the keyboard's focus to do so."""
    shown = table.assign(confidence=[f"{value:.1%}" if pd.notna(value) else "" for value in table["confidence"]]).set_index("file")
    return (
        '<div role="region" aria-label="All results" tabindex="0" style="overflow-x: auto">'
        f"{shown.to_html(border=0, index_names=False)}</div>"
    )
