"""Fashion-MNIST convolutional network: data, models, training, inference and explanations.

This package never imports Streamlit: the Streamlit pages, the Flask server and the
command-line tools are thin adapters over the functions here. Submodules are imported
directly (`from cnn.predict import predict`) so that light ones stay free of TensorFlow.
"""

__version__ = "1.1.0"  # pyproject.toml reads it; /health reports it
