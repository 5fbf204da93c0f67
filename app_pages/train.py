"""Train: choose settings with sliders, start a run, watch it learn live, stop it, compare runs."""

import time

import streamlit as st

from digits.charts import compare_runs, training_curves
from digits.data import load_mnist
from digits.jobs import AlreadyTraining, Snapshot
from digits.models import LIMITS, MODEL_DESCRIPTIONS, MODEL_KINDS, InvalidSetting, default_hyperparameters
from digits.store import StoreError
from digits.tasks import TrainTask
from ui import state

BATCH_SIZES = [16, 32, 64, 128, 256, 512, 1024]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.002, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
HIDDEN_UNITS = [16, 32, 64, 128, 256, 512]

st.title("Train a model", anchor=False)
st.caption(
    "A neural network learns by looking at tens of thousands of training digits again and again, nudging its "
    "numbers after every small group of digits so that its guesses get less wrong."
)


def suggested_name(kind: str) -> str:
    return state.store().unique_name(f"{kind}-{time.strftime('%m%d-%H%M')}")


def apply_kind_defaults() -> None:
    """When the kind of network changes, load that kind's sensible settings into the controls."""
    hp = default_hyperparameters(st.session_state.train_model)
    st.session_state.train_epochs = hp.epochs
    st.session_state.train_batch_size = hp.batch_size
    st.session_state.train_learning_rate = hp.learning_rate
    st.session_state.train_hidden_units = hp.hidden_units
    st.session_state.train_dropout = hp.dropout
    st.session_state.train_name = suggested_name(hp.model)


def start_training() -> None:
    """Start a run. A callback, so the page drawn right after already shows the new run (and its address)."""
    try:
        hp = default_hyperparameters(
            st.session_state.train_model,
            epochs=st.session_state.train_epochs,
            batch_size=st.session_state.train_batch_size,
            learning_rate=st.session_state.train_learning_rate,
            hidden_units=st.session_state.train_hidden_units,
            dropout=st.session_state.train_dropout,
            augment=st.session_state.train_augment,
            seed=int(st.session_state.train_seed),
        )
        data, problem = state.mnist_or_problem()
        if data is None:
            st.session_state.train_problem = ("data", problem)
            return
        store = state.store()
        name = store.unique_name(st.session_state.train_name or hp.model)
        job = state.job_registry().submit(state.session_owner(), TrainTask(hp, name, load_mnist), store)
    except (InvalidSetting, AlreadyTraining, StoreError) as error:
        st.session_state.train_problem = ("warning", str(error))
        return
    state.remember_job(job)
    st.session_state.train_name = suggested_name(hp.model)  # the next run's


def stop_training() -> None:
    job = state.current_job()
    if job is not None:
        job.stop()


if "train_model" not in st.session_state:
    st.session_state.train_model = "mlp"
    apply_kind_defaults()

job = state.current_job()
snapshot = job.snapshot() if job else None
busy = snapshot is not None and not snapshot.done

controls, live = st.columns([1, 2.4], gap="large")

with controls:
    st.subheader("Settings")
    st.radio(
        "Kind of network",
        MODEL_KINDS,
        format_func=lambda kind: MODEL_DESCRIPTIONS[kind],
        key="train_model",
        on_change=apply_kind_defaults,
        disabled=busy,
        help="The simple network sees the picture as a list of 784 numbers. The convolutional one looks at "
        "small patches, as our eyes do, and is usually more accurate.",
    )
    st.slider("Epochs", 1, 30, key="train_epochs", disabled=busy,
              help="How many times the network studies all the training digits. More takes longer; "
              "too many can make it memorise instead of learn.")
    st.select_slider("Batch size", BATCH_SIZES, key="train_batch_size", disabled=busy,
                     help="How many digits it looks at before each small correction. Bigger batches are "
                     "faster per epoch but make fewer corrections.")
    st.select_slider("Learning rate", LEARNING_RATES, key="train_learning_rate", disabled=busy,
                     help="How big each correction is. Too small: slow progress. Too big: it overshoots "
                     "and can go wild.")
    st.select_slider("Hidden units", HIDDEN_UNITS, key="train_hidden_units", disabled=busy,
                     help="How many 'neurons' the last inner layer has: more can learn subtler shapes.")
    st.slider("Dropout", 0.0, 0.5, step=0.05, key="train_dropout", disabled=busy,
              help="Randomly switch off this share of neurons while learning, so the network cannot lean on "
              "any single one. Helps against memorising.")
    st.toggle("Vary the training digits", key="train_augment", disabled=busy,
              help="Show each digit slightly rotated, shifted, resized and with thicker or thinner strokes, "
              "so the network copes better with your own handwriting. Slower.")
    st.text_input("Run name", key="train_name", disabled=busy, max_chars=64,
                  help="The name the trained model is saved under.")
    st.number_input("Random seed", 0, int(LIMITS["seed"][1]), value=0, key="train_seed", disabled=busy,
                    help="The same seed and settings give the same run again.")

    start_column, stop_column = st.columns(2)
    start_column.button("Start training", type="primary", disabled=busy, key="train_start", on_click=start_training,
                        use_container_width=True)
    stop_column.button("Stop" if not snapshot or snapshot.status != "waiting" else "Cancel",
                       disabled=not busy, key="train_stop", on_click=stop_training, use_container_width=True)
    problem = st.session_state.pop("train_problem", None)
    if problem and problem[0] == "data":
        state.show_data_problem(problem[1])
    elif problem:
        st.warning(problem[1])


