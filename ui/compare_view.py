"""The Train page's Compare mode: race 2-4 values of one setting, live on one chart, then the results.

All runs start together (past the engine's capacity they wait their turn), each is saved like any other
run, and the race is found again after a refresh through the address (``?race=id,id,...``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from digits.background.jobs import AlreadyTraining, Job, Snapshot
from digits.background.tasks import TrainTask
from digits.charts import race_curves
from digits.compare import (
    VARIED_SETTINGS,
    race_entry,
    race_hyperparameters,
    race_sentences,
    run_name,
    value_label,
    varied_setting,
)
from digits.data import load_mnist
from digits.lesson_link import RACE_EPOCHS_RANGE
from digits.models import MODEL_DESCRIPTIONS, MODEL_KINDS, InvalidSetting
from digits.store import StoreError
from ui import inside_view, resources, session

ONE_RUN, COMPARE = "One run", "Compare settings"


def chosen(switch_shown: bool = True) -> bool:
    """The mode switch at the top of the Train page (unless a lesson link hides it); True for Compare."""
    if not switch_shown:
        return st.session_state.get("train_mode") == COMPARE
    mode = st.radio("Mode", (ONE_RUN, COMPARE), horizontal=True, key="train_mode", label_visibility="collapsed",
                    help="Compare: train the same network with 2-4 values of one setting, all at once, and watch "
                    "them race.")
    return mode == COMPARE


def _suggest_values() -> None:
    st.session_state.compare_values = list(VARIED_SETTINGS[st.session_state.compare_setting].suggested)


def start_race() -> None:
    """A callback, so the page drawn right after already shows the race."""
    setting = st.session_state.compare_setting
    values = [value for value in VARIED_SETTINGS[setting].choices if value in st.session_state.compare_values]
    try:
        fixed = {} if setting == "epochs" else {"epochs": st.session_state.compare_epochs}
        settings = race_hyperparameters(st.session_state.compare_model, setting, values, **fixed)
        data, problem = resources.mnist_or_problem()
        if data is None:
            st.session_state.compare_problem = problem
            return
        store = resources.store()
        prefix = f"race-{time.strftime('%m%d-%H%M')}"
        tasks = [TrainTask(hp, store.unique_name(run_name(prefix, setting, value)), load_mnist)
                 for hp, value in zip(settings, values, strict=True)]
        jobs = resources.job_registry().submit_all(session.session_owner(), tasks, store)
    except (InvalidSetting, AlreadyTraining, StoreError) as error:
        st.session_state.compare_problem = str(error)
        return
    session.RACE.remember(jobs)


def stop_race() -> None:
    for job in session.RACE.jobs():
        job.stop()


def show_controls(busy: bool, shown: Callable[[str], bool]) -> None:
    """The race's controls, each unless ``shown`` says a lesson link hides it."""
    st.subheader("The race")
    if shown("vary"):
        st.selectbox("Setting to vary", list(VARIED_SETTINGS), key="compare_setting", disabled=busy,
                     format_func=lambda name: VARIED_SETTINGS[name].label.capitalize(), on_change=_suggest_values)
    setting = st.session_state.compare_setting
    if "compare_values" not in st.session_state:
        _suggest_values()
    if shown("values"):
        st.multiselect("Values to race (2 to 4)", VARIED_SETTINGS[setting].choices, key="compare_values",
                       max_selections=4, disabled=busy, format_func=lambda value: value_label(setting, value),
                       help="Each value trains its own network; all start together.")
    if setting != "model" and shown("race_kind"):
        st.radio("Kind of network", MODEL_KINDS, format_func=lambda kind: MODEL_DESCRIPTIONS[kind].split(":")[0],
                 key="compare_model", disabled=busy)
    if setting != "epochs" and shown("race_epochs"):
        st.slider("Epochs, for every run", *RACE_EPOCHS_RANGE, key="compare_epochs", disabled=busy,
                  help="Every other setting is the kind of network's default.")
    start, stop = st.columns(2)
    start.button("Start the race", type="primary", disabled=busy, key="compare_start", on_click=start_race,
                 width="stretch")
    stop.button("Stop all", disabled=not busy, key="compare_stop", on_click=stop_race, width="stretch")
    problem = st.session_state.pop("compare_problem", None)
    if problem:
        st.warning(problem)


