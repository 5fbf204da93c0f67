"""Home: what the app is for, the way through it, and the saved models."""

import streamlit as st

from digits.store import run_summary
from ui import resources, session

st.title("digits", anchor=False)
st.markdown(
    "Teach a computer to read handwritten digits, and watch it learn.\n\n"
    "MNIST is a collection of 70,000 digits written by American students and office workers. "
    "A *neural network* learns from 60,000 of them by example and is then tested on the 10,000 "
    "it has never seen. Here you can:"
)
train, evaluate, draw = st.columns(3)
with train:
    st.subheader("1. Train")
    st.write("Choose a kind of network and how it learns, then watch its mistakes shrink, live.")
    st.page_link("app_pages/train.py", label="Train a model", icon=":material/model_training:")
with evaluate:
    st.subheader("2. Evaluate")
    st.write("See how often it is right on digits it never saw, and exactly which ones fool it.")
    st.page_link("app_pages/evaluate.py", label="Evaluate a model", icon=":material/analytics:")
with draw:
    st.subheader("3. Draw")
    st.write("Draw a digit with your mouse or finger and see what the model reads.")
    st.page_link("app_pages/draw.py", label="Draw a digit", icon=":material/draw:")

st.divider()
st.subheader("Saved models")
runs = resources.store().list()
if not runs:
    st.info("No model has been trained yet. Start on the **Train** page: a first model takes about a minute.")
    st.stop()
current = session.picked_run()
rows = [run_summary(run) for run in runs]
for row in rows:
    if current and row["Name"] == current.name:
        row["Name"] = "▶ " + row["Name"]
st.dataframe(
    rows,
    hide_index=True,
    column_config={"Test accuracy": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)},
)
if current:
    st.caption(f"▶ marks the current model, used by Evaluate and Draw: **{current.name}**. Change it in the sidebar.")
