"""The shipped model: its files are the ones its card names, it still decides faces as the
card says, and a missing or damaged file is named with the way to restore it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from faceapp.errors import FaceappError
from faceapp.models import files as modelfiles
from faceapp.models.files import SHIPPED_FOLDER, SHIPPED_NAME, shipped_model
from faceapp.models.runtime import load_model

CARD = SHIPPED_FOLDER / f"{SHIPPED_NAME}.card.md"
METADATA = SHIPPED_FOLDER / f"{SHIPPED_NAME}.json"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCORE_TOLERANCE = 0.02  # LiteRT's kernels may round differently on another CPU


def card_digests() -> dict[str, str]:
    return dict(
        re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", CARD.read_text(), re.MULTILINE)
    )


def test_the_shipped_files_are_the_ones_the_card_names():
    digests = card_digests()
    assert set(digests) == {f"{SHIPPED_NAME}.int8.tflite", f"{SHIPPED_NAME}.json"}
    for name, digest in digests.items():
        assert hashlib.sha256((SHIPPED_FOLDER / name).read_bytes()).hexdigest() == digest, name
    total = sum((SHIPPED_FOLDER / name).stat().st_size for name in digests)
    assert total + CARD.stat().st_size < 10 * 2**20  # well under 10 MB, no Keras file
    assert not list(SHIPPED_FOLDER.glob("*.keras"))


def test_the_card_says_what_the_metadata_measured():
    card = CARD.read_text()
    evaluation = json.loads(METADATA.read_text())["shipped"]["evaluation"]
    assert f"**{evaluation['lfw_pairs']['mean_accuracy']:.2%}**" in card
    assert "python -m training.recipes" in card and "Licences" in card


def test_it_still_scores_the_test_faces_as_when_it_was_shipped():
    from training.evaluation.scoring import PairScorer

    model = load_model(shipped_model())
    recorded = json.loads(METADATA.read_text())["shipped"]["evaluation"]["fixture_pairs"]
    firsts = [PROJECT_ROOT / r["first"] for r in recorded]
    seconds = [PROJECT_ROOT / r["second"] for r in recorded]
    scores = PairScorer(model, set(firsts + seconds)).scores(firsts, seconds)
    np.testing.assert_allclose(scores, [r["score"] for r in recorded], atol=SCORE_TOLERANCE)
    threshold = model.metadata.values["detection_threshold"]
    genuine = [s for s, r in zip(scores, recorded) if r["same"]]
    impostor = [s for s, r in zip(scores, recorded) if not r["same"]]
    assert np.mean(np.array(genuine) > threshold) >= 0.75  # a real model, not noise
    assert np.mean(np.array(impostor) > threshold) == 0.0


def test_it_still_decides_held_out_lfw_pairs_as_the_card_says(lfw):
    """Fold 4 of LFW's pairs at the threshold the card's figure used for it."""
    from training.evaluation import lfw_pairs as pairs_protocol
    from training.evaluation.scoring import PairScorer

    evaluation = json.loads(METADATA.read_text())["shipped"]["evaluation"]["lfw_pairs"]
    row = next(r for r in evaluation["folds"] if r["fold"] == 4)
    pairs = pairs_protocol.read_pairs_file(lfw / "pairs.txt", [4])
    paths = [pair.paths(lfw) for pair in pairs]
    scorer = PairScorer(load_model(shipped_model()), {p for two in paths for p in two})
    scores = scorer.scores([a for a, _ in paths], [b for _, b in paths])
    labels = np.array([pair.same for pair in pairs])
    accuracy = float(np.mean((scores > row["threshold"]) == labels))
    assert accuracy == pytest.approx(row["accuracy"], abs=2 / len(pairs))


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    folder = tmp_path / "shipped"
    shutil.copytree(SHIPPED_FOLDER, folder)
    monkeypatch.setattr(modelfiles, "SHIPPED_FOLDER", folder)
    return folder


def test_a_missing_shipped_file_is_named_with_how_to_restore_it(shipped_copy):
    (shipped_copy / f"{SHIPPED_NAME}.json").unlink()
    with pytest.raises(
        FaceappError,
        match=r"shipped model file .*\.json is missing; restore "
        r"it with: git checkout -- ",
    ):
        shipped_model()
    # the copy's tflite gone too: named as well
    shutil.copy(METADATA, shipped_copy / METADATA.name)
    (shipped_copy / f"{SHIPPED_NAME}.int8.tflite").unlink()
    with pytest.raises(FaceappError, match=r"int8\.tflite is missing; restore it with"):
        load_model(shipped_model())


def test_an_edited_shipped_file_is_named_not_run(shipped_copy):
    network = shipped_copy / f"{SHIPPED_NAME}.int8.tflite"
    data = bytearray(network.read_bytes())
    data[len(data) // 3] ^= 0x40
    network.write_bytes(bytes(data))
    with pytest.raises(
        FaceappError,
        match=r"shipped model file .* is damaged .*SHA-256.*git "
        r"checkout -- ",
    ):
        load_model(shipped_model())
    (shipped_copy / METADATA.name).write_text("{ not json")
    with pytest.raises(FaceappError, match=r"\.json is damaged .*git checkout"):
        load_model(shipped_model())


def test_faceapp_verify_names_a_damaged_shipped_model_and_exits_2(shipped_copy, tmp_path, capsys):
    from faceapp.verify import main

    (shipped_copy / f"{SHIPPED_NAME}.int8.tflite").write_bytes(b"edited")
    photo = PROJECT_ROOT / "tests" / "fixtures" / "faces" / "Colin_Powell"
    code = main([str(next(photo.glob("*.jpg"))), "--data-root", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: the shipped model file ") and "git checkout -- " in err
