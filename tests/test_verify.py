"""The verifier (cached gallery on disk, one embedding per face), which model runs, and the
headless command ``python -m faceapp.verify``, on real faces."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import face_photos
from tiny_models import OTHER, OWNER, enrol, exact_match_model, export_tiny

from faceapp.errors import FaceappError
from faceapp.paths import DataRoot

pytest.importorskip("keras")  # the tiny models are made (not run) with Keras

from faceapp.verification.verifier import Verifier, open_model  # noqa: E402
from faceapp.verify import main  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def exact(tmp_path_factory) -> Path:
    return exact_match_model(tmp_path_factory.mktemp("models") / "exact.keras")


@pytest.fixture
def root(exact, tmp_path) -> DataRoot:
    """A data root with five enrolled photos of the owner and the exact-match model."""
    root = DataRoot(tmp_path / "data").ensure()
    enrol(root.verification_images, face_photos(OWNER, slice(0, 5)))
    for file in exact.parent.iterdir():
        shutil.copy(file, root.models / file.name)
    return root


def verifier_for(root: DataRoot, **kwargs) -> Verifier:
    return Verifier(open_model(root), root, **kwargs)


def image(path: Path) -> np.ndarray:
    return cv2.imread(str(path))


# --- the verifier and its gallery --------------------------------------------------------------


def test_an_enrolled_face_matches_itself_only(root):
    verifier = verifier_for(root)
    decision, picture = verifier.verify_frame(image(face_photos(OWNER)[2]))
    assert picture.aligned and (decision.matches, decision.total) == (1, 5)
    decision, _ = verifier.verify_frame(image(face_photos(OTHER)[0]))
    assert decision.matches == 0 and not decision.verified


def test_no_verification_images_is_a_clear_error(root):
    shutil.rmtree(root.verification_images)
    with pytest.raises(FaceappError, match="no verification images in .*verification_images"):
        verifier_for(root).verify_frame(image(face_photos(OWNER)[0]))


# --- which model runs ---------------------------------------------------------------------------


def with_quality(model: Path, auc: float) -> None:
    """Record ``auc`` as the model's measured validation quality in its metadata."""
    meta = model.with_suffix(".json")
    values = json.loads(meta.read_text())
    values.setdefault("metrics", {})["validation"] = {"roc_auc": auc}
    meta.write_text(json.dumps(values))


def test_a_trained_model_runs_only_if_it_measured_as_well_as_the_shipped_one(tmp_path, exact):
    from faceapp.models.files import choose_model, quality, shipped_model

    root = DataRoot(tmp_path).ensure()
    assert choose_model(root).origin == "shipped" and not choose_model(root).why
    shipped_auc = quality(shipped_model())
    assert shipped_auc is not None and shipped_auc > 0.99
    old = export_tiny(root.models / "old.keras")
    os.utime(old, ns=(1, 1))
    os.utime(old.with_name("old.int8.tflite"), ns=(1, 1))
    new = export_tiny(root.models / "new.keras")
    with_quality(new, 0.597)  # a two-minute training run
    passed_over = choose_model(root)
    assert passed_over.origin == "shipped"
    assert "your newest model new.keras is not used (it measured AUC 0.597" in passed_over.why
    assert "faceapp-config set model " in passed_over.why
    with_quality(new, shipped_auc)  # as good as the shipped one: it runs
    chosen = choose_model(root)
    assert (chosen.origin, chosen.keras, chosen.describe()) == (
        "trained",
        new,
        "your model new.keras",
    )
    given = choose_model(root, str(exact.with_name("exact.int8.tflite")))
    assert given.origin == "given" and given.keras == exact
    saved = choose_model(root, saved="shipped")
    assert saved.shipped and saved.origin == "chosen"
    assert choose_model(root, saved="faceapp-aligned-v1").name == "faceapp-aligned-v1"
    assert choose_model(root, saved=str(old)).keras == old


