"""digits: the app's frame. Navigation and the current model in the sidebar; the pages are in app_pages/.

The page scripts live in app_pages/, not pages/: Streamlit also discovers a folder named pages/
on its own (its older multipage mode), and a direct link such as /train then ran the page bare,
without this frame and with a second, unlabelled navigation (seen in Chromium).
"""

import streamlit as st

from ui import server, session, share_view, small_screens

server.keep_keras_state_between_runs()

st.set_page_config(
    page_title="digits: teach a computer to read handwriting", page_icon=":material/draw:", layout="wide"
)


HOME = st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)
TRAIN = st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", url_path="train")
EVALUATE = st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/analytics:", url_path="evaluate")
DRAW = st.Page("app_pages/draw.py", title="Draw", icon=":material/draw:", url_path="draw")

page = st.navigation([HOME, TRAIN, EVALUATE, DRAW])
small_screens.fit_small_screens()
session.follow_the_person()
session.model_picker()  # the current model, which the page takes from session.picked_run()
share_view.share_button()
page.run()
