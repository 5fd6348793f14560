"""The real app window (under Xvfb), fed by real videos and by videos of the fixture's faces.

Each test runs ``python -m faceapp.app.autopilot`` in a subprocess: it opens the window that
``main.py`` opens, presses keys through Kivy's own key events, and reports what the window
shows. The window never runs in the pytest process (TensorFlow may be imported here, and a
Kivy window in such a process segfaults). Every verification here runs the shipped model:
no training, as a new user finds the app.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from app_support import PROJECT_ROOT, enrol_steps, make_video, run_app
from conftest import face_photos

from faceapp.app.autopilot import start_xvfb
from faceapp.models.files import SHIPPED_NAME

pytestmark = pytest.mark.gui

CAPTURE_FOLDERS = ("anchor", "positive", "verification_images")
OWNER, OTHER = "Colin_Powell", "Jennifer_Capriati"


@pytest.fixture(scope="session")
def display():
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (make system-packages, or apt-get install xvfb)")
    process, name = start_xvfb()
    yield name
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def app_env(display, tmp_path_factory) -> dict:
    env = dict(os.environ)
    env.pop("FACEAPP_DATA_ROOT", None)
    env.update(
        DISPLAY=display,
        KIVY_HOME=str(tmp_path_factory.mktemp("kivy_home")),
        KIVY_NO_ARGS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
    )
    return env


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    """owner: the fixture's 12 photos of OWNER; other: 8 photos of someone else."""
    folder = tmp_path_factory.mktemp("clips")
    return {
        "owner": make_video(folder / "owner.avi", face_photos(OWNER)),
        "other": make_video(folder / "other.avi", face_photos(OTHER)),
    }


def images_in(folder: Path) -> list[Path]:
    """The images of a folder (not the hidden records enrolment keeps beside them)."""
    from faceapp.vision.imaging import list_images

    return list_images(folder)


def assert_ran_cleanly(report: dict) -> None:
    assert report.get("error") is None and report["returncode"] == 0, report
    assert report["final"]["tensorflow_imported"] is False


