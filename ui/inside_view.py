"""The Train page's "Inside the network": snapshots of a run's network (digits.snapshots) live while it trains,
and a replay of any saved run's snapshots with a slider."""

from __future__ import annotations

import base64
import io

import numpy as np
import streamlit as st
from PIL import Image

from digits import snapshots
from digits.background.jobs import Job
from digits.inside_charts import answer_text, digit_accuracy_bars, digit_map, learned_pictures, when_text
from digits.snapshots import NetworkSnapshot, Probe, Recording, SnapshotsDamaged
from digits.store import StoreError
from ui import resources

NO_SNAPSHOTS = ("No snapshots were kept for **{name}**: it was saved before snapshots existed, or trained with "
                "`--no-snapshots`. Its model and curves are unaffected.")
STRIP_PIXELS = 48  # each strip digit's width on the page


def _png(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _strip(snapshot: NetworkSnapshot, probe: Probe, explain: bool = True) -> None:
    right = snapshot.strip_answers == probe.strip_labels
    if explain:
        st.markdown(f"**Test digits it reads** ({int(right.sum())} of {len(right)} right): two of each digit, the "
                    "second a hard one, with its answer under it: watch ✗ turn to ✓. A learning rate too high makes "
                    "answers flip back and forth.")
    else:
        st.caption(f"Strip: {int(right.sum())} of {len(right)} right")
    figures = "".join(
        f'<figure data-testid="insideStripDigit" data-answer="{answer_text(int(answer))}" '
        f'data-right="{int(ok)}" style="margin:0;text-align:center" title="a {label}, read as '
        f'{answer_text(int(answer))}"><img alt="a {label}" width="{STRIP_PIXELS}" height="{STRIP_PIXELS}" '
        f'style="image-rendering:pixelated" src="data:image/png;base64,{_png(image)}"/>'
        f'<figcaption style="color:{"#1a7f37" if ok else "#be1e2d"};font-weight:600">'
        f'{answer_text(int(answer))} {"✓" if ok else "✗"}</figcaption></figure>'
        for image, label, answer, ok in zip(probe.strip_images, probe.strip_labels, snapshot.strip_answers, right,
                                            strict=True)
    )
    st.html(f'<div style="display:flex;flex-wrap:wrap;gap:6px">{figures}</div>')


def show_snapshot(snapshot: NetworkSnapshot, probe: Probe, key: str) -> None:
    """One snapshot: what it has learned, the strip, the map and the accuracy per digit, each with what to
    look for. ``key`` tells this panel's charts from another's."""
    st.caption(f"Snapshot {when_text(snapshot)} · {snapshot.map_accuracy(probe.map_labels):.0%} of the map's "
               f"{len(probe.map_labels):,} test digits read right")
    st.markdown("**What it has learned so far**: " + (
        "watch the filters turn from noise into small stroke and edge finders, and the feature maps light up "
        "along the 7's strokes." if snapshot.convolutional else
        "watch each digit's pattern turn from noise into the digit's blurred shape (red: ink here raises its "
        "score; blue: lowers it). With too large batches they stay noisy much longer."))
    for _, title, picture in learned_pictures(snapshot, probe):
        st.image(picture, caption=title)
    _strip(snapshot, probe)
    map_column, bars_column = st.columns([3, 2])
    with map_column:
        st.markdown("**The map of the digits**: each point a test digit, placed by what the last hidden layer makes "
                    "of it, coloured by its true digit (✕: read wrong). Watch the colours gather into groups.")
        picked = st.plotly_chart(digit_map(snapshot, probe), key=f"{key}_map", on_select="rerun",
                                 selection_mode="points", config={"displayModeBar": False})
        points = picked.selection.points if picked and picked.selection else []
        if points:
            index = int(points[0]["customdata"])
            answer = answer_text(int(snapshot.map_answers[index]))
            st.image(np.asarray(Image.fromarray(probe.map_images[index]).resize((84, 84), Image.NEAREST)),
                     caption=f"the digit you picked: a {probe.map_labels[index]}, read as {answer}")
        else:
            st.caption("Point at a digit to see what it is and how it was read; click it to see the digit.")
    with bars_column:
        st.markdown("**Read right, per digit**: which digits it learns first, and which stay hard.")
        st.plotly_chart(digit_accuracy_bars(snapshot, probe), key=f"{key}_bars", config={"displayModeBar": False})


def replay(recording: Recording, key: str) -> None:
    """A slider over the snapshots, and the one it points at (the last at first)."""
    assert recording.probe is not None
    chosen = recording.snapshots
    index = st.select_slider(
        "Replay its training", range(len(chosen)), value=len(chosen) - 1, key=f"{key}_slider",
        format_func=lambda position: "start" if chosen[position].step == 0 else f"epoch {chosen[position].epoch:.2f}",
        help="Move it to see the network at each snapshot: before training, six times in the first epoch, and after "
             "every epoch.",
    )
    show_snapshot(chosen[index], recording.probe, key)


def live(job: Job, running: bool) -> None:
    """The job's latest snapshot while it runs (called from the page's polling fragment); its replay once done."""
    recording = job.recording()
    st.subheader("Inside the network", anchor=False)
    if not recording:
        st.caption("The first snapshot appears as training begins." if running else
                   "No snapshots were taken in this run.")
        return
    if running:
        show_snapshot(recording.snapshots[-1], recording.probe, "inside_live")
    else:
        replay(recording, f"inside_job_{job.job_id}")


@st.cache_data(max_entries=8, show_spinner=False)
def _saved_recording(name: str, created: str) -> Recording | None:
    """A saved run's snapshots, read once (``created`` tells a run from a later one of the same name)."""
    return snapshots.load(resources.store().folder(name), name)


def saved_run_replay(names: list[str]) -> None:
    """Choose any saved run and replay its snapshots; a run without (or with damaged) snapshots says so."""
    st.subheader("Replay a saved run", anchor=False)
    if not names:
        st.caption("Runs you train are saved with snapshots of their network, to replay here.")
        return
    name = st.selectbox("Run to replay", names, key="inside_replay_run")
    try:
        recording = _saved_recording(name, resources.store().record(name).created)
    except (SnapshotsDamaged, StoreError) as error:
        st.warning(str(error))
        return
    if recording is None:
        st.info(NO_SNAPSHOTS.format(name=name))
        return
    replay(recording, f"inside_saved_{name}")


def side_by_side(labels: list[str], recordings: list[Recording], running: bool, key: str) -> None:
    """Compare mode: each runner's network at the same point of its training, side by side: live, the latest
    snapshot of each; after the race, one slider for all (runners of the same epochs take their snapshots at
    the same shares of their training, whatever their batch size)."""
    st.subheader("Inside each network", anchor=False)
    if not any(recordings):
        st.caption("Each runner's network appears here as it begins to train.")
        return
    st.caption("The same test digits for every runner: see which one's patterns turn into digits first, whose "
               "answers settle, and whose map sorts the digits into groups.")
    longest = max(len(recording.snapshots) for recording in recordings)
    position = longest - 1
    if not running:
        position = st.select_slider("Replay the race", range(longest), value=longest - 1, key=f"{key}_slider",
                                    format_func=lambda index: "start" if index == 0 else f"snapshot {index}")
    for number, (column, label, recording) in enumerate(zip(st.columns(len(recordings)), labels, recordings,
                                                            strict=True)):
        with column:
            st.markdown(f"**{label}**")
            if not recording:
                st.caption("No snapshot yet.")
                continue
            assert recording.probe is not None
            snapshot = recording.snapshots[min(position, len(recording.snapshots) - 1)]
            st.caption(f"{when_text(snapshot)} · {snapshot.map_accuracy(recording.probe.map_labels):.0%} right")
            _, title, picture = learned_pictures(snapshot, recording.probe)[0]
            st.image(picture, caption=title)
            _strip(snapshot, recording.probe, explain=False)
            st.plotly_chart(digit_map(snapshot, recording.probe, height=260, legend=False),
                            key=f"{key}_map_{number}", config={"displayModeBar": False})
