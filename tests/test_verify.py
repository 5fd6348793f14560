"""Verifier (cached gallery, one-batch scoring) and the headless command, on LFW faces."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceapp.errors import FaceappError
from faceapp.metadata import Thresholds
from faceapp.paths import DataRoot
from tiny_models import OTHER, OWNER, enrol, exact_match_model, photos, untrained_tiny_model

pytest.importorskip("keras")

from faceapp.verify import Verifier, main, resolve_model_path  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(path, model) of an untrained tiny Siamese model."""
    return untrained_tiny_model(tmp_path_factory.mktemp("models") / "tiny.keras")


@pytest.fixture
def gallery(lfw, tmp_path) -> Path:
    folder = tmp_path / "verification_images"
    enrol(folder, photos(lfw, OWNER, slice(0, 5)))
    return folder


@pytest.fixture
def owner_root(lfw, tmp_path_factory) -> DataRoot:
    """A data root with one enrolled owner photo and the exact-match model."""
    root = DataRoot(tmp_path_factory.mktemp("root")).ensure()
    enrol(root.verification_images, photos(lfw, OWNER, slice(0, 1)))
    exact_match_model(root.models / "exact.keras")
    return root


def test_fast_scores_equal_the_siamese_models_predict_on_pairs(tiny, gallery, lfw):
    path, model = tiny
    verifier = Verifier(path, gallery, runtime="keras")  # float32: equal to predict
    probe = photos(lfw, OTHER, slice(0, 1))[0]
    fast = verifier.scores(probe)

    from faceapp.imaging import preprocess, preprocess_many

    batch, _ = preprocess_many(sorted(gallery.iterdir()))
    pairs = np.repeat(preprocess(probe)[None], len(batch), axis=0)
    slow = model.predict([pairs, batch], verbose=0).reshape(-1)
    assert fast.shape == (5,)
    np.testing.assert_allclose(fast, slow, atol=1e-5)


def test_gallery_is_embedded_once_and_only_changes_are_recomputed(tiny, gallery, lfw):
    verifier = Verifier(tiny[0], gallery)
    face = photos(lfw, OTHER, slice(0, 1))[0]
    verifier.verify(face)
    assert verifier.embedding_calls == 2           # gallery (one batch) + the probe
    first = verifier.gallery().copy()
    verifier.verify(face)
    verifier.verify(face)
    assert verifier.embedding_calls == 4           # only the probes
    np.testing.assert_array_equal(verifier.gallery(), first)

    enrol(gallery, photos(lfw, OWNER, slice(5, 6)))   # enrol one more
    assert len(verifier.gallery()) == 6 and verifier.embedding_calls == 5
    removed = sorted(gallery.iterdir())[0]
    removed.unlink()
    assert len(verifier.gallery()) == 5 and verifier.embedding_calls == 5
    assert removed.name not in verifier.gallery_names

    changed = sorted(gallery.iterdir())[0]
    cv2.imwrite(str(changed), cv2.flip(cv2.imread(str(changed)), 1))
    os.utime(changed, ns=(1, 1))                   # a different mtime, for certain
    verifier.gallery()
    assert verifier.embedding_calls == 6