def _labels(snapshots: list[Snapshot]) -> list[str]:
    setting = varied_setting([snapshot.hp for snapshot in snapshots])
    if setting is None:
        return [snapshot.name for snapshot in snapshots]
    return [value_label(setting, getattr(snapshot.hp, setting)) for snapshot in snapshots]


def _runner_figure(snapshot: Snapshot) -> str:
    """What a runner's card shows: its test accuracy once saved, else how far it has got."""
    if snapshot.record is not None:
        return f"{snapshot.record.test_accuracy:.2%}"
    if snapshot.done or snapshot.metrics is None:
        return snapshot.status.value  # "waiting", "loading", "diverged", ...
    return f"{snapshot.metrics.progress:.0%} trained"


def show_results(labels: list[str], snapshots: list[Snapshot]) -> None:
    entries = [race_entry(label, snapshot) for label, snapshot in zip(labels, snapshots, strict=True)]
    st.dataframe(
        [{"Run": entry.label, "Test accuracy": entry.accuracy, "Training time (s)": entry.seconds,
          "Digits per second": entry.digits_per_second, "Status": entry.status.value,
          "Saved as": entry.name if entry.accuracy is not None else ""} for entry in entries],
        hide_index=True, key="compare_results",
        column_config={"Test accuracy": st.column_config.NumberColumn(format="percent"),
                       "Training time (s)": st.column_config.NumberColumn(format="%.1f"),
                       "Digits per second": st.column_config.NumberColumn(format="%,.0f")},
    )
    st.markdown("\n".join(f"- {sentence}" for sentence in race_sentences(entries)))


def show_race(jobs: list[Job]) -> None:
    st.subheader("Racing live")
    if not jobs:
        st.info("Choose a setting and 2 to 4 values on the left, then press **Start the race**: the runs train "
                "side by side and their curves share one chart, one colour each.")
        return
    running = any(not job.snapshot(with_metrics=False).done for job in jobs)

    @st.fragment(run_every=1.0 if running else None)
    def live_view() -> None:
        snapshots = [job.snapshot() for job in jobs]
        if running and all(snapshot.done for snapshot in snapshots):
            st.rerun()  # it ended since the page was drawn: redraw everything once, controls included
        labels = _labels(snapshots)
        for column, label, snapshot in zip(st.columns(len(jobs)), labels, snapshots, strict=True):
            column.metric(label, _runner_figure(snapshot), help=snapshot.status_text)
        curves = {label: snapshot.metrics for label, snapshot in zip(labels, snapshots, strict=True)
                  if snapshot.metrics is not None}
        by_time = st.toggle("Against time (off: against epochs)", value=True, key="compare_by_time")
        st.plotly_chart(race_curves(curves, by_time=by_time), key="compare_chart", config={"displayModeBar": False})
        if all(snapshot.done for snapshot in snapshots):
            show_results(labels, snapshots)
        inside_view.side_by_side(labels, [job.recording() for job in jobs], running=not all(
            snapshot.done for snapshot in snapshots), key="compare_inside")

    live_view()


def show(shown: Callable[[str], bool]) -> None:
    """Compare mode, whole: the race's controls on the left (those ``shown``), the race on the right."""
    st.session_state.setdefault("compare_setting", "batch_size")
    st.session_state.setdefault("compare_model", "mlp")
    st.session_state.setdefault("compare_epochs", 2)
    jobs = session.RACE.jobs()
    busy = any(not job.snapshot(with_metrics=False).done for job in jobs)
    controls, live = st.columns([1, 2.4], gap="large")
    with controls:
        show_controls(busy, shown)
    with live:
        show_race(jobs)
