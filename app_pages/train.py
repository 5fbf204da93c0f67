"""Train: choose settings with sliders, start a run, watch it learn live, stop it, compare runs."""

import time

import streamlit as st

from digits.background.jobs import AlreadyTraining, Snapshot
from digits.background.tasks import TrainTask
from digits.charts import training_curves
from digits.checkpoints import carried_on_note
from digits.compare import VARIED_SETTINGS
from digits.data import load_mnist
from digits.lesson_link import DROPOUT_RANGE, DROPOUT_STEP, EPOCHS_RANGE
from digits.models import LIMITS, MODEL_DESCRIPTIONS, MODEL_KINDS, InvalidSetting, default_hyperparameters
from digits.store import StoreError
from ui import compare_view, inside_view, lesson_link, resources, saved_runs, session
from ui.lesson_link import shown

# Every control's key, Compare mode's too: what the person chose is kept while they visit other pages.
SETTINGS = ("train_model", "train_epochs", "train_batch_size", "train_learning_rate", "train_hidden_units",
            "train_dropout", "train_augment", "train_not_a_digit", "train_name", "train_seed", "train_mode",
            "compare_setting", "compare_values", "compare_model", "compare_epochs")

st.title("Train a model", anchor=False)
st.caption(
    "A neural network learns by looking at tens of thousands of training digits again and again, nudging its "
    "numbers after every small group of digits so that its guesses get less wrong."
)
session.keep_widget_values(SETTINGS)


def suggested_name(kind: str) -> str:
    return resources.store().unique_name(f"{kind}-{time.strftime('%m%d-%H%M')}")


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
            not_a_digit=st.session_state.train_not_a_digit,
            seed=int(st.session_state.train_seed),
        )
        data, problem = resources.mnist_or_problem()
        if data is None:
            st.session_state.train_problem = ("data", problem)
            return
        store = resources.store()
        name = store.unique_name(st.session_state.train_name or hp.model)
        job = resources.job_registry().submit(session.session_owner(), TrainTask(hp, name, load_mnist), store)
    except (InvalidSetting, AlreadyTraining, StoreError) as error:
        st.session_state.train_problem = ("warning", str(error))
        return
    session.TRAINING.remember([job])
    st.session_state.train_name = suggested_name(hp.model)  # the next run's


def stop_training() -> None:
    job = session.TRAINING.job()
    if job is not None:
        job.stop()


def show_run_settings(snapshot: Snapshot) -> None:
    """While a run trains, its controls show what it trains with (disabled), whatever they showed before."""
    hp = snapshot.hp
    st.session_state.update(
        train_model=hp.model, train_epochs=hp.epochs, train_batch_size=hp.batch_size,
        train_learning_rate=hp.learning_rate, train_hidden_units=hp.hidden_units, train_dropout=hp.dropout,
        train_augment=hp.augment, train_not_a_digit=hp.not_a_digit, train_seed=hp.seed, train_name=snapshot.name,
    )


if "train_model" not in st.session_state:
    st.session_state.train_model = "mlp"
    st.session_state.train_augment = False
    st.session_state.train_not_a_digit = False
    st.session_state.train_seed = 0
    apply_kind_defaults()
lesson_link.open_link(apply_kind_defaults)
if compare_view.chosen(shown("mode")):
    compare_view.show(shown)
    lesson_link.write_address()
    st.stop()

job = session.TRAINING.job()
snapshot = job.snapshot() if job else None
busy = snapshot is not None and not snapshot.done
if busy:
    show_run_settings(snapshot)
elif snapshot is not None and st.session_state.train_name == snapshot.name:
    st.session_state.train_name = suggested_name(st.session_state.train_model)  # that name is taken now

problem = st.session_state.pop("train_problem", None)
if problem and problem[0] == "data":
    resources.show_data_problem(problem[1])
elif problem:
    st.warning(problem[1])

controls, live = st.columns([1, 2.4], gap="large")

