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
from faceapp.models.files import SHIPPED_FOLDER, SHIPPED_NAME, shipped_model, shipped_names
from faceapp.models.runtime import load_model
from faceapp.vision.facenets import NETWORKS_FOLDER

CARD = SHIPPED_FOLDER / f"{SHIPPED_NAME}.card.md"
METADATA = SHIPPED_FOLDER / f"{SHIPPED_NAME}.json"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCORE_TOLERANCE = 0.02  # LiteRT's kernels may round differently on another CPU
SHIPPED = shipped_names()


def card_digests(name: str) -> dict[str, str]:
    card = SHIPPED_FOLDER / f"{name}.card.md"
    return dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", card.read_text(), re.M))


def evaluation_of(name: str) -> dict:
    return json.loads((SHIPPED_FOLDER / f"{name}.json").read_text())["shipped"]["evaluation"]


def test_the_default_is_the_calibrated_dlib_network_and_the_compact_one_is_still_there():
    assert SHIPPED_NAME == "faceapp-dlib-v1" and "faceapp-aligned-v1" in SHIPPED
    assert shipped_model().name == SHIPPED_NAME
    assert modelfiles.files_of("faceapp-aligned-v1").shipped  # --model by name


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_files_are_the_ones_the_card_names(name):
    digests = card_digests(name)
    assert set(digests) == {f"{name}.int8.tflite", f"{name}.json"}
    for file, digest in digests.items():
        assert hashlib.sha256((SHIPPED_FOLDER / file).read_bytes()).hexdigest() == digest, file
    assert not list(SHIPPED_FOLDER.glob("*.keras"))


def test_every_shipped_run_time_file_fits_in_16_mb():
    shipped = [*SHIPPED_FOLDER.iterdir(), *NETWORKS_FOLDER.iterdir()]
    assert sum(p.stat().st_size for p in shipped) < 16 * 2**20


@pytest.mark.parametrize("name", SHIPPED)
def test_the_card_says_what_the_metadata_measured(name):
    card = (SHIPPED_FOLDER / f"{name}.card.md").read_text()
    evaluation = evaluation_of(name)
    assert f"**{evaluation['lfw_pairs']['mean_accuracy']:.2%}**" in card
    assert "python -m training.recipes" in card or "python -m training.calibrate" in card
    assert "Licences" in card
    for row in (evaluation.get("owners") or {"results": {}})["results"].values():
        for values in row["5"]["operating_points"].values():
            assert f"FAR **{values['far']['rate']:.4%}**" in card


def test_the_default_meets_its_security_levels_on_the_people_kept_apart():
    """The figures the card states for five faces enrolled: each level's stranger rate within
    its target, at a false-reject rate users can live with (docs/accuracy.md)."""
    (row,) = evaluation_of(SHIPPED_NAME)["owners"]["results"].values()
    standard, high = row["5"]["operating_points"]["standard"], row["5"]["operating_points"]["high"]
    assert standard["far"]["upper_95"] <= 1e-3 and standard["frr"]["rate"] <= 0.03
    assert high["far"]["upper_95"] <= 1e-4 and high["frr"]["rate"] <= 0.05
    assert standard["far"]["of"] >= 30_000


@pytest.mark.parametrize("name", SHIPPED)
def test_it_still_scores_the_test_faces_as_when_it_was_shipped(name):
    from training.evaluation.scoring import PairScorer

    model = load_model(shipped_model(name))
    recorded = evaluation_of(name)["fixture_pairs"]
    firsts = [PROJECT_ROOT / r["first"] for r in recorded]
    seconds = [PROJECT_ROOT / r["second"] for r in recorded]
    scores = PairScorer(model, set(firsts + seconds)).scores(firsts, seconds)
    np.testing.assert_allclose(scores, [r["score"] for r in recorded], atol=SCORE_TOLERANCE)
    genuine = [s for s, r in zip(scores, recorded) if r["same"]]
    impostor = [s for s, r in zip(scores, recorded) if not r["same"]]
    assert min(genuine) > max(impostor) or np.mean(genuine) > np.mean(impostor) + 0.3


@pytest.mark.parametrize("name", SHIPPED)
def test_it_still_decides_held_out_lfw_pairs_as_the_card_says(lfw, name):
    """Fold 4 of LFW's pairs at the threshold the card's figure used for it."""
    from training.evaluation import lfw_pairs as pairs_protocol
    from training.evaluation.scoring import PairScorer

    row = next(r for r in evaluation_of(name)["lfw_pairs"]["folds"] if r["fold"] == 4)
    pairs = pairs_protocol.read_pairs_file(lfw / "pairs.txt", [4])
    paths = [pair.paths(lfw) for pair in pairs]
    scorer = PairScorer(load_model(shipped_model(name)), {p for two in paths for p in two})
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