# --- the command --------------------------------------------------------------------------------


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_verifies_the_enrolled_person_and_rejects_another(root, capsys):
    data = ["--data-root", root.root, "--verification-threshold", "0.1"]  # 1 of 5 matches
    code, out, err = run_cli(capsys, face_photos(OWNER)[0], *data)
    assert code == 0 and out.startswith("Verified: 1/5 matches"), out
    assert out.endswith(
        "; model: your model exact.keras (int8), vote: match above 0.50, verified above 10%\n"
    )
    assert err == ""
    assert (root.input_image / "input_image.jpg").is_file()
    code, out, _ = run_cli(capsys, face_photos(OTHER)[0], *data)
    assert code == 1 and out.startswith("Unverified: 0/5 matches (0%)")
    code, out, _ = run_cli(
        capsys,
        face_photos(OWNER)[0],
        "--data-root",
        root.root,
        "--verification-threshold",
        "0.3",
        "--json",
    )
    assert code == 1 and '"verified": false' in out and '"verification_threshold": 0.3' in out
    assert '"model": "your model exact.keras (int8)"' in out


def test_cli_multi_frame_skips_poor_frames_and_fuses_three_judged_ones(root, tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    owner = face_photos(OWNER)[0]
    cv2.imwrite(str(frames / "0_dark.png"), (image(owner) * 0.1).astype(np.uint8))
    cv2.imwrite(str(frames / "1_blank.png"), np.full((240, 320, 3), 128, np.uint8))
    for k in (2, 3, 4):  # the exact-match model matches this photo with 1 of 5 enrolled
        shutil.copy(owner, frames / f"{k}_owner.jpg")
    shutil.copy(face_photos(OTHER)[1], frames / "5_other.jpg")
    data = ["--data-root", root.root, "--verification-threshold", "0.1", "--liveness", "off"]
    code, out, _ = run_cli(capsys, "--camera", frames, "--timeout", 30, *data)
    assert code == 0, out
    assert out.startswith("Verified: 20% of enrolled faces matched over 3 frames"), out
    assert "3 frame(s) judged" in out and "1 no face" in out and "1 too dark" in out
    (frames / "3_owner.jpg").unlink()  # owner, other: a mean of 0.1, not above it
    (frames / "4_owner.jpg").unlink()
    code, out, _ = run_cli(capsys, frames, "--timeout", 30, *data)
    assert code == 1 and out.startswith("Unverified"), out


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda t: [t / "missing.jpg"], "file not found"),
        (lambda t: [t / "text.jpg"], "not a readable image"),
        (lambda t: [t / "empty.jpg"], "empty image file"),
        (lambda t: [t / "text.jpg", "--model", t / "missing.keras"], "model file not found"),
        (lambda t: [t / "text.jpg", "--model", t / "text.jpg"], "model file must be a .keras"),
        (lambda t: [t / "text.jpg", "--detection-threshold", "abc"], "--detection-threshold"),
        (lambda t: [t / "text.jpg", "--verification-threshold", "1.5"], "between 0 and 1"),
        (lambda t: [], "nothing to verify"),
        (lambda t: [t / "text.jpg", "--camera", "0"], "not both"),
        (lambda t: ["--camera", t / "nope"], "camera source not found"),
        (lambda t: ["--camera", "0", "--timeout", "-1"], "--timeout"),
        (lambda t: [t / "text.jpg", "--timeout", "3"], "--timeout needs a video"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(make_args, message, root, tmp_path, capsys):
    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "empty.jpg").write_bytes(b"")
    code, _, err = run_cli(capsys, *make_args(tmp_path), "--data-root", root.root)
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert message in lines[0] and "Traceback" not in err


def test_cli_help_teaches_usage_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for words in (
        "0 verified, 1 not verified",
        "--camera",
        "--timeout",
        "trusted source",
        "shipped model",
    ):
        assert words in out


def test_the_real_command_is_quiet_and_never_imports_tensorflow(root):
    """A fresh process: exit 0, then 2 for a bad file; TensorFlow and Keras never loaded."""
    script = (
        "import runpy, sys; sys.argv = ['faceapp.verify'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('faceapp.verify', run_name='__main__')\n"
        "finally:\n    print('tf' if {'tensorflow', 'keras'} & set(sys.modules) "
        "else 'no tf', file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    command = [
        sys.executable,
        "-c",
        script,
        "--data-root",
        str(root.root),
        "--verification-threshold",
        "0.1",
    ]
    good = subprocess.run(
        command + [str(face_photos(OWNER)[0])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("Verified")
    assert good.stderr == "no tf\n"
    bad = subprocess.run(
        command + ["/nonexistent.jpg"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert bad.returncode == 2
    assert bad.stderr == "error: file not found: /nonexistent.jpg\nno tf\n"
