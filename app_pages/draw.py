"""Draw: a digit (or a number) drawn on the canvas, read by the current model after each stroke."""

import hashlib

import streamlit as st

from digits.charts import enlarge, probability_bars
from digits.feedback import FeedbackError, load_drawings, right_count, save_drawing
from digits.predict import Reading, read_digits
from digits.preprocess import preprocess_canvas
from ui import canvas, explain_view, not_a_digit, presenter, resources, session, teach_view

st.title("Draw a digit", anchor=False)
st.caption(
    "Draw a digit from 0 to 9 with your mouse or finger, as large as you like, anywhere on the black square. "
    "Several digits side by side are read as a number. The model reads your drawing after every stroke."
)

run = session.picked_run()
if run is None:
    st.info("There is no model to read your drawing yet: train one first.")
    st.page_link("app_pages/train.py", label="Train a model (about a minute)", icon=":material/model_training:")
    st.stop()
model = resources.load_model_or_explain(run)
if model is None:
    st.stop()
if presenter.wanted():  # the presenter view: this page for a projector
    presenter.show(run)
    st.stop()
st.caption(f"Reading with **{run.name}**. Choose another model in the sidebar.")

st.session_state.setdefault("draw_session_right", [0, 0])  # right, total: this visit's drawings
st.session_state.setdefault("draw_canvas_version", 0)


def fresh_canvas() -> None:
    # Once the app has saved the drawing itself (the quick round), a new key gives an empty canvas. The Clear
    # button empties the canvas in the browser instead: a person may start the next stroke at once.
    st.session_state.draw_canvas_version += 1


canvas_col, result_col = st.columns([1, 1.25], gap="large")
with canvas_col:
    rgba = canvas.drawing_canvas(key=f"draw_canvas_{st.session_state.draw_canvas_version}")
    teach_view.quick_round(rgba, run.name, fresh_canvas)

digit_images = preprocess_canvas(rgba) if rgba is not None else []
reading: Reading | None = read_digits(resources.predictor(run), digit_images, not_a_digit.decision(run))

with result_col:
    prediction_col, confidence_col = st.columns(2)
    if reading is None:
        prediction_col.metric("Prediction", "–")
        confidence_col.metric("Confidence", "–")
        st.info("Draw a digit on the black square. The model's reading appears here.", icon=":material/draw:")
    else:
        not_a_digit.show_verdict(prediction_col, confidence_col, reading, len(digit_images))
        tabs = st.tabs([f"Digit {i + 1}: {p.text}" for i, p in enumerate(reading.predictions)]) \
            if len(reading.predictions) > 1 else [st.container()]
        for index, (tab, image, prediction) in enumerate(
            zip(tabs, digit_images, reading.predictions, strict=True)
        ):
            with tab:
                chart_col, image_col = st.columns([2, 1])
                chart_col.plotly_chart(probability_bars(prediction.probabilities), key=f"draw_bars_{index}",
                                       config={"displayModeBar": False})
                image_col.image(enlarge(image, 6), caption="What the model sees: 28×28 pixels, as in MNIST",
                                width=168)
                with image_col:
                    explain_view.why_it_said(run, image, prediction, key=str(index))

if reading is not None and rgba is not None:
    st.divider()
    drawing_id = hashlib.sha1(rgba.tobytes()).hexdigest()
    if st.session_state.get("draw_feedback_for") == drawing_id:
        st.success("Thanks! Your drawing was saved with its right answer.")
    else:
        st.markdown("**Was it right?** Your answer is saved with the drawing, to measure and improve the model.")
        right_col, truth_col, save_col = st.columns([1, 2, 1], vertical_alignment="bottom")
        answer = None
        if right_col.button(f"Yes, it is {reading.answer}", key="draw_right"):
            answer = reading.answer
        truth = truth_col.text_input("No, it was a ...", key="draw_truth", max_chars=12,
                                     placeholder="the right digit(s), or: not a digit")
        if save_col.button("Save answer", key="draw_save", disabled=not truth):
            answer = truth.strip()
        if answer is not None:
            try:
                saved = save_drawing(teach_view.drawings_dir(), rgba, answer, reading.answer, run.name)
            except FeedbackError as error:
                st.error(str(error))
            else:
                right, total = st.session_state.draw_session_right
                st.session_state.draw_session_right = [right + saved.right, total + 1]
                st.session_state.draw_feedback_for = drawing_id
                st.rerun()

teach_view.teach_section(run)
if reading is None:
    explain_view.warm_up(run)

right, total = st.session_state.draw_session_right
if total:
    saved_right, saved_total = right_count(load_drawings(teach_view.drawings_dir()), run.name)
    st.caption(
        f"Right on your drawings: **{right} of {total}** this visit; {saved_right} of {saved_total} "
        f"drawings saved for {run.name}."
    )
