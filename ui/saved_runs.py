"""Saved runs on the pages: the table, a model's download, and deletion by the person who trained it."""

from __future__ import annotations

import functools

import streamlit as st

from digits.charts import compare_runs
from digits.store import DEFAULT_RUN, StoredRun, StoreError, run_summary
from ui import resources, session


def download_button(run: StoredRun, key: str) -> None:
    """The run's model as a .keras file; read from disk only when the button is pressed."""
    st.download_button(
        f"Download {run.name}.keras",
        data=functools.partial(resources.store().model_file, run.name),
        file_name=f"{run.name}.keras",
        mime="application/octet-stream",
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help="The trained model as a Keras file, to use in your own Python: keras.saving.load_model(path).",
    )


@st.dialog("Delete a saved run")
def _confirm_delete(name: str) -> None:
    st.write(f"Delete **{name}** for good? This cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete", type="primary", key="saved_delete_yes", width="stretch"):
        try:
            resources.store().delete(name)
        except StoreError as error:  # e.g. deleted meanwhile from the command line
            st.error(str(error))
            return
        session.forget_run(name)
        st.rerun()
    if no.button("Keep it", key="saved_delete_no", width="stretch"):
        st.rerun()


def saved_runs_section() -> None:
    """Every saved run in a table; ticked runs' curves compared; one run to download or delete."""
    st.subheader("Saved runs")
    runs = resources.store().list()
    if not runs:
        st.caption("Runs you train are saved here.")
        return
    readable = [run for run in runs if run.record is not None]
    for run in runs:
        if run.record is None:
            st.warning(f"**{run.name}** cannot be read: {run.problem}")
    if not readable:
        return
    table = st.dataframe(
        [run_summary(run) for run in readable],
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key="train_runs_table",
        column_config={"Test accuracy": st.column_config.NumberColumn(format="percent")},
    )
    chosen = [readable[index] for index in table.selection.rows]
    if len(chosen) >= 2:
        st.plotly_chart(compare_runs({run.name: run.record.history for run in chosen}), key="train_compare")
    else:
        st.caption("Tick two or more runs to compare their learning curves.")

    by_name = {run.name: run for run in readable}
    name_col, download_col, delete_col = st.columns([2, 1.3, 1], vertical_alignment="bottom")
    name = name_col.selectbox("A saved run", list(by_name), key="train_run_to_manage",
                              help="Download its model, or delete it if you trained it.")
    with download_col:
        download_button(by_name[name], key="train_download_run")
    trained_here = name in session.runs_trained_here()
    if delete_col.button("Delete", key="train_delete", icon=":material/delete:", disabled=not trained_here):
        _confirm_delete(name)
    if name == DEFAULT_RUN:
        st.caption("The built-in model ships with the app: it cannot be deleted.")
    elif not trained_here:
        st.caption(f"Only the person who trained **{name}** can delete it, from the browser they trained it in. "
                   "Everyone can use it, evaluate it and download it.")
