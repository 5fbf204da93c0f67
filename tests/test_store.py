from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from digits.data import Mnist
from digits.models import build_model, default_hyperparameters
from digits.store import ModelStore, RunExists, StoreError, new_run_record, sanitise_name


def saved_run(store: ModelStore, sample: Mnist, name: str):
    hp = default_hyperparameters("mlp", epochs=1)
    model = build_model(hp, steps_per_epoch=1)
    record = new_run_record(name=name, hp=hp, history={"loss": [1.0]}, test={"accuracy": 0.5, "loss": 1.0},
                            seconds=1.0, data=sample, status="finished", compute_dtype="float32")
    return model, store.save(model, record)


def test_round_trip_keeps_weights_and_drops_optimizer(sample: Mnist, tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store", builtin=None)
    model, record = saved_run(store, sample, "first")
    loaded = store.load("first")
    x = sample.x_test[:5] / 255.0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with zipfile.ZipFile(tmp_path / "store" / "first" / "model.keras") as archive:
        assert not json.loads(archive.read("config.json")).get("compile_config")
        with h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as weights:
            assert "optimizer" not in weights
    assert store.record("first") == record
    assert record.versions["keras"].startswith("3.")
    assert [run.name for run in store.list()] == ["first"]


def test_existing_run_is_not_overwritten(sample: Mnist, tmp_path: Path) -> None:
    store = ModelStore(tmp_path, builtin=None)
    saved_run(store, sample, "same")
    with pytest.raises(RunExists):
        saved_run(store, sample, "same")
    assert store.unique_name("same") == "same-2"


@pytest.mark.parametrize("hostile", ["../../etc/evil", "/abs/path", "..", "a/../../b", "run\x00name"])
def test_hostile_names_stay_inside_the_store(sample: Mnist, tmp_path: Path, hostile: str) -> None:
    store = ModelStore(tmp_path / "store", builtin=None)
    try:
        _, record = saved_run(store, sample, hostile)
    except StoreError:
        return  # refused outright is fine too
    assert (tmp_path / "store" / record.name).resolve().parent == (tmp_path / "store").resolve()
    assert "/" not in record.name and not record.name.startswith(".")


def test_names_are_sanitised_and_nonsense_refused() -> None:
    assert sanitise_name("  my first run!  ") == "my-first-run"
    with pytest.raises(StoreError, match="cannot be used"):
        sanitise_name("../..")
    with pytest.raises(StoreError):
        ModelStore().load("../outside")


def test_damaged_runs_are_listed_with_their_problem_and_do_not_break_others(sample: Mnist, tmp_path: Path) -> None:
    store = ModelStore(tmp_path, builtin=None)
    saved_run(store, sample, "good")
    saved_run(store, sample, "bad-record")
    saved_run(store, sample, "bad-model")
    (tmp_path / "bad-record" / "run.json").write_text("{not json")
    (tmp_path / "bad-model" / "model.keras").write_bytes(b"garbage")
    (tmp_path / ".tmp-half-written-123").mkdir()  # a save interrupted by a crash

    runs = {run.name: run for run in store.list()}
    assert set(runs) == {"good", "bad-record", "bad-model"}
    assert runs["bad-record"].record is None and "damaged" in (runs["bad-record"].problem or "")
    assert runs["good"].problem is None
    with pytest.raises(StoreError, match="bad-model"):
        store.load("bad-model")
    assert store.load("good") is not None


def test_delete(sample: Mnist, tmp_path: Path) -> None:
    store = ModelStore(tmp_path, builtin=None)
    saved_run(store, sample, "doomed")
    store.delete("doomed")
    assert store.list() == []
    with pytest.raises(StoreError, match="No run"):
        store.delete("doomed")


def test_record_is_plain_json(sample: Mnist, tmp_path: Path) -> None:
    store = ModelStore(tmp_path, builtin=None)
    saved_run(store, sample, "plain")
    record = json.loads((tmp_path / "plain" / "run.json").read_text())
    assert record["hyperparameters"]["model"] == "mlp"
    assert len(record["data_fingerprint"]) == 16


def test_unwritable_store_gives_a_clear_error(sample: Mnist, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="Cannot write"):
        saved_run(ModelStore(blocker / "models", builtin=None), sample, "x")


def test_builtin_default_is_listed_last_read_only_and_its_name_reserved(sample: Mnist, tmp_path: Path) -> None:
    saved_run(ModelStore(tmp_path / "assets", builtin=None), sample, "default")
    store = ModelStore(tmp_path / "models", builtin=tmp_path / "assets" / "default")
    saved_run(store, sample, "mine")
    assert [run.name for run in store.list()] == ["mine", "default"]
    assert store.load("default") is not None
    with pytest.raises(StoreError, match="cannot be deleted"):
        store.delete("default")
    with pytest.raises(RunExists):
        saved_run(store, sample, "default")
    assert store.unique_name("default") == "default-2"
