"""Evaluate: how good a saved model is on digits it never saw, and exactly where it goes wrong."""

from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from digits.charts import confusion_difference, confusion_heatmap, per_class_bars
from digits.store import StoredRun, StoreError
from ui import learned_view, mistakes_view, not_a_digit, pen_score, resources, saved_runs, session

GALLERY_SIZE = 24
ANY = "any"

st.title("Evaluate a model", anchor=False)
st.caption(
    "Each model is tested on the 10,000 MNIST test digits: written by people whose handwriting it never "
    "saw while learning. That is the honest measure of how well it reads."
)

runs = resources.usable_runs()
if not runs:
    st.info("There is no trained model to evaluate yet.")
    st.page_link("app_pages/train.py", label="Train your first model (about a minute)",
                 icon=":material/model_training:")
    st.stop()

names = [run.name for run in runs]
by_name = {run.name: run for run in runs}
current = session.picked_run()
if st.session_state.get("evaluate_run") not in by_name:
    st.session_state.evaluate_run = current.name if current else names[0]
chosen_name = st.selectbox("Model", names, key="evaluate_run", format_func=lambda n: resources.run_label(by_name[n]))
run = by_name[chosen_name]
data = resources.mnist()


def evaluation_or_explain(run: StoredRun):
    try:
        return resources.evaluation(run)
    except StoreError as error:
        st.error(f"**The model {run.name} cannot be used.** {error}\n\nPick another one above, or train a new one.")
        return None


def slow_section(waiting: str) -> tuple[DeltaGenerator, DeltaGenerator]:
    """A place for a slower section, saying meanwhile what will come there; ``fill`` it once the rest is shown."""
    place = st.container()
    note = place.empty()
    note.caption(waiting)
    return place, note


def fill(slot: tuple[DeltaGenerator, DeltaGenerator], section: Callable[[], None]) -> None:
    place, note = slot
    with place:
        section()
    note.empty()


result = evaluation_or_explain(run)
if result is None:
    st.stop()

accuracy_col, loss_col, wrong_col = st.columns(3)
accuracy_col.metric("Test accuracy", f"{result.accuracy:.2%}", help="Share of the 10,000 test digits read right.")
loss_col.metric("Test loss", f"{result.loss:.4f}",
                help="How unsure or wrong it is on average (cross-entropy); lower is better. It also punishes "
                "right answers given with little confidence.")
wrong_col.metric("Mistakes", f"{result.wrong:,} of {result.count:,} wrong")
saved_runs.download_button(run, key="evaluate_download")

st.subheader("Which digits it confuses")
st.caption(
    "Each row is the digit that was written, each column the digit the model read. The grey diagonal holds the "
    "digits it read right; coloured squares are its mistakes. Click a square, or pick the digits below, to "
    "see those mistakes."
)
heatmap_col, gallery_col = st.columns([1, 1.1], gap="large")
with heatmap_col:
    event = st.plotly_chart(confusion_heatmap(result.confusion), key="evaluate_heatmap", on_select="rerun",
                            selection_mode="points", config={"displayModeBar": False})
    clicked = event.selection.points if event and event.selection else []
    if clicked and clicked[0].get("x") != clicked[0].get("y"):
        # Copy the clicked cell into the pickers (before they are drawn) so both ways agree.
        cell = (str(clicked[0]["y"]), str(clicked[0]["x"]))
        if st.session_state.get("evaluate_last_click") != cell:
            st.session_state.evaluate_last_click = cell
            st.session_state.evaluate_true, st.session_state.evaluate_predicted = cell
    pairs = result.confused_pairs(limit=5)
    if pairs:
        st.markdown("**Most frequent mistakes**\n\n" + "\n".join(
            f"- {true} taken for {predicted}: {count} {'time' if count == 1 else 'times'}"
            for true, predicted, count in pairs
        ))

