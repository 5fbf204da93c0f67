"""digits: the app's frame. Navigation, the current model in the sidebar, and the home page.

The page scripts live in app_pages/, not pages/: Streamlit also discovers a folder named pages/
on its own (its older multipage mode), and a direct link such as /train then ran the page bare,
without this frame and with a second, unlabelled navigation (seen in Chromium).
"""

import streamlit as st

from ui import server, state

server.keep_keras_state_between_runs()

st.set_page_config(
    page_title="digits: teach a computer to read handwriting", page_icon=":material/draw:", layout="wide"
)


def home() -> None:
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
        st.page_link(TRAIN, label="Train a model", icon=":material/model_training:")
    with evaluate:
        st.subheader("2. Evaluate")
        st.write("See how often it is right on digits it never saw, and exactly which ones fool it.")
        st.page_link(EVALUATE, label="Evaluate a model", icon=":material/analytics:")
    with draw:
        st.subheader("3. Draw")
        st.write("Draw a digit with your mouse or finger and see what the model reads.")
        st.page_link(DRAW, label="Draw a digit", icon=":material/draw:")

    st.divider()
    st.subheader("Saved models")
    runs = state.store().list()
    if not runs:
        st.info("No model has been trained yet. Start on the **Train** page: a first model takes about a minute.")
        return
    current = state.current_run()
    rows = []
    for run in runs:
        record = run.record
        if record is None:
            rows.append({"Name": run.name, "Problem": run.problem})
            continue
        hp = record.hyperparameters
        rows.append(
            {
                "Name": ("▶ " if current and run.name == current.name else "") + run.name,
                "Kind": str(hp.get("model", "?")).upper(),
                "Test accuracy": record.test_accuracy,
                "Epochs": hp.get("epochs"),
                "Batch size": hp.get("batch_size"),
                "Training time (s)": record.training_seconds,
                "Saved": record.created.replace("T", " ")[:16],
            }
        )
    st.dataframe(
        rows,
        hide_index=True,
        column_config={"Test accuracy": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)},
    )
    if current:
        st.caption(
            f"▶ marks the current model, used by Evaluate and Draw: **{current.name}**. Change it in the sidebar."
        )


HOME = st.Page(home, title="Home", icon=":material/home:", default=True)
TRAIN = st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", url_path="train")
EVALUATE = st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/analytics:", url_path="evaluate")
DRAW = st.Page("app_pages/draw.py", title="Draw", icon=":material/draw:", url_path="draw")

page = st.navigation([HOME, TRAIN, EVALUATE, DRAW])
state.model_picker()
page.run()
