"""Training: learning curves, confusion matrix, per-class scores, mistakes, baselines, robustness, speed."""

import numpy as np
import streamlit as st

from cnn.config import CLASS_NAMES
from cnn.evaluate import misclassified_indices
from cnn.registry import MODEL_NAMES
from cnn.render import upscale
from ui import training
from ui.figures import Figure, figure_html, figures_html
from ui.layout import page_header, stop_with_error
from ui.loaders import (
    SAMPLE_NAME,
    load_benchmark,
    load_history,
    load_robustness,
    load_sample,
    load_test_set,
    model_label,
    required_metrics,
    trained_models,
)
from ui.prediction import share_column

GALLERY_SIZE = 24
GALLERY_SCALE = 4
ALL_CLASSES = "All classes"

page_header(
    "app_pages/training.py",
    "How the network learnt and how well it does, from the files training wrote: the loss and accuracy after "
    "every epoch, the test-set confusion matrix and per-class scores, the test images it gets wrong, and how it "
    "compares with two simpler models.",
)

available = trained_models()
if not available:
    stop_with_error("No trained model with a metrics file in assets/. Train one: `python -m cnn.train --model cnn`.")
model_name = st.selectbox("Model", available, format_func=model_label, key="training_model")
metrics = required_metrics(model_name)

# ---- Learning curves.
st.header("Learning curves")
history = load_history(model_name)
if history is None:
    st.info(f"No training history for {model_name} in assets/.", icon=":material/info:")
else:
    loss_column, accuracy_column = st.columns(2, gap="large")
    loss_column.vega_lite_chart(training.history_chart(history, "loss", metrics.get("best_epoch")), width="stretch")
    accuracy_column.vega_lite_chart(training.history_chart(history, "accuracy", metrics.get("best_epoch")), width="stretch")
    st.caption(
        training.history_summary(history, "accuracy", metrics.get("best_epoch")) + " "
        f"{len(history['loss'])} epochs on {metrics['train_size']:,} training images, checked on {metrics['val_size']:,} "
        f"held-out validation images after each one. The dashed line marks epoch {metrics['best_epoch']}, whose "
        "weights were kept. Training loss far below validation loss would mean the network memorises instead of "
        "generalising; training accuracy is measured with dropout on (and, for the CNN, on augmented images), "
        "so it can sit below validation accuracy."
    )

# ---- Test-set scores.
st.header("Confusion matrix")
st.markdown(
    f"Each row is a true class, each column what the network answered, over the {metrics['test_size']:,} test "
    f"images. Test accuracy: **{metrics['test_accuracy']:.2%}**, macro F1: **{metrics['macro_f1']:.3f}**."
)
normalise = st.toggle("Show row percentages (recall) instead of counts", key="training_normalise")
matrix = np.asarray(metrics["confusion_matrix"])
matrix_column, table_column = st.columns([3, 2], gap="large")
with matrix_column:
    st.vega_lite_chart(training.confusion_chart(metrics["confusion_matrix"], normalise), width="stretch")
    off_diagonal = matrix * (1 - np.eye(len(CLASS_NAMES), dtype=matrix.dtype))
    worst = np.dstack(np.unravel_index(np.argsort(-off_diagonal, axis=None)[:3], matrix.shape))[0]
    st.caption(
        "Most frequent mistakes: "
        + "; ".join(f"{CLASS_NAMES[t]} taken for {CLASS_NAMES[p]} ({off_diagonal[t, p]})" for t, p in worst)
        + "."
    )
with table_column:
    st.markdown("**Per-class scores**")
    st.dataframe(
        training.per_class_table(metrics),
        hide_index=True,
        width="stretch",
        height=400,
        column_config={
            "precision": st.column_config.NumberColumn("precision", format="%.3f"),
            "recall": st.column_config.NumberColumn("recall", format="%.3f"),
            "f1": st.column_config.ProgressColumn("F1", format="%.3f", min_value=0.0, max_value=1.0),
        },
    )
    st.caption(
        "Precision: of the images called this class, the share that were. Recall: of the images of this class, "
        "the share found. F1: their harmonic mean."
    )

# ---- Mistakes.
st.header("Mistakes")
images, labels, test_set_name = load_test_set()
class_filter = st.selectbox("True class", [ALL_CLASSES, *CLASS_NAMES], key="training_mistake_class")
true_class = None if class_filter == ALL_CLASSES else CLASS_NAMES.index(class_filter)
if len(images) == metrics["test_size"] and "test_mistakes" in metrics:
    # The full test set: its mistakes were listed by the training command, most confident first.
    mistakes = [(index, predicted, p) for index, predicted, p in metrics["test_mistakes"] if true_class in (None, labels[index])]
