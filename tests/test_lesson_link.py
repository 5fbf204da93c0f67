"""Lesson links: the Train page's set-up read from an address and written back."""

from __future__ import annotations

from digits.lesson_link import SETTINGS, lesson_query, only_this_computer, read_lesson, share_link
from digits.qr_code import qr_png

ONE_RUN_SCREEN = {"kind": "cnn", "epochs": 5, "batch_size": 64, "learning_rate": 0.003, "hidden_units": 64,
                  "dropout": 0.2, "augment": True, "not_a_digit": False, "seed": 7, "mode": "one",
                  "vary": "batch_size", "race_kind": "mlp", "race_epochs": 2, "values": [32, 256]}


def test_a_link_reads_every_setting_and_the_controls_to_hide() -> None:
    lesson = read_lesson({"kind": "cnn", "epochs": "3", "batch_size": "256", "learning_rate": "0.01",
                          "dropout": "0.2", "augment": "on", "seed": "7", "hide": "learning_rate,dropout",
                          "model": "default", "job": "abc"})
    assert lesson.settings == {"kind": "cnn", "epochs": 3, "batch_size": 256, "learning_rate": 0.01,
                               "dropout": 0.2, "augment": True, "seed": 7}
    assert lesson.hidden == {"learning_rate", "dropout"}
    assert lesson.notices == ()


def test_what_is_on_screen_goes_into_the_address_and_back() -> None:
    query = lesson_query(ONE_RUN_SCREEN, frozenset({"dropout", "epochs"}))
    assert query == {"kind": "cnn", "epochs": "5", "batch_size": "64", "learning_rate": "0.003",
                     "hidden_units": "64", "dropout": "0.2", "augment": "on", "seed": "7", "hide": "epochs,dropout"}
    lesson = read_lesson(query)
    assert lesson.notices == ()
    assert lesson.hidden == {"dropout", "epochs"}
    assert all(ONE_RUN_SCREEN[name] == value for name, value in lesson.settings.items())


def test_a_kinds_defaults_stay_out_of_the_address() -> None:
    screen = {**ONE_RUN_SCREEN, "kind": "mlp", "epochs": 5, "batch_size": 32, "learning_rate": 0.001,
              "hidden_units": 128, "dropout": 0.0, "augment": False, "seed": 0}
    assert lesson_query(screen) == {"kind": "mlp"}


def test_a_race_goes_into_the_address_and_back() -> None:
    race = {**ONE_RUN_SCREEN, "mode": "compare", "vary": "learning_rate", "values": [0.001, 0.1]}
    query = lesson_query(race)
    assert query == {"mode": "compare", "vary": "learning_rate", "race_kind": "mlp", "race_epochs": "2",
                     "values": "0.001,0.1"}
    assert read_lesson(query).settings == {"mode": "compare", "vary": "learning_rate", "race_kind": "mlp",
                                           "race_epochs": 2, "values": [0.001, 0.1]}
    assert set(SETTINGS) >= set(query)


def test_unknown_and_impossible_values_are_left_out_with_a_notice() -> None:
    lesson = read_lesson({"epochs": "500", "batch_size": "33", "dropout": "0.27", "kind": "transformer",
                          "learning_rate": "fast", "colour": "red", "augment": "maybe", "seed": "3",
                          "values": "32", "hide": "epochs,everything"})
    assert lesson.settings == {"seed": 3}
    assert lesson.hidden == {"epochs"}
    text = "\n".join(lesson.notices)
    assert len(lesson.notices) == 9, text
    assert "epochs='500'" in text and "a whole number from 1 to 30" in text
    assert "learning_rate='fast'" in text and "'colour'" in text and "everything" in text
    assert "batch_size takes 2 to 4 values" in text


def test_a_shared_link_keeps_the_set_up_and_leaves_out_this_sessions_own_runs() -> None:
    query = {"model": "default", "kind": "cnn", "hide": "epochs,dropout", "job": "abc", "race": "d,e",
             "present": "1"}
    assert share_link("http://192.168.1.20:8501/train", query) == \
        "http://192.168.1.20:8501/train?model=default&kind=cnn&hide=epochs,dropout"
    assert share_link("http://192.168.1.20:8501/draw", {"job": "abc"}) == "http://192.168.1.20:8501/draw"
    assert only_this_computer("http://localhost:8501/draw")
    assert only_this_computer("http://127.0.0.1:8501/")
    assert not only_this_computer("http://192.168.1.20:8501/draw")


def test_a_qr_code_decodes_to_its_link() -> None:
    import io

    import zxingcpp
    from PIL import Image

    link = "http://192.168.1.20:8501/train?model=default&kind=cnn&hide=epochs,dropout"
    png = qr_png(link)
    image = Image.open(io.BytesIO(png))
    assert image.width >= 400  # sharp on a projector without scaling up
    assert [result.text for result in zxingcpp.read_barcodes(image)] == [link]