def show_progress(snapshot: Snapshot) -> None:
    metrics = snapshot.metrics
    if snapshot.status == "waiting":
        registry = state.job_registry()
        st.info(
            f"⏳ {snapshot.status_text}: {registry.max_running} runs at a time can train on this server and "
            "they are all busy. Yours starts as soon as one ends; press **Cancel** to give up."
        )
        return
    if metrics is None:
        st.info(f"{snapshot.status_text}...")
        return
    epoch_now = min(metrics.epoch + (0 if snapshot.done or metrics.step == 0 else 1), metrics.epochs) or 1
    eta = metrics.eta_seconds
    text = f"Epoch {epoch_now} of {metrics.epochs} · {metrics.examples_per_second:,.0f} digits per second"
    if not snapshot.done and eta is not None:
        text += f" · about {eta:,.0f} s left"
    st.progress(metrics.progress, text=text)
    recent = max(metrics.steps_per_epoch // 10, 1)
    loss = sum(metrics.batch_loss[-recent:]) / len(metrics.batch_loss[-recent:]) if metrics.batch_loss else None
    if metrics.val_accuracy:
        accuracy, accuracy_help = metrics.val_accuracy[-1], "On the held-out validation digits, after the last epoch."
    elif metrics.batch_accuracy:
        accuracy = sum(metrics.batch_accuracy[-recent:]) / len(metrics.batch_accuracy[-recent:])
        accuracy_help = f"On the last {recent} training batches (no epoch finished yet)."
    else:
        accuracy, accuracy_help = None, None
    epoch_col, loss_col, accuracy_col = st.columns(3)
    epoch_col.metric("Epoch", f"{epoch_now} / {metrics.epochs}")
    loss_col.metric("Loss", "-" if loss is None else f"{loss:.4f}",
                    help=f"How wrong the guesses are, averaged over the last {recent} training batches.")
    accuracy_col.metric("Accuracy", "-" if accuracy is None else f"{accuracy:.2%}", help=accuracy_help)
    st.plotly_chart(training_curves(metrics), key="train_live_chart", config={"displayModeBar": False})


def show_outcome(snapshot: Snapshot) -> None:
    if snapshot.status == "diverged":
        st.error(f"**{snapshot.status_text}**")
    elif snapshot.status == "failed":
        st.error(f"**{snapshot.status_text}.** {snapshot.error}")
    elif snapshot.status == "cancelled":
        st.info(snapshot.status_text + ".")
    elif snapshot.status == "unsaved" and job is not None and job.model_file is not None:
        st.error(f"**{snapshot.status_text}.** {snapshot.error} Download it so the training is not lost; "
                 "earlier runs are untouched.")
        st.download_button("Download the model (.keras)", job.model_file,
                           file_name=f"{snapshot.name}.keras", key="train_download")
    elif snapshot.record is not None:
        record = snapshot.record
        st.success(
            f"**{snapshot.status_text}.** Saved as **{record.name}**: it read "
            f"{record.test['accuracy']:.2%} of the {record.test['count']:,} test digits right "
            f"({record.test['wrong']} wrong), after {record.training_seconds:.0f} s of training. "
            "It is now the current model for Evaluate and Draw."
        )


with live:
    st.subheader("Learning live")
    if snapshot is None:
        st.info("Choose settings on the left and press **Start training**. The curves appear here as it learns.")
    else:
        run_every = None if snapshot.done else 1.0

        @st.fragment(run_every=run_every)
        def live_view() -> None:
            current = job.snapshot()
            show_progress(current)
            if current.done:
                if run_every is not None:  # it ended since the page was drawn: redraw everything once
                    st.rerun()
                show_outcome(current)

        live_view()

st.divider()
st.subheader("Saved runs")
runs = state.store().list()
readable = [run for run in runs if run.record is not None]
if not runs:
    st.caption("Runs you train are saved here.")
else:
    rows = [
        {
            "Name": run.name,
            "Model": str(run.record.hyperparameters.get("model", "?")).upper(),
            "Epochs": run.record.hyperparameters.get("epochs"),
            "Batch size": run.record.hyperparameters.get("batch_size"),
            "Test accuracy": run.record.test_accuracy,
            "Training time (s)": run.record.training_seconds,
            "Date": run.record.created.replace("T", " ")[:16],
            "Status": run.record.status,
        }
        for run in readable
    ]
    table = st.dataframe(
        rows,
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key="train_runs_table",
        column_config={"Test accuracy": st.column_config.NumberColumn(format="percent")},
    )
    chosen = [readable[index] for index in table.selection.rows]
    for run in runs:
        if run.record is None:
            st.warning(f"**{run.name}** cannot be read: {run.problem}")
    if len(chosen) >= 2:
        st.plotly_chart(compare_runs({run.name: run.record.history for run in chosen}), key="train_compare")
    elif readable:
        st.caption("Tick two or more runs to compare their learning curves.")
    if chosen:
        names = ", ".join(run.name for run in chosen)
        if st.button(f"Delete {names}", key="train_delete"):
            st.session_state.train_confirm_delete = [run.name for run in chosen]
    doomed = st.session_state.get("train_confirm_delete")
    if doomed:
        st.warning(f"Delete {', '.join(doomed)} for good? This cannot be undone.")
        yes, no = st.columns([1, 6])
        if yes.button("Yes, delete", type="primary", key="train_delete_yes"):
            for name in doomed:
                try:
                    state.store().delete(name)
                except Exception as error:  # e.g. already deleted by someone else
                    st.error(str(error))
                state.forget_run(name)
            del st.session_state.train_confirm_delete
            st.rerun()
        if no.button("Keep", key="train_delete_no"):
            del st.session_state.train_confirm_delete
            st.rerun()