else:
    # Without the full test set (Community Cloud) or its listed mistakes: the shipped sample, scored here.
    images, labels = load_sample()
    test_set_name = SAMPLE_NAME.format(count=len(images))
    probabilities = training.sample_probabilities(model_name)
    wrong = misclassified_indices(labels, probabilities, true_class)
    mistakes = [(index, int(probabilities[index].argmax()), float(probabilities[index].max())) for index in wrong]
st.caption(
    f"{len(mistakes):,} mistakes on {test_set_name}; the {min(GALLERY_SIZE, len(mistakes))} the network was most "
    "sure about are shown. Some are arguably mislabelled: Fashion-MNIST's labels are not perfect."
)
# One block of figures, not 24 image elements: the page's first visit draws and fetches far less.
st.html(figures_html([
    figure_html(Figure("", (upscale(images[index], GALLERY_SCALE),), alt=f"A test image of a {CLASS_NAMES[labels[index]]}",
                       caption=f"{CLASS_NAMES[labels[index]]} → {CLASS_NAMES[predicted]} ({probability:.0%})"))
    for index, predicted, probability in mistakes[:GALLERY_SIZE]
], gallery=True))  # fmt: skip
st.caption("Caption: true class → predicted class (the network's confidence).")

# ---- The CNN beside simpler models.
st.header("CNN vs simpler models")
comparison = training.comparison_table()
st.dataframe(
    comparison,
    hide_index=True,
    width="stretch",
    column_config={
        "test accuracy": share_column("test accuracy"),
        "macro F1": st.column_config.NumberColumn("macro F1", format="%.3f"),
        "parameters": st.column_config.NumberColumn("parameters", format="localized"),
        "Keras file (MB)": st.column_config.NumberColumn("Keras file (MB)", format="%.2f"),
        "served file (MB)": st.column_config.NumberColumn("served file (MB)", format="%.2f"),
        "latency (ms)": st.column_config.NumberColumn("latency (ms)", format="%.2f"),
    },
)
missing = [name for name in MODEL_NAMES if name not in available]
if missing:
    st.info(
        f"No trained {', '.join(model_label(name) for name in missing)} in assets/ yet: "
        + "; ".join(f"`python -m cnn.train --model {name} --out assets/`" for name in missing)
        + ".",
        icon=":material/info:",
    )
st.caption(
    "Baseline CNN: two small conv layers. MLP: no convolutions at all, every pixel wired to every unit. "
    "Latency: the median predict() call on a single 28x28 test image, preprocessing included, as the benchmark "
    "measured it (`python -m bench.speed`). " + (training.benchmark_note() or "")
)

# ---- Robustness.
st.header("Robustness to real inputs")
robustness = load_robustness()
if robustness is None:
    st.info(
        "No robustness report in assets/ yet. `python -m bench.robustness` writes one: accuracy on test images "
        "rendered as product photos, transparent cut-outs and mouse sketches.",
        icon=":material/info:",
    )