with gallery_col:
    choices = [ANY, *[str(d) for d in range(10)]]
    true_col, predicted_col = st.columns(2)
    true_pick = true_col.selectbox("Written digit", choices, key="evaluate_true")
    predicted_pick = predicted_col.selectbox("Read as", choices, key="evaluate_predicted")
    mistakes = result.mistakes_for(
        None if true_pick == ANY else int(true_pick), None if predicted_pick == ANY else int(predicted_pick)
    )
    if true_pick == ANY and predicted_pick == ANY:
        heading = "The mistakes it was most sure about"
    else:
        heading = f"{len(mistakes)} {'mistake' if len(mistakes) == 1 else 'mistakes'}: written " + (
            "any digit" if true_pick == ANY else true_pick
        ) + ", read as " + ("anything else" if predicted_pick == ANY else predicted_pick)
    st.markdown(f"**{heading}**" + (" (most confident first)" if mistakes else ""))
    if not mistakes:
        st.info("No mistakes of this kind.")
    else:
        mistakes_view.gallery(run, data.x_test, mistakes, result.probabilities, GALLERY_SIZE,
                              key=f"evaluate_gallery_{true_pick}_{predicted_pick}")

st.subheader("How well it reads each digit")
st.caption(
    "**Precision**: when it says 7, how often it is a 7. **Recall**: of all the 7s, how many it finds. "
    "**F1** combines both."
)
table_col, bars_col = st.columns([1, 1.6], gap="large")
table_col.dataframe(
    [
        {"Digit": d, "Precision": result.precision[d], "Recall": result.recall[d], "F1": result.f1[d],
         "Test digits": int(result.confusion[d].sum())}
        for d in range(10)
    ],
    hide_index=True,
    column_config={key: st.column_config.NumberColumn(format="%.3f") for key in ("Precision", "Recall", "F1")},
    key="evaluate_per_class",
)
bars_col.plotly_chart(per_class_bars(result.precision, result.recall, result.f1), key="evaluate_bars",
                      config={"displayModeBar": False})

# The slower sections (seconds on a first visit: drawing 1,000 pen digits, letters and doodles on the canvas and
# reading them) get their places now and fill in last, so the figures above never wait for them.
pen_slot = slow_section("The score on digits drawn with a pen follows in a few seconds...")
non_digits_slot = slow_section("How well it knows what is not a digit follows...")

st.subheader("Compare with another model")
others = [name for name in names if name != run.name]
if not others:
    st.caption("Train a second model to compare the two side by side.")
else:
    other_name = st.selectbox(
        "Other model", [None, *others], key="evaluate_other",
        format_func=lambda n: "Choose a model..." if n is None else resources.run_label(by_name[n]),
    )
    other = evaluation_or_explain(by_name[other_name]) if other_name else None
    if other is not None:
        first_col, second_col = st.columns(2)
        first_col.metric(f"Test accuracy: {run.name}", f"{result.accuracy:.2%}", f"{result.wrong:,} wrong",
                         delta_color="off")
        second_col.metric(f"Test accuracy: {other_name}", f"{other.accuracy:.2%}",
                          f"{other.accuracy - result.accuracy:+.2%} vs {run.name}")
        st.dataframe(
            [
                {"Digit": d, f"F1 {run.name}": result.f1[d], f"F1 {other_name}": other.f1[d],
                 "Difference": other.f1[d] - result.f1[d]}
                for d in range(10)
            ],
            hide_index=True,
            column_config={"Difference": st.column_config.NumberColumn(format="%+.3f")},
            key="evaluate_compare_table",
        )
        st.caption(f"Red squares: mistakes {other_name} makes more often than {run.name}; blue: less often.")
        st.plotly_chart(confusion_difference(result.confusion, other.confusion, (run.name, other_name)),
                        key="evaluate_difference", config={"displayModeBar": False})

learned_slot = slow_section("What it has learned follows...")

fill(pen_slot, lambda: pen_score.pen_score_section(run))
fill(non_digits_slot, lambda: not_a_digit.non_digits_section(run))
fill(learned_slot, lambda: learned_view.what_it_has_learned(run, data))