with controls:
    st.subheader("Settings")
    if shown("kind"):
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
    if shown("epochs"):
        st.slider("Epochs", *EPOCHS_RANGE, key="train_epochs", disabled=busy,
                  help="How many times the network studies all the training digits. More takes longer; "
                  "too many can make it memorise instead of learn.")
    if shown("batch_size"):
        st.select_slider("Batch size", VARIED_SETTINGS["batch_size"].choices, key="train_batch_size", disabled=busy,
                         help="How many digits it looks at before each small correction. Bigger batches are "
                         "faster per epoch but make fewer corrections.")
    if shown("learning_rate"):
        st.select_slider("Learning rate", VARIED_SETTINGS["learning_rate"].choices, key="train_learning_rate",
                         disabled=busy,
                         help="How big each correction is. Too small: slow progress. Too big: it overshoots "
                         "and can go wild.")
    if shown("hidden_units"):
        st.select_slider("Hidden units", VARIED_SETTINGS["hidden_units"].choices, key="train_hidden_units",
                         disabled=busy,
                         help="How many 'neurons' the last inner layer has: more can learn subtler shapes.")
    if shown("dropout"):
        st.slider("Dropout", *DROPOUT_RANGE, step=DROPOUT_STEP, key="train_dropout", disabled=busy,
                  help="Randomly switch off this share of neurons while learning, so the network cannot lean on "
                  "any single one. Helps against memorising.")
    if shown("augment"):
        st.toggle("Vary the training digits", key="train_augment", disabled=busy,
                  help="Show each digit slightly rotated, shifted, resized and with thicker or thinner strokes, "
                  "so the network copes better with your own handwriting. Slower.")
    if shown("not_a_digit"):
        st.toggle("Learn what is not a digit", key="train_not_a_digit", disabled=busy,
                  help="Also show it about 6,000 doodles (stars, faces, houses, scribbles...) with the answer \"not a "
                  "digit\", so that on the Draw page it can say so instead of guessing a digit. Without it, it says "
                  "\"not a digit\" only when it is unusually unsure. A few seconds slower to start.")
    if shown("name"):
        st.text_input("Run name", key="train_name", disabled=busy, max_chars=64,
                      help="The name the trained model is saved under.")
    if shown("seed"):
        st.number_input("Random seed", 0, int(LIMITS["seed"][1]), key="train_seed", disabled=busy,
                        help="The same seed and settings give the same run again.")
    start_column, stop_column = st.columns(2)
    start_column.button("Start training", type="primary", disabled=busy, key="train_start", on_click=start_training,
                        width="stretch")
    stop_column.button("Stop" if not snapshot or snapshot.status != "waiting" else "Cancel",
                       disabled=not busy, key="train_stop", on_click=stop_training, width="stretch")


def show_progress(snapshot: Snapshot) -> None:
    metrics = snapshot.metrics
    if snapshot.status == "waiting":
        registry = resources.job_registry()
        st.info(
            f"⏳ {snapshot.status_text}: {registry.max_running} runs at a time can train on this server and "
            "they are all busy. Yours starts as soon as one ends; press **Cancel** to give up."
        )
        return
    if metrics is None:
        st.info(f"{snapshot.status_text}...")
        return
    epoch_now = metrics.current_epoch
    eta = metrics.eta_seconds
    text = f"Epoch {epoch_now} of {metrics.epochs} · {metrics.examples_per_second:,.0f} digits per second"
    if not snapshot.done and eta is not None:
        text += f" · about {eta:,.0f} s left"
    st.progress(metrics.progress, text=text)
    if note := carried_on_note(snapshot.carried_on):
        st.caption(note)
    recent = metrics.recent_window
    loss = metrics.recent_mean(metrics.batch_loss)
    if metrics.val_accuracy:
        accuracy, accuracy_help = metrics.val_accuracy[-1], "On the held-out validation digits, after the last epoch."
    elif metrics.batch_accuracy:
        accuracy = metrics.recent_mean(metrics.batch_accuracy)
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
        (st.warning if snapshot.status == "interrupted" else st.success)(
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
            inside_view.live(job, running=not current.done)

        live_view()

st.divider()
inside_view.saved_run_replay([run.name for run in resources.store().list() if run.record is not None])
st.divider()
saved_runs.saved_runs_section()
lesson_link.write_address()
