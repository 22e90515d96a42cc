"""Playground: change the network, train it here and watch it learn; then draw against it.

The knobs and presets build a Settings (cnn/playground.py); Train queues a run on the server's one
trainer, and a fragment polls its progress every second while it trains, so the rest of the page (and
every other session) stays responsive. The finished network goes to the Draw and Feature maps pages for
this session, and downloads as a .keras file with a JSON of its settings and scores.
"""

import json

import pandas as pd
import streamlit as st

from cnn.data import DatasetError, download_fashion_mnist
from cnn.playground import DEFAULT_PRESET, ENDED, FAILED, KERNEL_SIZES, OPTIMIZERS, PRESETS, QUEUED, STOPPED, TRAINING, Run, probe_indices
from ui import playground as ui
from ui.figures import Figure, figure_html, figures_html
from ui.layout import page_header, stop_with_error
from ui.training import confusion_chart

page_header(
    "app_pages/playground.py",
    "Change the network, press **Train** and watch it learn, live: the loss and accuracy curves, the first "
    "layer's filters and what they see, the guesses on a few test images. Then draw against your own network "
    "on the Draw page. Start with a preset: each says what to watch for.",
)
trainer = ui.get_trainer()
trainer.start()  # the framework loads in the background while the knobs are set
try:
    pool = trainer.pool()
except DatasetError as error:
    stop_with_error(str(error))


def offer_full_dataset() -> None:
    """Where only the shipped subset is here: the official files, downloaded once with a progress bar."""
    with st.expander("Train on all 60,000 images: download the full Fashion-MNIST (30 MB, once)", icon=":material/download:"):
        st.caption("From Zalando's published files; each is checked against its known checksum before it is kept.")
        if st.button("Download the full set", key="playground_download", icon=":material/cloud_download:"):
            bar = st.progress(0.0, text="Downloading Fashion-MNIST...")
            try:
                download_fashion_mnist(lambda done: bar.progress(done, text=f"Downloading Fashion-MNIST... {done:.0%}"))
            except DatasetError as error:
                st.error(str(error), icon=":material/error:")
                return
            trainer.forget_pool()
            st.rerun()


st.caption(f"Training images: {pool.source}. Validation: {len(pool.y_validation):,} and test: {len(pool.y_test):,} official test images.")
if not pool.full:
    offer_full_dataset()

# ---------------------------------------------------------------------------------------
# Presets and knobs: every knob's value lives in the session state, a preset sets them all.

if ui.KNOB.format("epochs") not in st.session_state:
    ui.apply_settings(PRESETS[DEFAULT_PRESET].settings)
    st.session_state["playground_preset"] = DEFAULT_PRESET


def apply_preset() -> None:
    preset = st.session_state.get("playground_preset")
    if preset in PRESETS:
        ui.apply_settings(PRESETS[preset].settings)


preset = st.segmented_control("Preset", list(PRESETS), key="playground_preset", on_change=apply_preset)
if preset in PRESETS:
    st.info(f"**What to watch for:** {PRESETS[preset].watch}", icon=":material/visibility:")

largest = len(pool.y_train)
image_counts = sorted({count for count in (500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000) if count <= largest} | {largest})
if st.session_state[ui.KNOB.format("images")] not in image_counts:
    st.session_state[ui.KNOB.format("images")] = max(count for count in image_counts if count <= st.session_state[ui.KNOB.format("images")])

knobs_column, live_column = st.columns([2, 3], gap="large")
with knobs_column.expander("The network", icon=":material/account_tree:", expanded=True):
    st.slider("Conv blocks (0 is an MLP)", 0, 3, key=ui.KNOB.format("conv_blocks"))
    st.select_slider("Filters in the first block (doubled in each next one)", [4, 8, 16, 32, 64], key=ui.KNOB.format("filters"))
    st.select_slider("Kernel size", KERNEL_SIZES, key=ui.KNOB.format("kernel_size"), format_func=lambda size: f"{size}x{size}")
    pooling_column, norm_column = st.columns(2)
    pooling_column.toggle("Max-pooling", key=ui.KNOB.format("pooling"))
    norm_column.toggle("BatchNorm", key=ui.KNOB.format("batch_norm"))
    st.select_slider("Dense layer before the answer (units)", [0, 32, 64, 128, 256], key=ui.KNOB.format("dense_units"))
    st.slider("Dropout", 0.0, 0.5, step=0.1, key=ui.KNOB.format("dropout"))
