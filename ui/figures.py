"""Pictures with their captions as one block of HTML: the Draw page's live views, the Training page's gallery.

A handful of st.image, st.markdown and st.caption elements are each a React component that the browser
sets up again on every rerun, in every session; one st.html block of plain <figure> elements is drawn
by the browser's HTML engine at once, and its pictures travel inside it as PNG data URLs instead of
being fetched one by one (measured by bench.apps with several sessions drawing at once).
"""

import html
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnn.render import png_data_url

FIGURES_STYLE = """<style>
.figures { display: flex; flex-wrap: wrap; gap: 0.5rem 2.5rem; align-items: flex-start; margin-bottom: 0.5rem; }
.figures.gallery { gap: 1rem 1.25rem; }
.figures figure { margin: 0; max-width: 100%; }
/* Titles and captions wrap at their picture's width instead of widening the figure. */
.figures .title, .figures figcaption { width: 0; min-width: 100%; }
.figures .title { margin: 0 0 0.4rem; }
.figures img { display: block; max-width: 100%; height: auto; image-rendering: pixelated; }
.figures img + img { margin-top: 4px; }
.figures figcaption { color: #4B5563; font-size: 0.875rem; margin-top: 0.35rem; }  /* 7.6:1 on white */
.figures.photos img { image-rendering: auto; }
.figures table { border-collapse: collapse; font-size: 0.9rem; }
.figures th, .figures td { text-align: left; padding: 0.2rem 1.2rem 0.2rem 0; border-bottom: 1px solid #E5E8EF; }
</style>"""


@dataclass(frozen=True)
class Figure:
    """One view: a title above (none if empty), one or more pictures (uint8 (H, W) or (H, W, 3)), a caption below."""

    title: str  # Markdown-free text; **bold** is not interpreted
    pictures: tuple[np.ndarray, ...]
    alt: str  # what the pictures show, for screen readers
    caption: str = ""  # a line break starts a new line


def figure_html(figure: Figure) -> str:
    alt = html.escape(figure.alt, quote=True)
    pictures = "".join(
        f'<img src="{png_data_url(picture)}" width="{picture.shape[1]}" height="{picture.shape[0]}" alt="{alt}">'
        for picture in figure.pictures
    )
    return f"<figure>{title_html(figure.title)}{pictures}{caption_html(figure.caption)}</figure>"


def title_html(title: str) -> str:
    return f'<p class="title"><strong>{html.escape(title)}</strong></p>' if title else ""


def caption_html(caption: str) -> str:
    return f"<figcaption>{html.escape(caption).replace(chr(10), '<br>')}</figcaption>" if caption else ""


def table_html(title: str, header: list[str], rows: list[list[str]], caption: str = "") -> str:
    """A small table as a figure: a title, the rows, a caption."""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<figure>{title_html(title)}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{caption_html(caption)}</figure>"


def figures_html(*rows: list[str], gallery: bool = False, photos: bool = False) -> str:
    """Rows of figures (each the HTML of figure_html or table_html), side by side where the screen is wide
    enough and wrapped where it is not: one string for st.html. A gallery sets its pictures closer; photos
    are smoothed when scaled, where the model's few pixels stay square."""
    row_class = "figures" + (" gallery" if gallery else "") + (" photos" if photos else "")
    return FIGURES_STYLE + "".join(f'<div class="{row_class}">{"".join(row)}</div>' for row in rows)


def show_picture(picture: np.ndarray, alt: str, caption: str = "", title: str = "", photo: bool = False) -> None:
    """One picture (uint8 (H, W) or (H, W, 3)) with its text alternative, which st.image cannot give."""
    st.html(figures_html([figure_html(Figure(title, (picture,), alt, caption))], photos=photo))
