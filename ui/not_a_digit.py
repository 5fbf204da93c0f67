"""The pages' view of "not a digit": the Draw page's verdict, and the Evaluate page's section
"Things that are not digits" (held-out letters and doodles the model rejects, real digits it wrongly rejects)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import streamlit as st

from digits.charts import enlarge
from digits.default_model import is_held_out_writer
from digits.doodles import HELD_OUT_KINDS, KINDS, make_doodles
from digits.drawn_sets import DrawnSample, read_right, read_sample, rejected, render_sample
from digits.non_digits import right_counting_rejections
from digits.predict import Decision, Outcome, Reading, model_decision
from digits.store import StoredRun
from digits.unipen import DrawnDataError, load_drawn_letters
from ui import pen_score, resources
from ui.real_doodles import real_doodles_section

LETTERS_DATA_ENV = "DIGITS_LETTERS_DATA"
SHIPPED_LETTERS = Path(__file__).resolve().parent.parent / "assets" / "letters" / "unipen_letters_heldout.json.gz"
LETTERS_SHOWN = 600  # enough for a share to within a few percent, few enough to draw in seconds
DOODLES_PER_KIND = 20
SAMPLE_SEED = 7  # other drawings than the benchmark's, the same for every model
EXAMPLES = 8
UNSURE = 0.6  # below this confidence a digit reading gets a warning


def decision(run: StoredRun) -> Decision:
    """How the run's model tells a digit from the rest (what its record saved, else its natural way)."""
    assert run.record is not None
    return model_decision(resources.model(run), run.record.not_a_digit)


def show_verdict(prediction_col, confidence_col, reading: Reading, parts: int) -> None:
    """The Prediction and Confidence metrics, and a sentence when the drawing is not a digit."""
    if reading.outcome is Outcome.DIGIT:
        prediction_col.metric("Prediction", reading.text)
        confidence_col.metric(
            "Confidence", f"{reading.confidence:.0%}",
            help="How sure the model is" + (" that every digit is right." if parts > 1 else "."),
        )
        if reading.confidence < UNSURE:
            st.warning("The model is unsure. Try drawing larger and clearer, or check how it was read below.")
        return
    single = len(reading.predictions) == 1
    prediction_col.metric("Prediction", "Not a digit" if single else "Not a number")
    doubt = 1 - min(prediction.digit_score for prediction in reading.predictions)
    confidence_col.metric("Confidence", f"{doubt:.0%}", help="How little it looks like a digit to the model.")
    if single:
        st.info("That's not a digit, is it? It does not look like any of 0 to 9 to the model. Draw a digit and it "
                "will read it.", icon=":material/help:")
        st.markdown(f"Closest: **{reading.closest}**, but it does not look like one.")
    else:
        unknown = [str(i + 1) for i, p in enumerate(reading.predictions) if not p.is_digit]
        st.info(f"It reads **{reading.text}**: part {', '.join(unknown)} does not look like a digit, so this is "
                "not a number it can read.", icon=":material/help:")
        st.markdown(f"Closest: **{reading.closest}**, but not every part looks like a digit.")


@st.cache_resource(show_spinner="Drawing letters on the canvas...")
def _letter_sample(path: str) -> DrawnSample:
    """Letters by writers the default model never saw: the same for every model, so their figures compare."""
    letters = [letter for letter in load_drawn_letters(path) if is_held_out_writer(letter.writer)]
    chosen = np.random.default_rng(SAMPLE_SEED).permutation(len(letters))[:LETTERS_SHOWN]
    letters = [letters[i] for i in sorted(chosen)]
    return render_sample([ltr.strokes for ltr in letters], [ltr.label for ltr in letters], SAMPLE_SEED)


@st.cache_resource(show_spinner="Drawing doodles on the canvas...")
def _doodle_sample() -> DrawnSample:
    """Doodles of the kinds the default model never saw."""
    doodles = make_doodles(HELD_OUT_KINDS, DOODLES_PER_KIND, SAMPLE_SEED)
    return render_sample([d.strokes for d in doodles], [d.kind for d in doodles], SAMPLE_SEED)