with knobs_column.expander("The training", icon=":material/tune:", expanded=True):
    st.select_slider("Training images", image_counts, key=ui.KNOB.format("images"), format_func=lambda count: f"{count:,}")
    st.slider("Epochs", 1, 30, key=ui.KNOB.format("epochs"))
    st.select_slider("Batch size", [16, 32, 64, 128, 256], key=ui.KNOB.format("batch_size"))
    optimizer_column, rate_column = st.columns(2)
    optimizer_column.selectbox(
        "Optimizer",
        OPTIMIZERS,
        key=ui.KNOB.format("optimizer"),
        format_func=lambda name: {"sgd": "SGD", "rmsprop": "RMSprop"}.get(name, name.capitalize()),
    )
    rate_column.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0], key=ui.KNOB.format("learning_rate"),
                              format_func=lambda rate: f"{rate:g}")  # fmt: skip
    st.toggle("Data augmentation (random flips and shifts)", key=ui.KNOB.format("augment"))

try:
    settings = ui.knob_settings().checked()
except ValueError as error:
    live_column.error(str(error), icon=":material/error:")
    st.stop()

# ---------------------------------------------------------------------------------------
# Train, and the live view while it runs.

run: Run | None = st.session_state.get(ui.RUN)
running = run is not None and not run.ended


def start_run() -> None:
    st.session_state[ui.RUN] = trainer.submit(ui.knob_settings())


FRAMEWORK_LOADING = (
    "Loading Keras and JAX for the Playground: about 10 s, on a new server or after 10 minutes without anyone training. "
    "Train now and the run starts when they are ready."
)


@st.fragment(run_every=1.0)
def framework_loading() -> None:
    """Shown while the training process imports and warms up the framework; gone with a rerun once it is ready."""
    trainer.start()  # an open page keeps it wanted
    if trainer.ready.is_set():
        st.rerun()
    st.caption(FRAMEWORK_LOADING)


with live_column:
    st.markdown(f"**The network:** {settings.describe()}.")
    st.button("Train", key="playground_train", type="primary", icon=":material/play_arrow:", disabled=running, on_click=start_run)
    if not running and not trainer.ready.is_set():
        framework_loading()


def show_progress(progress) -> None:
    """The live view of one run: status line, curves, filters and maps, the probes' guesses."""
    if progress.state == QUEUED and not trainer.ready.is_set():
        st.info(FRAMEWORK_LOADING, icon=":material/hourglass_top:")
        return
    if progress.state == QUEUED:
        st.info(f"Waiting for the trainer: {progress.queue_position} run{'s' * (progress.queue_position > 1)} ahead of yours "
                "(one run trains at a time on this server).", icon=":material/hourglass_top:")  # fmt: skip
        return
    status = [f"Epoch {progress.epoch} of {progress.epochs}"]
    if progress.validation_accuracy is not None:
        status.append(f"Validation accuracy: {progress.validation_accuracy:.1%}")
    if progress.images_per_second:
        status.append(f"{progress.images_per_second:,.0f} images/s")
    status.append(f"{progress.elapsed_seconds:.0f} s elapsed")
    if progress.remaining_seconds is not None and progress.state == TRAINING:
        status.append(f"about {progress.remaining_seconds:.0f} s left")
    if progress.state == TRAINING and not progress.training_curve:
        status.append("compiling the network")
    st.markdown(" · ".join(status))
    if progress.warning and progress.state == TRAINING:
        st.warning(progress.warning, icon=":material/timer:")
    for metric in ("accuracy", "loss"):
        points = pd.DataFrame(ui.curve_points(progress, metric), columns=ui.CURVE_COLUMNS)
        st.vega_lite_chart(points, ui.curve_chart(metric), width="stretch", height=ui.CURVE_CHART_HEIGHT)
    figures = []
    if progress.filters is not None:
        count = progress.filters.shape[-1]
        figures.append(Figure("The first layer's filters", (ui.filter_picture(progress.filters),),
                              alt=f"The {count} filters of the first conv layer as grey tiles",
                              caption="Each tile a kernel: white pushes the output up, black down."))  # fmt: skip
        figures.append(Figure("What they see in a test image", (ui.feature_maps_picture(progress.feature_maps),),
                              alt=f"The first conv layer's {count} feature maps for a T-shirt test image",
                              caption="Their feature maps for the first probe image (a T-shirt)."))  # fmt: skip
    if progress.probe_guesses:
        figures.append(Figure("Its current guesses", (ui.probes_picture(pool.x_test[probe_indices(pool)]),),
                              alt="One test image of each of the first eight classes", caption=ui.probes_caption(progress.probe_guesses)))  # fmt: skip
    if figures:
        st.html(figures_html([figure_html(figure) for figure in figures]))


