"""The Upload page's helpers: classify each file on its own, and the results table behind the CSV."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image

from cnn.decode import decode_image
from cnn.predict import InvalidImageError, classify

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
THUMBNAIL_SIZE = 200
UNSURE_WORDS = {None: "no", "low_confidence": "yes: low confidence", "unlike_training": "yes: none of the ten"}


@dataclass
class FileResult:
    """One uploaded file's outcome: a result and its model input, or the reason it failed."""

    name: str
    result: dict | None = None
    model_input: np.ndarray | None = None
    thumbnail: Image.Image | None = None
    error: str | None = None


def classify_file(name: str, data: bytes, top_k: int = 3, box=None) -> FileResult:
    """Classify one uploaded file (inside box, if given); a bad file gives a FileResult with its error, never an exception."""
    try:
        result, model_input, _ = classify(data, top_k=top_k, box=box)
        thumbnail = decode_image(data)  # already validated by classify: safe to decode for display
        thumbnail.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        return FileResult(name, result, model_input, thumbnail)
    except InvalidImageError as error:
        return FileResult(name, error=str(error))


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