def _letters_path() -> str | None:
    path = os.environ.get(LETTERS_DATA_ENV)
    if path:
        return path
    return str(SHIPPED_LETTERS) if SHIPPED_LETTERS.is_file() else None


def _gallery(sample: DrawnSample, chosen: np.ndarray, readings: list[Reading | None], caption: str) -> None:
    shown = np.flatnonzero(chosen)[:EXAMPLES]
    if len(shown) == 0:
        st.caption("None.")
        return
    images = [enlarge(np.hstack(sample.parts[i]) if sample.parts[i] else np.zeros((28, 28), np.uint8), 3)
              for i in shown]
    captions = [f"{sample.labels[i]} → " + (readings[i].answer if readings[i] else "no ink") for i in shown]
    st.image(images, caption=captions, width=84)
    st.caption(caption)


def non_digits_section(run: StoredRun) -> None:
    """Evaluate's "Things that are not digits": how the model decides, and how often it is right to."""
    st.subheader("Things that are not digits")
    how = decision(run)
    st.markdown(f"**How it decides:** {how.description}")
    mnist_ok = right_counting_rejections(resources.test_reading(run), resources.mnist().y_test, how)
    predictor = resources.predictor(run)
    letters_path = _letters_path()
    try:
        letters = _letter_sample(letters_path) if letters_path else None
        pen = pen_score.pen_digits(run)  # the shipped ones, unless DIGITS_DRAWN_DATA; read once for both sections
    except (DrawnDataError, OSError) as error:
        st.warning(f"The drawings for these figures could not be read: {error}")
        return
    doodles = _doodle_sample()
    columns = st.columns(4)
    columns[0].metric("MNIST test digits read right", f"{mnist_ok.mean():.2%}",
                      help="Counting a digit it takes for \"not a digit\" as a mistake.")
    drawn_digits = pen.sample
    readings = {"doodles": read_sample(predictor, doodles, how), "digits": pen.readings}
    columns[1].metric("Pen-drawn digits wrongly rejected", f"{rejected(readings['digits']).mean():.1%}",
                      help=f"Of {len(drawn_digits.labels):,} digits drawn with a pen by other people.")
    if letters is not None:
        readings["letters"] = read_sample(predictor, letters, how)
        columns[2].metric("Letters rejected", f"{rejected(readings['letters']).mean():.1%}",
                          help=f"{len(letters.labels):,} letters (A E F H K M N R W X Y k m n w x) written with a "
                          "pen by people the shipped model never learned from.")
    else:
        columns[2].caption(f"Letters not measured here: set {LETTERS_DATA_ENV} to a unipen_letters_*.json.gz file.")
    columns[3].metric("Program doodles rejected", f"{rejected(readings['doodles']).mean():.1%}",
                      help=f"Doodles of {len(HELD_OUT_KINDS)} kinds the shipped model never learned from: "
                      f"{', '.join(HELD_OUT_KINDS)} (of {len(KINDS)} kinds in all).")
    st.caption("Each drawing is placed anywhere on the canvas and read exactly as the Draw page reads yours. "
               "Rejected: the model says \"not a digit\" (for a drawing cut into several parts, for any part).")
    digit_readings = readings["digits"]
    wrongly = rejected(digit_readings) & ~np.array([r is None for r in digit_readings])
    with st.expander("Real digits it took for \"not a digit\""):
        _gallery(drawn_digits, wrongly, digit_readings, "Caption: the digit drawn → what it said.")
    with st.expander("Real digits it read as another digit"):
        misread = ~read_right(digit_readings, drawn_digits.labels) & ~rejected(digit_readings)
        _gallery(drawn_digits, misread, digit_readings, "Caption: the digit drawn → what it read.")
    with st.expander("Letters and doodles it took for digits"):
        if letters is not None:
            _gallery(letters, ~rejected(readings["letters"]), readings["letters"],
                     "Caption: the letter written → the digit it read.")
        _gallery(doodles, ~rejected(readings["doodles"]), readings["doodles"],
                 "Caption: the doodle → the digit it read.")
    real_doodles_section(run, how)
