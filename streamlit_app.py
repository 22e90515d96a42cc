"""Home: what this app is, where to start, and the model card from the shipped metrics file.

Run with `streamlit run streamlit_app.py`; the other pages live in pages/.
"""

import pandas as pd
import streamlit as st

import app_ui
from cnn.config import DEFAULT_MODEL

app_ui.page_header(
    "Fashion-MNIST CNN",
    ":material/checkroom:",
    "A convolutional neural network that tells ten kinds of clothing apart, and lets you look inside it. "
    "It was trained on [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist): 70,000 small "
    "greyscale product photos from Zalando, 28x28 pixels each. Draw an item or upload a photo and watch "
    "the prediction, the 28x28 image the network really sees, what each layer responds to and where it "
    "looks when it decides. Every number on this page comes from the model's own metrics file.",
)

metrics = app_ui.required_metrics(DEFAULT_MODEL)

st.subheader("Try it")
link_columns = st.columns(len(app_ui.PAGES))
for column, (page, label, icon, purpose) in zip(link_columns, app_ui.PAGES):
    with column.container(border=True, height="stretch"):
        st.page_link(page, label=label, icon=icon)
        st.caption(purpose)

st.subheader("Model card")
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
    "Final training loss / accuracy": f"{metrics['final_train_loss']:.4f} / {metrics['final_train_accuracy']:.2%}",
    "Final validation loss / accuracy": f"{metrics['final_val_loss']:.4f} / {metrics['final_val_accuracy']:.2%}",
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
        "**Limits.** The network only knows small, centred, greyscale studio photos of single items on a plain "
        "background. Drawings, busy photos, several items or anything that is not one of the ten classes are "
        "outside what it learnt: it will still name one of the ten classes, often with confidence. The app "
        "says so when it is unsure, and shows the exact image the network received."
    )

# Load the shared model last, once the card is on screen: the first drawing is then answered at once.
app_ui.require_model()