# --- flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags, names",
    [
        (["--detection-threshold", "1.5"], "--detection-threshold"),
        (["--verification-threshold", "abc"], "--verification-threshold"),
        (["--timeout", "-1"], "--timeout"),
        (["--model", "no-such-model.keras"], "no-such-model.keras"),
        (["--frobnicate"], "--frobnicate"),
    ],
)
def test_bad_flags_give_one_line_errors(flags, names, tmp_path):
    completed = subprocess.run(
        [sys.executable, "main.py", "--data-root", str(tmp_path), *flags],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = completed.stderr.strip().splitlines()
    assert completed.returncode == 2
    assert len(lines) == 1 and lines[0].startswith("error:") and names in lines[0], lines


def test_no_display_is_one_line_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    completed = subprocess.run(
        [sys.executable, "main.py", "--data-root", str(tmp_path)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip() == (
        "error: no display to open the window on (set DISPLAY, or run under xvfb-run)"
    )


# --- the first run: the shipped model, enrol, verify ------------------------------------------


def test_first_run_enrol_then_verify_with_the_shipped_model(app_env, videos, tmp_path):
    """The issue's "done when": a fresh data root, a real clip, e five times, v: Verified;
    the same data on another person's clip: Unverified."""
    root = tmp_path / "data"
    steps = [
        {"wait": "frames", "count": 3},
        *enrol_steps(5, frames=10),
        {"wait": "idle", "timeout": 60},
        {"wait": "ready", "timeout": 60},
        {"key": "v"},
        {"wait": "idle", "timeout": 60},
        {"record": "owner"},
    ]
    owner = run_app(
        steps,
        ["--camera", str(videos / "WDA_KatieHill_000.mp4"), "--data-root", str(root)],
        app_env,
        tmp_path / "owner",
    )
    assert_ran_cleanly(owner)
    record = owner["records"]["owner"]
    assert record["result"] == "Verified", record
    assert record["decision"]["total"] == 5
    assert record["model"] == f"shipped model {SHIPPED_NAME} · security standard"
    assert len(images_in(root / "verification_images")) == 5

    steps = [
        {"wait": "frames", "count": 3},
        {"wait": "ready", "timeout": 60},
        {"key": "v"},
        {"wait": "idle", "timeout": 60},
        {"record": "other"},
    ]
    other = run_app(
        steps,
        ["--camera", str(videos / "WDA_BobMenendez_000.mp4"), "--data-root", str(root)],
        app_env,
        tmp_path / "other",
    )
    assert_ran_cleanly(other)
    assert other["records"]["other"]["result"] == "Unverified", other["records"]["other"]


def test_the_enrolled_faces_show_along_the_preview_and_a_second_tap_removes_one(
    app_env, clips, tmp_path
):
    """Two faces enrolled show as two thumbnails; a tap arms one (the only one with a
    border: a border on every thumbnail cost the preview 8 ms a frame), a second removes it."""
    root = tmp_path / "data"
    steps = [
        {"wait": "frames", "count": 3},
        *enrol_steps(2, frames=5),
        {"wait": "idle", "timeout": 60},
        {"record": "enrolled"},
        {"tap_enrolled": 0},
        {"record": "armed"},
        {"tap_enrolled": 0},
        {"record": "removed"},
    ]
    report = run_app(
        steps,
        ["--camera", str(clips["owner"]), "--data-root", str(root)],
        app_env,
        tmp_path / "run",
    )
    assert_ran_cleanly(report)
    records = report["records"]
    first, second = (thumb["name"] for thumb in records["enrolled"]["enrolled_strip"])
    assert records["enrolled"]["enrolled_strip"] == [
        {"name": first, "armed": False, "border": False},
        {"name": second, "armed": False, "border": False},
    ]
    assert records["armed"]["enrolled_strip"] == [
        {"name": first, "armed": True, "border": True},
        {"name": second, "armed": False, "border": False},
    ]
    assert records["removed"]["enrolled_strip"] == [
        {"name": second, "armed": False, "border": False}
    ]
    assert [p.name for p in images_in(root / "verification_images")] == [second]


def test_enrol_verify_timed_kill_restart_and_slider(app_env, clips, tmp_path):
    """The fixture's faces: enrol the owner, verify (v, t), survive a killed worker, and a
    slider that reaches the worker; then another person's clip is refused. The clip shows
    still photos, which no liveness check would call live: the check is off here (the
    next test has it on)."""
    root = tmp_path / "data"
    steps = [
        {"wait": "frames", "count": 3},
        {"wait": "ready", "timeout": 60},
        {"record": "ready"},
        *enrol_steps(6),
        {"wait": "idle", "timeout": 60},
        {"key": "v"},
        {"wait": "idle", "timeout": 60},
        {"record": "verify"},
        {"key": "t"},
        {"wait": "idle", "timeout": 60},
        {"record": "timed"},
        {"kill_worker": True},
        {"wait": "restarts", "count": 1, "timeout": 30},  # the death is noticed
        {"wait": "ready", "timeout": 60},
        {"record": "died"},
        {"button": "verify_button"},
        {"wait": "idle", "timeout": 60},
        {"record": "after_restart"},
        {"set": "detection_threshold", "value": 0.99999},  # sent before the next frame
        {"key": "v"},
        {"wait": "idle", "timeout": 60},
        {"record": "strict"},
    ]
    owner = run_app(
        steps,
        # t stops as soon as three frames verify; the long cap only keeps a loaded machine's
        # slow frames from turning into a timeout
        ["--camera", str(clips["owner"]), "--data-root", str(root), "--liveness", "off"]
        + ["--timeout", "30"],
        app_env,
        tmp_path / "owner",
    )
    assert_ran_cleanly(owner)
    records = owner["records"]
    ready = records["ready"]
    assert ready["ready_s"] is not None and ready["worker_state"] == "ready"
    assert 0 < ready["detection_threshold"] < 1  # the shipped model's own threshold
    assert records["verify"]["result"] == "Verified", records["verify"]
    assert records["verify"]["decision"]["total"] == 6
    assert records["timed"]["result"] == "Verified", records["timed"]
    assert "frame(s) judged" in records["timed"]["summary"]
    assert records["died"]["worker_restarts"] == 1
    assert "restarted: inference worker stopped unexpectedly" in records["died"]["status"]
    assert records["after_restart"]["result"] == "Verified", records["after_restart"]
    strict = records["strict"]  # the slider reached the worker
    assert strict["decision"]["detection_threshold"] == pytest.approx(0.99999)
    assert strict["result"] == "Unverified"
    assert cv2.imread(str(root / "input_image" / "input_image.jpg")) is not None

    steps = [
        {"wait": "frames", "count": 3},
        {"wait": "ready", "timeout": 60},
        {"key": "v"},
        {"wait": "idle", "timeout": 60},
        {"record": "verify"},
    ]
    other = run_app(
        steps,
        ["--camera", str(clips["other"]), "--data-root", str(root)],
        app_env,
        tmp_path / "other",
    )
    assert_ran_cleanly(other)
    assert other["records"]["verify"]["result"] == "Unverified", other["records"]["verify"]


def test_timed_mode_checks_liveness_a_live_face_passes_a_held_up_photo_does_not(
    app_env, videos, tmp_path
):
    """Liveness on (the default): the owner's real clip is Verified and live; a replay of a
    still of the same clip, held up as a print, matches but is refused as not live."""
    import numpy as np

    from training.attacks import clip_still, render, write_video

    root = tmp_path / "data"
    live_clip = videos / "WDA_KatieHill_000.mp4"
    steps = [
        {"wait": "frames", "count": 3},
        *enrol_steps(5, frames=10),
        {"wait": "idle", "timeout": 60},
        {"wait": "ready", "timeout": 60},
        {"key": "t"},
        {"wait": "idle", "timeout": 60},
        {"record": "live"},
    ]
    live = run_app(
        steps, ["--camera", str(live_clip), "--data-root", str(root)], app_env, tmp_path / "live"
    )
    assert_ran_cleanly(live)
    record = live["records"]["live"]
    assert record["result"] == "Verified", record
    assert record["decision"]["live"] is True and "live: " in record["summary"]

    replay = write_video(
        tmp_path / "replay.avi", render(clip_still(live_clip, 60), "print", 6.0, seed=11)
    )
    steps = [
        {"wait": "frames", "count": 3},
        {"wait": "ready", "timeout": 60},
        {"key": "t"},
        {"wait": "idle", "timeout": 60},
        {"record": "replay"},
    ]
    attack = run_app(
        steps, ["--camera", str(replay), "--data-root", str(root)], app_env, tmp_path / "replay"
    )
    assert_ran_cleanly(attack)
    record = attack["records"]["replay"]
    assert record["result"] == "Unverified", record
    assert record["decision"]["live"] is False and "not live" in record["summary"]
    assert np.isfinite(record["liveness_ms"])


# --- captures ---------------------------------------------------------------------------------


def test_keys_save_private_jpeg_faces(app_env, clips, tmp_path):
    root = tmp_path / "data"
    steps = [
        {"wait": "frames", "count": 3},
        {"key": "a"},
        {"wait": "new_frames", "count": 2},
        {"key": "a"},
        {"key": "p"},
        {"key": "e"},
        {"wait": "new_frames", "count": 5},  # far enough apart not to be near-duplicates
        {"key": "e"},
        {"wait": "new_frames", "count": 5},
        {"key": "e"},
        {"wait": "idle", "timeout": 20},
        {"record": "captured"},
    ]
    report = run_app(
        steps,
        ["--camera", str(clips["owner"]), "--data-root", str(root)],
        app_env,
        tmp_path / "run",
    )
    assert_ran_cleanly(report)
    files = {name: images_in(root / name) for name in CAPTURE_FOLDERS}
    assert {name: len(found) for name, found in files.items()} == {
        "anchor": 2,
        "positive": 1,
        "verification_images": 3,
    }
    assert report["records"]["captured"]["counts"] == {
        "anchor": 2,
        "positive": 1,
        "verification_images": 3,
    }
    for path in sum(files.values(), []):
        assert path.suffix == ".jpg" and not path.name.startswith(".")
        assert path.read_bytes()[:2] == b"\xff\xd8"
        image = cv2.imread(str(path))  # the square around the face, twice its size
        assert image is not None and image.shape[0] == image.shape[1] >= 150
        if os.name == "posix":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    captured = report["records"]["captured"]
    assert captured["overlay"] == ""  # a face was found: no fallback notice
    assert captured["status"].startswith("saved the enrolled face:")
    assert report["final"]["frames_shown"] >= 3


# --- no camera, no enrolment, a broken model --------------------------------------------------


@pytest.mark.parametrize(
    "camera, message",
    [
        ("7", "no camera at index 7"),
        ("missing.mp4", "camera source not found"),
        ("not-a-video.mp4", "cannot open video file"),
    ],
)
def test_no_camera_keeps_window_open_with_message(camera, message, app_env, tmp_path):
    if camera == "not-a-video.mp4":
        (tmp_path / camera).write_text("this is not a video\n")
    camera_arg = camera if camera.isdigit() else str(tmp_path / camera)
    steps = [
        {"wait": "overlay", "contains": message, "timeout": 20},
        {"key": "a"},
        {"wait": "idle", "timeout": 10},
        {"button": "verify_button"},
        {"record": "after"},
    ]
    report = run_app(
        steps,
        ["--camera", camera_arg, "--data-root", str(tmp_path / "data")],
        app_env,
        tmp_path / "run",
    )
    assert_ran_cleanly(report)
    after = report["records"]["after"]
    assert message in after["overlay"]
    assert after["frames_shown"] == 0
    assert after["status"].startswith("no frame to use")
    assert images_in(tmp_path / "data" / "anchor") == []
    assert after["result"] == "Not enrolled" and "press e" in after["summary"]


def test_a_broken_model_is_named_then_a_good_one_trained_meanwhile_is_used(
    app_env, clips, tmp_path
):
    """The newest model is looked up again when the worker retries loading (no --model)."""
    import threading
    import time

    from tiny_models import claim_quality, exact_match_model

    root = tmp_path / "data"
    (root / "models").mkdir(parents=True)
    (root / "models" / "siamese-old.keras").write_bytes(b"not a model")
    claim_quality(root / "models" / "siamese-old.keras")  # so the app tries it
    good = exact_match_model(tmp_path / "good" / "siamese-new.keras")
    copied = tmp_path / "copied"  # outside the data root: the app never sees it

    def train_meanwhile():  # a model appears once the load failed and a face was enrolled
        deadline = time.monotonic() + 180
        folder = root / "verification_images"
        while time.monotonic() < deadline and not (folder.is_dir() and any(folder.glob("*.jpg"))):
            time.sleep(0.05)
        for file in good.parent.iterdir():
            shutil.copy(file, root / "models" / file.name)
        copied.touch()

    thread = threading.Thread(target=train_meanwhile, daemon=True)
    thread.start()
    steps = [
        {"wait": "frames", "count": 3},
        {"wait": "idle", "timeout": 90},
        {"record": "failed"},
        {"key": "e"},
        {"wait": "idle", "timeout": 10},
        {"wait": "file", "path": str(copied), "timeout": 60},
        {"key": "v"},
        {"wait": "idle", "timeout": 90},
        {"record": "verify"},
    ]
    report = run_app(
        steps,
        ["--camera", str(clips["owner"]), "--data-root", str(root)],
        app_env,
        tmp_path / "run",
        timeout=240,
    )
    thread.join(5)
    assert_ran_cleanly(report)
    assert "siamese-old.keras" in report["records"]["failed"]["model"]
    verify = report["records"]["verify"]
    assert verify["result"] in ("Verified", "Unverified"), verify
    assert "siamese-new.keras" in verify["model"]
