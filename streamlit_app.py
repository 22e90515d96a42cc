"""The app's entry point: `streamlit run streamlit_app.py`. A router only: every page, Home included,
is a script in app_pages/, listed once in ui.layout.PAGES with its title, icon and URL.

The folder is not called pages/: Streamlit scans a folder of that name for its older multipage mode,
and then answers a direct visit of /Draw with a "Page not found" dialog over the page."""

import streamlit as st

from ui.layout import APP_ICON, APP_TITLE, PAGES
from ui.loaders import sidebar_model_note

st.set_page_config(page_title=APP_TITLE, page_icon=APP_ICON, layout="wide")
navigation = st.navigation(
    [st.Page(page.file, title=page.title, icon=page.icon, url_path=page.url_path, default=not page.url_path) for page in PAGES]
)
sidebar_model_note()
navigation.run()
