"""Home: what this app is, where to start, and the model cards from the shipped metrics files."""

import pandas as pd
import streamlit as st

from cnn.config import DEFAULT_MODEL
from cnn.registry import DRAWING_MODEL
from ui.layout import HOME, PAGES, page_header
from ui.loaders import load_metrics, model_label, require_model, required_metrics

page_header(
    HOME.file,
    "A convolutional neural network that tells ten kinds of clothing apart, and lets you look inside it. "
    "It was trained on [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist): 70,000 small "
    "greyscale product photos from Zalando, 28x28 pixels each. Draw an item or upload a photo and watch "
    "the prediction, the 28x28 image the network really sees, what each layer responds to and where it "
    "looks when it decides. Every number on this page comes from the model's own metrics file.",
)

metrics = required_metrics(DEFAULT_MODEL)

st.header("Try it")
other_pages = [page for page in PAGES if page is not HOME]
link_columns = st.columns(len(other_pages))
for column, page in zip(link_columns, other_pages):
    with column.container(border=True, height="stretch"):
        st.page_link(page.file, label=page.title, icon=page.icon)
        st.caption(page.purpose)

st.header("Model card")
st.caption(
    f"The `{metrics['model']}` model as shipped in assets/, evaluated once on the "
    f"{metrics['test_size']:,} images of the official test set, which training never saw."
)
score_columns = st.columns(4)
score_columns[0].metric("Test accuracy", f"{metrics['test_accuracy']:.2%}", border=True)
score_columns[1].metric("Macro precision", f"{metrics['macro_precision']:.3f}", border=True)
score_columns[2].metric("Macro recall", f"{metrics['macro_recall']:.3f}", border=True)
score_columns[3].metric("Macro F1", f"{metrics['macro_f1']:.3f}", border=True)

epochs = f"{metrics['epochs_run']} of {metrics['epochs']} (weights of epoch {metrics['best_epoch']} kept)"
details = {
    "Training / validation / test images": f"{metrics['train_size']:,} / {metrics['val_size']:,} / {metrics['test_size']:,}",
    "Parameters": f"{metrics['parameters']:,}",
    "Model file (Keras)": f"{metrics['model_file_bytes'] / 1e6:.2f} MB",
    "Served as": f"{metrics['serving']} ({metrics['serving_file_bytes'] / 1e6:.2f} MB)",
    "Test accuracy of the Keras model alone": f"{metrics['single_pass_test_accuracy']:.2%}",
    "Optimizer": metrics["optimizer"],
    "Loss function": metrics["loss_function"],
    "Augmentation": metrics["augmentation"],
    "Epochs": epochs,
    "Batch size": f"{metrics['batch_size']}",
    f"Training loss / accuracy at epoch {metrics['best_epoch']} (kept)": f"{metrics['best_train_loss']:.4f} / {metrics['best_train_accuracy']:.2%}",
    f"Validation loss / accuracy at epoch {metrics['best_epoch']} (kept)": f"{metrics['best_val_loss']:.4f} / {metrics['best_val_accuracy']:.2%}",
    "Validation accuracy at the last epoch": f"{metrics['final_val_accuracy']:.2%}",
    "Test loss": f"{metrics['test_loss']:.4f}",
    "Training time": f"{metrics['training_seconds'] / 60:.1f} min on CPU",
}
card_column, use_column = st.columns([3, 2], gap="large")
with card_column:
    st.table(pd.DataFrame({"Item": list(details), "Value": list(details.values())}), hide_index=True, border="horizontal")
    exported = f", then `{metrics['export_command']}`" if metrics.get("export_command") else ""
    st.caption(f"Reproduce: `{metrics['command']}`{exported}")
with use_column:
    st.markdown(
        "**Intended use.** Teaching and demos: how a CNN turns pixels into a decision.\n\n"
        "**Classes.** " + ", ".join(metrics["per_class"]) + ".\n\n"
        "**Limits.** The network learnt from small, centred, greyscale studio photos of single items on a plain "
        "background. Drawings go to a second network that also learnt from doodles; on a busy photo the item is "
        "cut out first, and a box drawn around it helps more (a person wearing it, a patterned floor). Several "
        "items, or anything that is not one of the ten classes, remain outside what it learnt: it will still name "
        'one of the ten classes. The app says "not sure" when its calibrated confidence is low, and always shows '
        "the exact image the network received."
    )

drawing_metrics = load_metrics(DRAWING_MODEL)
if drawing_metrics is not None:
    st.header("The drawing model")
    st.markdown(
        f"The Draw page runs a second network, the **{model_label(DRAWING_MODEL)}**: the same architecture, "
        f"trained on {drawing_metrics['training_data']}. People draw iconic shapes (a T with long sleeves for a "
        "sweater, a sole with a V strap for a flip flop) that no studio photo looks like. It still scores "
        f"**{drawing_metrics['test_accuracy']:.2%}** on the clean test set; on drawings it is measured on the Training page."
    )
    drawing_epochs = (
        f"{drawing_metrics['epochs_run']} of {drawing_metrics['epochs']} (weights of epoch {drawing_metrics['best_epoch']} kept)"
    )
    st.caption(f"Reproduce: `{drawing_metrics['command']}`. Epochs: {drawing_epochs}.")

st.header("Not sure")
rule = metrics.get("unsure_rule")
if rule:
    st.markdown(
        "Every answer carries an honest **not sure** flag. The probabilities are calibrated by temperature "
        f"scaling (T = {rule['temperature']:.2f} for the CNN, fitted on {rule['held_out']}), and an answer whose "
        f'calibrated top probability is below {rule["unsure_below"]:.0%} is shown as "Not sure: maybe A, B or C?" '
        "instead of one confident label. The Training page measures how often the flag catches wrong answers."
    )
if rule and rule.get("unlike_above") is not None:
    st.markdown(
        "**Not one of my ten.** The probabilities always add up to 100%, so a hat would still get a confident label. "
        "So the network also checks how far the input lies, in its own embedding (the layer before the answer), from "
        "what it learnt from: farther from its nearest training examples than all but 5% of held-out images and it "
        'says "This doesn\'t look like any of the ten items I know" (Sun et al., 2022, *Out-of-Distribution Detection '
        "with Deep Nearest Neighbors*). The drawing model also learnt from doodles of things that are none of the ten "
        "(outlier exposure), so such drawings land far from everything else. On the Training page: how many real "
        "drawings of socks, hats and bow ties it flags."
    )

# Load the shared model last, once the card is on screen: the first drawing is then answered at once.
require_model()
