"""How every page shows a prediction: a headline that says "not sure" when the model's calibrated rule
does, and the probability bars."""

import html

import streamlit as st

from cnn.calibration import UNLIKE_TRAINING
from cnn.config import CLASS_NAMES
from cnn.registry import DRAWING_MODEL


def headline(result: dict) -> str:
    """'Label', 'Not sure: maybe A, B or C?', or that it is none of the ten: worded once, in cnn.predict."""
    return result["headline"]


def show_prediction(result: dict, show_all: bool = False, unsure_tip: str = "") -> None:
    """Headline label (or an honest 'not sure' with the top three), how sure, then the probability bars."""
    st.html(prediction_html(result, show_all, unsure_tip))


def prediction_html(result: dict, show_all: bool = False, unsure_tip: str = "") -> str:
    """show_prediction()'s answer as one block of HTML, for a page that adds to it before calling st.html."""
    best = result["top_k"][0]
    if result.get("unsure_reason") == UNLIKE_TRAINING:
        note = (
            f"It is far from every {'drawing and ' if result['model'] == DRAWING_MODEL else ''}photo the network learnt from, "
            f"so its closest guess, {best['label']} ({best['probability']:.0%}), is not to be trusted. It knows: {', '.join(CLASS_NAMES)}."
        )
    elif result["unsure"]:
        note = f"Its best guess, {best['label']}, gets only {best['probability']:.0%}: too little to name one class. {unsure_tip}"
    else:
        note = f"{best['probability']:.1%} sure"
    # A live region: a screen reader reads the new answer ("Trouser", "97.0% sure") whenever it changes.
    return (
        f'<div class="prediction-answer" role="status" aria-live="polite" aria-atomic="true">'
        f'<h2 class="prediction-headline">{html.escape(headline(result))}</h2>'
        f'<p class="prediction-note">{html.escape(note.strip())}</p></div>' + probability_bars(result, show_all)
    )


# The answer is redrawn after every canvas stroke, in every session: one block of plain HTML costs the
# browser next to nothing, where a chart library, or a Markdown headline, a caption and the bars as three
# elements, are set up again each time (measured by bench.apps with several sessions drawing at once).
BARS_STYLE = """<style>
.probability-bars { display: grid; grid-template-columns: minmax(5.5em, max-content) 1fr 3.6em; gap: 6px 8px;
                    align-items: center; font-size: 0.9rem; margin: 0.4rem 0 1rem; }
.probability-bars .track { background: #EEF1F6; border-radius: 3px; height: 14px; overflow: hidden; }
.probability-bars .fill { background: #A9B4C2; height: 100%; border-radius: 3px; }
.probability-bars .winner .fill { background: #4C5FD5; }
.probability-bars .value { text-align: right; font-variant-numeric: tabular-nums; }
.prediction-headline { font-size: 1.75rem; font-weight: 700; line-height: 1.25; margin: 0 0 0.25rem; padding: 0; }
.prediction-note { color: #4B5563; font-size: 0.875rem; margin: 0 0 0.5rem; }  /* 7.6:1 on white */
.probability-bars .label.winner, .probability-bars .value.winner { font-weight: 700; }  /* not colour alone */
</style>"""


def probability_rows(result: dict, show_all: bool = False) -> list[tuple[str, float]]:
    """(label, probability) of the top-k classes (or all ten), largest first."""
    if show_all:
        return sorted(result["probabilities"].items(), key=lambda entry: entry[1], reverse=True)
    return [(entry["label"], entry["probability"]) for entry in result["top_k"]]


def probability_bars(result: dict, show_all: bool = False) -> str:
    """HTML: one row per class, its name, a bar and its percentage; the answer's bar highlighted."""
    rows = []
    for label, probability in probability_rows(result, show_all):
        winner = " winner" if label == result["prediction"] else ""
        rows.append(
            f'<span class="label{winner}">{html.escape(label)}</span>'
            f'<span class="track{winner}" role="meter" aria-label="{html.escape(label)}" aria-valuenow="{probability:.4f}" '
            f'aria-valuemin="0" aria-valuemax="1"><span class="fill" style="display:block;width:{100 * probability:.1f}%"></span></span>'
            f'<span class="value{winner}">{probability:.1%}</span>'
        )
    return BARS_STYLE + '<div class="probability-bars">' + "".join(rows) + "</div>"


def share_column(label: str):
    """A table column of shares in 0..1 (accuracy, confidence), drawn as a bar with its percentage."""
    return st.column_config.ProgressColumn(label, format="percent", min_value=0.0, max_value=1.0)
