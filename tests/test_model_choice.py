"""Which model runs (faceapp.models.files.choose_model): a half-written, hidden, damaged or
weaker model never replaces the shipped one; an int8-only model that measured as well does.
Candidates are the shipped model's own files under other names, so no TensorFlow is needed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from faceapp.errors import FaceappError
from faceapp.models.files import (
    SHIPPED_NAME,
    choose_model,
    files_of,
    newest_trained,
    quality,
    shipped_model,
)
from faceapp.paths import DataRoot

SHIPPED_AUC = 0.9963416666666665  # faceapp-dlib-v1.json: shipped.evaluation.lfw_pairs


@pytest.fixture
def root(tmp_path) -> DataRoot:
    return DataRoot(tmp_path / "data").ensure()


def trained(root: DataRoot, stem: str, auc: float | None, age: int) -> Path:
    """An int8-only model in ``models/`` (the shipped network under another name) whose
    metadata claims ``auc``; ``age``: its modification time, larger is newer."""
    shipped = shipped_model()
    model = root.models / f"{stem}.int8.tflite"
    shutil.copy(shipped.int8_path, model)
    metadata = json.loads(shipped.metadata_path.read_text())
    metadata.pop("shipped")
    if auc is not None:
        metadata["metrics"] = {"validation": {"roc_auc": auc}}
    (root.models / f"{stem}.json").write_text(json.dumps(metadata))
    os.utime(model, ns=(age, age))
    return model


def test_with_nothing_trained_the_shipped_model_runs_without_a_note(root):
    chosen = choose_model(root)
    assert (chosen.name, chosen.origin, chosen.why) == (SHIPPED_NAME, "shipped", "")


def test_an_int8_only_model_that_measured_as_well_runs(root):
    model = trained(root, "mine", SHIPPED_AUC, age=10)
    chosen = choose_model(root)
    assert chosen.origin == "trained" and chosen.int8_path == model and chosen.keras is None
    assert chosen.describe() == "your model mine.int8.tflite"


def test_a_weaker_or_unmeasured_model_is_passed_over_and_the_note_says_why(root):
    trained(root, "quick", 0.71, age=10)
    chosen = choose_model(root)
    assert chosen.name == SHIPPED_NAME and chosen.origin == "shipped"
    assert chosen.why.startswith(
        "your newest model quick.int8.tflite is not used (it measured AUC 0.710 against 0.996)"
    )
    assert chosen.why.endswith(f"faceapp-config set model {root.models / 'quick.int8.tflite'}")
    trained(root, "unmeasured", None, age=20)
    assert "(nothing measured)" in choose_model(root).why


def test_a_half_written_hidden_or_non_model_file_is_never_chosen_however_new(root):
    model = trained(root, "good", SHIPPED_AUC, age=10)
    for name in (".good2.tmp-ab12cd.keras", ".good3.int8.tflite", "notes.json", "x.txt"):
        (root.models / name).write_bytes(model.read_bytes())
        os.utime(root.models / name, ns=(99, 99))
    (root.models / "folder.keras").mkdir()
    os.utime(root.models / "folder.keras", ns=(99, 99))
    assert newest_trained(root).stem == root.models / "good"
    assert choose_model(root).int8_path == model


def test_a_damaged_newest_model_is_passed_over_not_run(root):
    trained(root, "good", SHIPPED_AUC, age=10)
    broken = trained(root, "broken", SHIPPED_AUC, age=20)
    (root.models / "broken.json").write_text("{ not json")
    chosen = choose_model(root)
    assert chosen.name == SHIPPED_NAME and "broken.int8.tflite is not used" in chosen.why
    assert newest_trained(root).int8_path == broken


def test_the_flag_then_the_saved_choice_then_the_rule(root):
    mine = trained(root, "mine", SHIPPED_AUC, age=10)
    assert choose_model(root, flag="faceapp-aligned-v1").name == "faceapp-aligned-v1"
    assert choose_model(root, flag=str(mine)).origin == "given"
    saved = choose_model(root, saved="shipped")
    assert (saved.name, saved.origin) == (SHIPPED_NAME, "chosen")
    assert choose_model(root, saved="faceapp-aligned-v1").name == "faceapp-aligned-v1"
    assert choose_model(root, saved=str(mine)).int8_path == mine
    assert choose_model(root, saved=str(mine)).origin == "chosen"
    assert files_of(mine).origin == "given"
    assert files_of("faceapp-aligned-v1", "chosen").origin == "chosen"
    assert files_of("faceapp-aligned-v1").origin == "given"
    assert choose_model(root, flag=str(mine), saved="shipped").origin == "given"


def test_quality_reads_the_best_measurement_there_is(root):
    model = trained(root, "m", None, age=1)
    files = files_of(model)
    assert quality(files) is None
    metadata = json.loads(files.metadata_path.read_text())
    metadata["metrics"] = {"head_pairs": {"roc_auc": 0.6}}
    files.metadata_path.write_text(json.dumps(metadata))
    assert quality(files) == 0.6
    metadata["metrics"]["validation"] = {"roc_auc": 0.7}
    files.metadata_path.write_text(json.dumps(metadata))
    assert quality(files) == 0.7
    metadata["shipped"] = {"evaluation": {"lfw_pairs": {"roc_auc": 0.8}}}
    files.metadata_path.write_text(json.dumps(metadata))
    assert quality(files) == 0.8
    metadata["shipped"] = {"evaluation": {"lfw_pairs": {"roc_auc": "0.99"}}}  # not a number
    files.metadata_path.write_text(json.dumps(metadata))
    assert quality(files) == 0.7
    assert quality(shipped_model()) == SHIPPED_AUC


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.keras", "model file not found"),
        (lambda d: d, "model path is not a file"),
        (lambda d: d / "model.onnx", "model file must be"),
        (lambda d: d / "empty.keras", "model file is empty"),
    ],
)
def test_paths_that_cannot_be_a_model_are_one_line_errors(tmp_path, make, message):
    (tmp_path / "model.onnx").write_bytes(b"x")
    (tmp_path / "empty.keras").write_bytes(b"")
    with pytest.raises(FaceappError, match=message):
        files_of(make(tmp_path))


def test_any_file_of_a_model_names_the_same_model(tmp_path):
    for name in ("m.keras", "m.json", "m.int8.tflite"):
        (tmp_path / name).write_bytes(b"x")
    for name in ("m.keras", "m.json", "m.int8.tflite"):
        files = files_of(tmp_path / name)
        assert files.stem == tmp_path / "m" and files.keras == tmp_path / "m.keras"
    (tmp_path / "m.h5").write_bytes(b"x")
    assert files_of(tmp_path / "m.h5").keras == tmp_path / "m.h5"  # the file given
    (tmp_path / "m.keras").unlink()
    assert files_of(tmp_path / "m.json").keras == tmp_path / "m.h5"


def test_a_missing_shipped_model_says_how_to_restore_it(monkeypatch, tmp_path):
    import faceapp.models.files as files

    monkeypatch.setattr(files, "SHIPPED_FOLDER", tmp_path)
    with pytest.raises(FaceappError, match="shipped model file .* is missing; restore it with"):
        shipped_model()


def test_how_a_model_is_named_to_the_user(tmp_path):
    for name in ("m.keras", "m.json", "m.int8.tflite"):
        (tmp_path / name).write_bytes(b"x")
    assert files_of(tmp_path / "m.json", "trained").describe() == "your model m.keras"
    assert files_of(tmp_path / "m.json", "chosen").describe() == "your model m.keras"
    assert files_of(tmp_path / "m.json", "given").describe() == "model m.keras"
    (tmp_path / "m.keras").unlink()
    assert files_of(tmp_path / "m.json", "given").describe() == "model m.int8.tflite"
    assert shipped_model().describe() == f"shipped model {SHIPPED_NAME}"


def test_a_damaged_file_is_named_with_what_to_do(tmp_path, monkeypatch):
    (tmp_path / "m.keras").write_bytes(b"x")
    ours = files_of(tmp_path / "m.keras").damaged(tmp_path / "m.keras", "truncated")
    assert str(ours) == (
        f"model file {tmp_path / 'm.keras'} is truncated; train the model again or delete it"
    )
    shipped = shipped_model()
    monkeypatch.chdir(shipped.stem.parent.parent.parent.parent)  # the checkout
    said = str(shipped.damaged(shipped.int8_path, "missing"))
    assert said.endswith(
        f"is missing; restore it with: git checkout -- faceapp/models/shipped/{SHIPPED_NAME}"
        ".int8.tflite"
    )
    monkeypatch.chdir(tmp_path)  # elsewhere: the whole path
    said = str(shipped.damaged(shipped.int8_path, "missing"))
    assert said.endswith(f"restore it with: git checkout -- {shipped.int8_path}")
