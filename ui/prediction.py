"""How every page shows a prediction: a headline that says "not sure" when the model's calibrated rule
does, and the probability bars."""

import streamlit as st


def headline(result: dict) -> str:
    """'Label', or for an unsure answer the top three as 'maybe A, B or C?'."""
    if not result["unsure"]:
        return result["prediction"]
    labels = [entry["label"] for entry in result["top_k"][:3]]
    maybe = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
    return f"Not sure: maybe {maybe}?"


def show_prediction(result: dict, show_all: bool = False, unsure_tip: str = "") -> None:
    """Headline label (or an honest 'not sure' with the top three), then the probability bars."""
    best = result["top_k"][0]
    st.markdown(f"### {headline(result)}")
    if result["unsure"]:
        st.caption(f"Its best guess, {best['label']}, gets only {best['probability']:.0%}: too little to name one class. {unsure_tip}")
    else:
        st.caption(f"{best['probability']:.1%} sure")
    chart = probability_chart(result, show_all)
    st.vega_lite_chart(chart, width="stretch", height=chart["height"] + 40)  # + room for the percentage axis


# The probability bars are redrawn on every canvas stroke: a Vega-Lite spec written out is far cheaper
# than the same chart built and validated by Altair.
PROBABILITY_AXES = {
    "y": {"field": "label", "type": "nominal", "sort": "-x", "title": None,
          "axis": {"labelLimit": 120, "labelOverlap": False, "labelFontSize": 12, "minExtent": 80}},
    "x": {"field": "probability", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": None,
          "axis": {"format": "%"}},
    "tooltip": [{"field": "label", "type": "nominal", "title": "Class"},
                {"field": "probability", "type": "quantitative", "format": ".2%"}],
}  # fmt: skip
PROBABILITY_LAYERS = [
    {"mark": {"type": "bar", "cornerRadiusEnd": 3},
     "encoding": PROBABILITY_AXES | {"color": {"condition": {"test": "datum.winner", "value": "#4C5FD5"}, "value": "#A9B4C2"}}},
    {"mark": {"type": "text", "align": "left", "dx": 4}, "encoding": PROBABILITY_AXES | {"text": {"field": "text", "type": "nominal"}}},
]  # fmt: skip


def probability_chart(result: dict, show_all: bool = False) -> dict:
    """Vega-Lite spec: horizontal bars of the top-k classes (or all ten), largest first, the winner highlighted."""
    if show_all:
        entries = sorted(result["probabilities"].items(), key=lambda entry: entry[1], reverse=True)
    else:
        entries = [(entry["label"], entry["probability"]) for entry in result["top_k"]]
    values = [
        {"label": label, "probability": p, "winner": label == result["prediction"], "text": f"{p:.1%}"}
        for label, p in entries
    ]
    return {"data": {"values": values}, "layer": PROBABILITY_LAYERS, "height": 28 * len(values)}


def share_column(label: str):
    """A table column of shares in 0..1 (accuracy, confidence), drawn as a bar with its percentage."""
    return st.column_config.ProgressColumn(label, format="percent", min_value=0.0, max_value=1.0)