else:
    st.markdown(
        f"{robustness['count']:,} test images re-rendered the way users send them, classified through the app's own "
        f"preprocessing. The model itself, fed the clean images directly, gets **{robustness['model_accuracy']:.2%}** "
        f"of them right; through predict(): **{robustness['clean_accuracy']:.2%}**."
    )
    st.dataframe(
        [
            {
                "name": entry["name"],
                "description": entry["description"],
                "accuracy": entry["accuracy"],
                "wrong flagged unsure": entry.get("wrong_flagged"),
                "right flagged unsure": entry.get("right_flagged"),
                # Only drawings have a sketch path to compare with: blank for the other sets.
                "without the sketch path": f"{entry['accuracy_without_sketch_path']:.1%}"
                if "accuracy_without_sketch_path" in entry
                else "",
            }
            for entry in robustness["sets"]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "accuracy": share_column("accuracy"),
            "wrong flagged unsure": st.column_config.NumberColumn("wrong flagged unsure", format="percent"),
            "right flagged unsure": st.column_config.NumberColumn("right flagged unsure", format="percent"),
        },
    )
    real = robustness.get("real_doodles")
    if real:
        known, never = real["known_overall"], real["out_of_scope_overall"]
        st.markdown(
            "**Real doodles by members of the public** (Quick, Draw! by Google, CC BY 4.0: "
            "[quickdraw.withgoogle.com/data](https://quickdraw.withgoogle.com/data)), sent through the Draw page's path. "
            "No one on this project drew or chose them; the drawing model trained on a fixed half of each category (the "
            "socks, hats and bow ties as none of the ten), and these figures are the other half only. "
            f"Top-1 **{known['top1']:.1%}**, top-3 {known['top3']:.1%}; "
            f'{known["right_flagged"]:.0%} of the right answers flagged "not sure". Of {never["count"]:,} drawings of things '
            f"that are none of the ten (socks, hats, bow ties), **{never['flagged']:.0%}** are flagged instead of named."
        )
        rows = [{"drawings": name, "count": entry["count"], "top-1": entry["top1"], "top-3": entry["top3"],
                 "right flagged unsure": entry["right_flagged"], "flagged (none of the ten)": None}
                for name, entry in real["known"].items()]  # fmt: skip
        rows += [{"drawings": f"{name} (none of the ten)", "count": entry["count"], "top-1": None, "top-3": None,
                  "right flagged unsure": None, "flagged (none of the ten)": entry["flagged"]}
                 for name, entry in real["out_of_scope"].items()]  # fmt: skip
        st.dataframe(rows, hide_index=True, width="stretch", column_config={
            name: st.column_config.NumberColumn(name, format="percent") for name in ("top-1", "top-3", "right flagged unsure", "flagged (none of the ten)")
        })  # fmt: skip
    doodles = robustness.get("doodles")
    if doodles:
        st.markdown(
            "**Synthetic doodle benchmark.** Stroke templates written by this project, several styles per item, drawn by "
            "their own hand model and sent through the Draw page's path: not made by the generators the drawing model "
            "trained on, but by the same hands, so it measures the project's idea of a doodle; the real doodles above "
            f"are the check that matters. Top-1 **{doodles['overall']['top1']:.1%}**, top-3 {doodles['overall']['top3']:.1%}; "
            f"{doodles['overall']['wrong_flagged']:.0%} of the wrong answers and {doodles['overall']['right_flagged']:.0%} "
            'of the right ones are flagged "not sure"; a shoe or flip flop counts right as any footwear.'
        )
        st.dataframe(
            [
                {"item": name, **{key: entry[key] for key in ("count", "top1", "top3", "wrong_flagged", "right_flagged")}}
                for name, entry in doodles["per_category"].items()
            ],  # fmt: skip
            hide_index=True,
            width="stretch",
            column_config={
                "top1": share_column("top-1"),
                "top3": st.column_config.NumberColumn("top-3", format="percent"),
                "wrong_flagged": st.column_config.NumberColumn("wrong flagged unsure", format="percent"),
                "right_flagged": st.column_config.NumberColumn("right flagged unsure", format="percent"),
            },
        )
    # Plain tables for the targets: text only, read top to bottom, and lighter to draw than data grids.
    st.table(training.targets_table(robustness["targets"]), border="horizontal", hide_index=True)
    st.caption(
        f"Measured by `{robustness['command']}`. Drawings go through the Draw page's sketch path, which evens out "
        "the pen's width; the column beside shows the same drawings through the photo path."
    )


# ---- Speed and memory.
def sessions_note(benchmark: dict) -> str:
    sessions = benchmark.get("app", {}).get("sessions")
    if not sessions:
        return ""
    return (
        f" With {sessions['sessions']} browser sessions drawing at once, the browsers share the machine's cores with "
        f"the server: of the {sessions['prediction_ms']['p50']:.0f} ms p50 (p99 {sessions['prediction_ms']['p99']:.0f} ms), "
        f"{sessions['browser_ms']['p50']:.0f} ms is the browser's own work before its message leaves."
    )


st.header("Speed and memory")
benchmark = load_benchmark()
if benchmark is None or "targets" not in benchmark:
    st.info("No benchmark in assets/ yet: `python -m bench.speed` measures speed, start-up, page times and memory.", icon=":material/info:")
else:
    st.table(training.targets_table(benchmark["targets"]), border="horizontal", hide_index=True)
    machine = benchmark["machine"]
    png_bound = benchmark["batch"]["png_bound_fraction_of_raw"]["decode_image"]
    st.caption(
        f"Measured by `{benchmark['command'].strip()}` on {benchmark['date'][:10]}: {machine['cpu_model']}, "
        f"{machine['cores']} CPU cores, no GPU. The seeds' path is theirs (PIL grey, squash to 28x28, "
        "model.predict) on this model; stroke to prediction runs in Chromium from the pen lifting off the Draw "
        f"page's canvas to the answer on screen. A batch of PNGs that were only decoded (with the checks every "
        f"upload needs) while the model ran would reach {png_bound:.2f} of the raw model." + sessions_note(benchmark)
    )