@st.fragment(run_every=1.0)
def live_view() -> None:
    """Redrawn every second while this session's run trains; a full rerun when it ends shows the results."""
    progress = st.session_state[ui.RUN].snapshot()
    st.button("Stop", key="playground_stop", icon=":material/stop:", on_click=st.session_state[ui.RUN].stop)
    show_progress(progress)
    if progress.state in ENDED:
        st.rerun()


with live_column:
    if running:
        live_view()
    elif run is not None:
        progress = run.snapshot()
        if progress.result is not None:
            st.session_state[ui.TRAINED] = progress.result
        if progress.state == FAILED:
            st.error(progress.message, icon=":material/error:")
        elif progress.state == STOPPED:
            st.warning(progress.message, icon=":material/stop_circle:")
        show_progress(progress)

# ---------------------------------------------------------------------------------------
# The result: scores beside the shipped models, the confusion matrix, use it and download it.

trained = ui.trained_model()
if trained is not None and not running:
    st.header("Your network", divider="gray")
    scores = trained.scores
    test_column, validation_column, time_column, size_column = st.columns(4)
    test_column.metric("Test accuracy", f"{scores['test_accuracy']:.1%}")
    validation_column.metric("Validation accuracy", f"{scores['validation_accuracy']:.1%}")
    time_column.metric("Training time", f"{scores['seconds']:.0f} s", f"{scores['images_per_second']:,} images/s", delta_color="off")
    size_column.metric("Weights", f"{scores['parameters']:,}")
    st.caption(f"{trained.settings.describe()}; {scores['epochs_run']:g} epochs on {scores['training_images']}; {scores['framework']}.")
    matrix_column, compare_column = st.columns([3, 2], gap="large")
    with matrix_column:
        st.markdown(f"**Confusion matrix** on the {scores['test_images']:,} test images")
        st.vega_lite_chart(confusion_chart(trained.confusion.tolist(), normalise=False), width="stretch")
    with compare_column:
        st.markdown("**Beside the shipped models**, on the same test images")
        shipped = ui.shipped_accuracies(pool.source, pool.x_test, pool.y_test)
        rows = [{"network": "Your Playground network", "test accuracy": f"{scores['test_accuracy']:.1%}"}]
        rows += [{"network": name, "test accuracy": f"{accuracy:.1%}"} for name, accuracy in shipped.items()]
        st.table(rows)
        ui.own_model_switch("playground_own_model", "Use my network on the Draw and Feature maps pages")
        st.page_link("app_pages/draw.py", label="Draw against it", icon=":material/draw:")
        st.download_button("Download the model (.keras)", trained.keras_file, "playground.keras", "application/octet-stream",
                           key="playground_download_keras", on_click="ignore", icon=":material/download:")  # fmt: skip
        st.download_button("Download its settings and scores (.json)", json.dumps(trained.card(), indent=2), "playground.json",
                           "application/json", key="playground_download_card", on_click="ignore", icon=":material/download:")  # fmt: skip