def test_unreadable_verification_images_are_skipped_with_one_warning(tiny, gallery, lfw):
    (gallery / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (gallery / "notes.jpg").write_text("not an image")
    warnings = []
    verifier = Verifier(tiny[0], gallery, on_warning=warnings.append)
    assert verifier.verify(photos(lfw, OTHER, slice(0, 1))[0]).total == 5
    verifier.verify(photos(lfw, OTHER, slice(0, 1))[0])
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: skipped 2 unreadable verification images")


def test_no_verification_images_is_a_clear_error(tiny, tmp_path, lfw):
    verifier = Verifier(tiny[0], tmp_path / "verification_images")
    with pytest.raises(FaceappError, match="no verification images in .*verification_images"):
        verifier.verify(photos(lfw, OWNER, slice(0, 1))[0])


def test_model_resolution_flag_then_newest_then_how_to_train(tmp_path):
    root = DataRoot(tmp_path).ensure()
    with pytest.raises(FaceappError, match=r"python -m training\.run"):
        resolve_model_path(root)
    (root.models / "old.keras").write_bytes(b"x")
    newest = root.models / "new.keras"
    newest.write_bytes(b"x")
    os.utime(root.models / "old.keras", ns=(1, 1))
    assert resolve_model_path(root) == newest
    assert resolve_model_path(root, "chosen.keras") == Path("chosen.keras")


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_verifies_the_enrolled_person_and_rejects_another(owner_root, lfw, capsys):
    root = ["--data-root", owner_root.root]
    code, out, _ = run_cli(capsys, photos(lfw, OWNER, slice(0, 1))[0], *root)
    assert code == 0 and out.startswith("Verified: 1/1 matches (100%)")
    assert (owner_root.input_image / "input_image.jpg").is_file()
    code, out, _ = run_cli(capsys, photos(lfw, OTHER, slice(0, 1))[0], *root)
    assert code == 1 and out.startswith("Unverified: 0/1 matches (0%)")
    code, out, _ = run_cli(capsys, photos(lfw, OWNER, slice(0, 1))[0], *root,
                           "--detection-threshold", "0.9", "--json")
    assert code == 1 and '"verified": false' in out and '"detection_threshold": 0.9' in out


def test_cli_multi_frame_stops_at_the_enrolled_face(owner_root, lfw, tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    dark = (cv2.imread(str(photos(lfw, OWNER, slice(0, 1))[0])) * 0.1).astype(np.uint8)
    cv2.imwrite(str(frames / "0_dark.png"), dark)
    cv2.imwrite(str(frames / "1_blank.png"), np.full((240, 320, 3), 128, np.uint8))
    shutil.copy(photos(lfw, OTHER, slice(0, 1))[0], frames / "2_other.jpg")
    shutil.copy(photos(lfw, OWNER, slice(0, 1))[0], frames / "3_owner.jpg")
    shutil.copy(photos(lfw, OTHER, slice(1, 2))[0], frames / "4_other.jpg")
    code, out, _ = run_cli(capsys, "--camera", frames, "--timeout", 30,
                           "--data-root", owner_root.root)
    assert code == 0, out
    assert out.startswith("Verified: 1/1") and "2 frame(s) judged" in out
    assert "1 no face" in out and "1 too dark" in out

    (frames / "3_owner.jpg").unlink()
    code, out, _ = run_cli(capsys, frames, "--timeout", 30, "--data-root", owner_root.root)
    assert code == 1 and out.startswith("Unverified")


@pytest.mark.parametrize("make_args, message", [
    (lambda t: [t / "missing.jpg"], "file not found"),
    (lambda t: [t / "text.jpg"], "not a readable image"),
    (lambda t: [t / "empty.jpg"], "empty image file"),
    (lambda t: [t / "text.jpg", "--model", t / "missing.keras"], "model file not found"),
    (lambda t: [t / "text.jpg", "--model", t / "text.jpg"], "must end in .keras or .h5"),
    (lambda t: [t / "text.jpg", "--detection-threshold", "abc"], "--detection-threshold"),
    (lambda t: [t / "text.jpg", "--verification-threshold", "1.5"], "between 0 and 1"),
    (lambda t: [], "nothing to verify"),
    (lambda t: [t / "text.jpg", "--camera", "0"], "not both"),
    (lambda t: ["--camera", t / "nope"], "camera source not found"),
    (lambda t: ["--camera", "0", "--timeout", "-1"], "--timeout"),
])
def test_cli_bad_input_is_one_line_and_exit_2(make_args, message, owner_root, tmp_path,
                                              capsys):
    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "empty.jpg").write_bytes(b"")
    code, out, err = run_cli(capsys, *make_args(tmp_path), "--data-root", owner_root.root)
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_cli_without_a_model_says_how_to_train(tmp_path, face_path, capsys):
    code, _, err = run_cli(capsys, face_path, "--data-root", tmp_path)
    assert code == 2 and "python -m training.run" in err


def test_cli_help_teaches_usage_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for words in ("0 verified, 1 not verified", "--camera", "--timeout", "trusted source"):
        assert words in out


def test_real_command_exit_codes_and_quiet_stderr(owner_root, lfw):
    """The installed entry point, in a fresh process: exit 0, then exit 2 for a bad file."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "faceapp.verify", "--data-root", str(owner_root.root)]
    good = subprocess.run(command + [str(photos(lfw, OWNER, slice(0, 1))[0])], env=env,
                          capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("Verified") and good.stderr == ""
    bad = subprocess.run(command + ["/nonexistent.jpg"], env=env, capture_output=True,
                         text=True, timeout=120, cwd=PROJECT_ROOT)
    assert bad.returncode == 2 and bad.stderr == "error: file not found: /nonexistent.jpg\n"
