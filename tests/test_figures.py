"""ui.figures: pictures and tables as one block of HTML for st.html."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from cnn.render import png_data_url
from ui.figures import Figure, figure_html, figures_html, table_html


def decoded(data_url: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix) :]))))


def test_a_picture_travels_as_a_lossless_png():
    rng = np.random.default_rng(0)
    for picture in (rng.integers(0, 256, (28, 40), dtype=np.uint8), rng.integers(0, 256, (12, 9, 3), dtype=np.uint8)):
        np.testing.assert_array_equal(decoded(png_data_url(picture)), picture)


def test_only_uint8_pictures_are_accepted():
    with pytest.raises(ValueError, match="uint8"):
        png_data_url(np.zeros((4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="uint8"):
        png_data_url(np.zeros(4, dtype=np.uint8))


def test_a_figure_has_its_title_pictures_alt_text_and_caption_escaped():
    pictures = (np.zeros((10, 20, 3), dtype=np.uint8), np.full((2, 20, 3), 255, dtype=np.uint8))
    markup = figure_html(Figure("Where <it> looks", pictures, alt='a "heat" map', caption="line one & more\nline two"))
    assert "<strong>Where &lt;it&gt; looks</strong>" in markup
    images = re.findall(r'<img src="([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]*)">', markup)
    assert [(width, height) for _, width, height, _ in images] == [("20", "10"), ("20", "2")]
    assert {alt for *_, alt in images} == {"a &quot;heat&quot; map"}
    np.testing.assert_array_equal(decoded(images[1][0]), pictures[1])
    assert "<figcaption>line one &amp; more<br>line two</figcaption>" in markup


def test_a_table_and_rows_of_figures():
    table = table_html("Other networks", ["network", "answer"], [["MLP", "Bag (not sure)"], ["CNN", "T-shirt/top"]], caption="")
    assert re.findall(r"<td>([^<]*)</td>", table) == ["MLP", "Bag (not sure)", "CNN", "T-shirt/top"]
    assert "<figcaption>" not in table
    block = figures_html(["<figure>a</figure>", "<figure>b</figure>"], [table])
    assert block.startswith("<style>") and block.count('<div class="figures">') == 2
    assert block.index("<figure>b</figure>") < block.index("Other networks")
