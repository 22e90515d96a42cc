"""The Streamlit app's building blocks: page skeleton and navigation (layout), cached models and files
(loaders), the prediction display (prediction), the drawing canvas (canvas) and the helpers of single
pages, each named after its page (upload, training). Only the app imports this package; it only calls
`cnn`, and `cnn` never imports Streamlit."""
