"""The login's face check and its store, called in this process (no PAM): every way to a
refusal, and the one way to an acceptance, on a real face turning in a video file.

tests/test_login.py runs the same check for real through pamtester; these tests call
``faceapp.login.check.main`` directly, so each outcome is asserted with its logged reason
(and mutation testing sees them). The store must be root's: they need root, as CI has.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import FACES, face_photos
from liveness_material import TurningHead, swaying
from login_support import write_config

from faceapp.errors import FaceappError
from faceapp.login import check
from faceapp.login.store import UserStore, check_user_name
from faceapp.verification.enrolment import enrol

PERSON, STRANGER = "Jennifer_Capriati", "Tom_Daschle"
USER = "fa-owner"
LOCAL = {"PAM_USER": USER, "PAM_SERVICE": "login", "PAM_RHOST": "", "PAM_TTY": "tty1"}

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the face store must be root's: these tests need root"
)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """The owner's face turning a little (live to the passive check, within its 60 frames),
    the owner's face held still (a frozen picture: never live), and a stranger's face."""
    from training.attacks import write_video

    folder = tmp_path_factory.mktemp("clips")
    head = TurningHead(FACES / PERSON / f"{PERSON}_0005.jpg")
    stranger = TurningHead(face_photos(STRANGER)[0])
    blank = np.full((480, 640, 3), 90, np.uint8)
    return {
        "owner": write_video(folder / "owner.avi", swaying(head, 60)),
        "owner still": write_video(folder / "still.avi", [head.frame(0, 0)] * 40),
        "stranger": write_video(folder / "stranger.avi", [stranger.frame(0, 0)] * 40),
        "stranger moving": write_video(folder / "moving.avi", swaying(stranger, 60)),
        "no face": write_video(folder / "empty.avi", [blank] * 20),
    }


@pytest.fixture(autouse=True)
def no_host_syslog(monkeypatch):
    """The attempts' lines go to a list, not the machine's authpriv log."""
    import syslog

    lines: list[str] = []
    monkeypatch.setattr(syslog, "syslog", lambda *args: lines.append(args[-1]))
    return lines


@pytest.fixture
def folder(tmp_path) -> Path:
    os.chmod(tmp_path, 0o700)
    return tmp_path


def configure(folder: Path, camera: Path | str, **extra) -> Path:
    return write_config(folder, camera, **{"timeout": 6.0, "max_failures": 3, **extra})


@pytest.fixture
def store(folder) -> UserStore:
    """The owner enrolled from four photos, in a root-only store."""
    user = UserStore(folder / "store", USER)
    enrol(*face_photos(PERSON)[:4], data_root=user.create())
    return user


def attempt(config: Path, environment: dict | None = None, *flags: str) -> tuple[int, str]:
    """(exit status, the log's last line)."""
    status = check.main(
        ["--config", str(config), *flags], LOCAL if environment is None else environment
    )
    log = config.parent / "log" / "login.log"
    return status, (log.read_text().strip().split("\n")[-1] if log.exists() else "")


def fields(line: str) -> dict[str, str]:
    """The audit line's ``key=value`` fields (quoted values unquoted)."""
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S*)', line)}


def bar(level: str) -> float:
    """The shipped model's bar at ``level`` for the four faces enrolled."""
    from faceapp.models.files import shipped_model
    from faceapp.models.metadata import read_metadata
    from faceapp.verification.rule import Thresholds

    metadata = read_metadata(shipped_model().stem)
    return Thresholds.resolve(metadata=metadata, level=level).threshold_for(4)


def test_the_owners_live_face_is_accepted_and_forgives_earlier_failures(
    folder, store, clips, capsys
):
    store.add_failure()
    status, logged = attempt(configure(folder, clips["owner"], security="standard"))
    line = fields(logged)
    assert status == 0, logged
    assert (line["user"], line["outcome"], line["reason"]) == (
        USER,
        "accepted",
        "verified and live",
    )
    score, needed = (float(x) for x in line["score"].split("/"))
    assert needed == pytest.approx(bar("standard"), abs=1e-3) and score > needed
    assert line["liveness"] == "live: the face moved in three dimensions"
    # frames come at the clip's own 25 fps, as a webcam's would: 36 of them before "live"
    assert 0 <= float(line["first_frame"]) < 1.0 <= float(line["seconds"]) < 6.0
    assert store.recent_failures(10) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"faceapp: looking for {USER}'s face (move your head a little)\n")
    assert not (store.path / "snapshots").exists()


def test_a_strangers_face_is_refused_and_counted_with_a_snapshot_when_asked(folder, store, clips):
    status, logged = attempt(configure(folder, clips["stranger"], snapshots=True))
    line = fields(logged)
    assert status == 1 and line["outcome"] == "refused"
    assert line["reason"].startswith(f"not {USER}'s face (") and "frame(s) judged" in line["reason"]
    score, needed = (float(x) for x in line["score"].split("/"))
    assert needed == pytest.approx(bar("high"), abs=1e-3) and score < needed
    assert store.recent_failures(10) == 1
    (snapshot,) = (store.path / "snapshots").iterdir()
    assert snapshot.suffix == ".jpg" and snapshot.stat().st_mode & 0o777 == 0o600


def test_the_owners_face_held_still_is_refused_as_not_live(folder, store, clips):
    """The owner's face, but frozen (a photo that never moves): not live, and it says so."""
    status, logged = attempt(configure(folder, clips["owner still"], security="standard"))
    line = fields(logged)
    assert status == 1, logged
    assert line["reason"] == line["liveness"]
    assert line["reason"].startswith("not live: no motion seen")
    assert store.recent_failures(10) == 1
    assert not (store.path / "snapshots").exists()  # none unless asked


def test_a_live_stranger_is_refused_and_no_face_at_all_says_so(folder, store, clips):
    status, logged = attempt(configure(folder, clips["stranger moving"], security="standard"))
    assert status == 1 and fields(logged)["reason"].startswith(f"not {USER}'s face"), logged
    status, logged = attempt(configure(folder, clips["no face"]))
    assert status == 1 and fields(logged)["reason"].startswith("no face could be judged ("), logged


def test_the_check_ends_itself_in_time_and_gives_a_challenge_its_own(
    folder, store, clips, monkeypatch, capsys
):
    """Its own deadline (SIGALRM, whose default action ends the process even inside a hung
    camera read): the timeout and 3 s, re-armed with the challenge's time once it asks, and
    disarmed at the end. Recorded here, not armed: this is the test process."""
    armed: list[int] = []
    monkeypatch.setattr(check.signal, "alarm", armed.append)
    attempt(configure(folder, clips["owner"], security="standard"))
    assert armed == [9, 0]  # timeout 6 s + 3
    armed.clear()
    config = configure(folder, clips["owner"], security="standard", liveness="challenge")
    status, _ = attempt(config)  # a clip cannot answer: refused, but it was asked
    assert status == 1 and armed == [9, 12, 0]  # then the challenge's 9 s + 3
    said = capsys.readouterr().out
    assert "faceapp: hold still, facing the camera\n" in said


def test_with_liveness_off_the_owners_still_face_is_accepted_as_verified(folder, store, clips):
    status, logged = attempt(
        configure(folder, clips["owner still"], security="standard", liveness="off")
    )
    assert status == 0 and fields(logged)["reason"] == "verified", logged


def test_the_time_to_the_first_frame_counts_a_slow_camera_from_the_checks_start(
    folder, store, clips, monkeypatch
):
    """The audit line's ``first_frame``: from the check's start to its first frame, a
    camera's opening included (here one that takes a second)."""
    from faceapp.vision.camera import FrameSource

    opening = FrameSource.__enter__

    def slow_to_open(source):
        time.sleep(1.0)
        return opening(source)

    monkeypatch.setattr(FrameSource, "__enter__", slow_to_open)
    status, logged = attempt(configure(folder, clips["owner still"], liveness="off"))
    line = fields(logged)
    assert status == 0 and 1.0 <= float(line["first_frame"]) <= float(line["seconds"]), logged


def test_a_model_named_in_the_settings_is_the_one_that_runs(folder, store, clips):
    """The compact shipped model has no security levels: named in the settings with one,
    the check refuses on that error, so it is the model that was loaded."""
    config = configure(folder, clips["stranger"], model="faceapp-aligned-v1")
    status, logged = attempt(config)
    assert status == 1 and "needs a model calibrated with security levels" in logged, logged


@pytest.mark.parametrize(
    "environment, why",
    [
        ({"PAM_RHOST": "10.0.0.7"}, "remote session from 10.0.0.7"),
        ({"PAM_SERVICE": "sshd"}, "remote session (sshd)"),
        ({"SSH_CONNECTION": "10.0.0.7 5555 10.0.0.1 22"}, "remote session (ssh)"),
    ],
)
def test_a_remote_session_is_refused_before_the_camera(folder, store, environment, why):
    status, logged = attempt(configure(folder, folder / "no-camera.avi"), {**LOCAL, **environment})
    assert status == 1 and why in logged
    assert store.recent_failures(10) == 0  # not a face attempt


def test_the_audit_line_names_who_where_and_why(folder, store):
    environment = {**LOCAL, "PAM_SERVICE": "sudo", "PAM_TTY": "/dev/pts/3", "PAM_RHOST": "h.x"}
    _, logged = attempt(configure(folder, folder / "no-camera.avi"), environment)
    line = fields(logged)
    assert (line["user"], line["service"], line["tty"], line["rhost"]) == (
        USER,
        "sudo",
        "/dev/pts/3",
        "h.x",
    )
    assert (line["outcome"], line["reason"]) == ("refused", "remote session from h.x")
    _, logged = attempt(configure(folder, folder / "no-camera.avi"), {})  # PAM set nothing
    line = fields(logged)
    assert (line["user"], line["service"], line["tty"], line["rhost"]) == ("", "", "", "")
    assert line["reason"] == "refused on an error: not a user name faceapp accepts: ''"


def test_the_environment_is_the_processs_own_unless_given(folder, store, monkeypatch):
    config = configure(folder, folder / "no-camera.avi")
    monkeypatch.setenv("PAM_USER", USER)
    monkeypatch.setenv("PAM_RHOST", "10.1.2.3")
    assert check.main(["--config", str(config)]) == check.EXIT_REFUSED
    log = (folder / "log" / "login.log").read_text().strip().split("\n")[-1]
    assert fields(log)["reason"] == "remote session from 10.1.2.3"


def test_an_error_is_named_in_one_line_of_at_most_300_characters(folder, store, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("x" * 500)

    monkeypatch.setattr("faceapp.verification.frames.verify_frames", broken)
    _, logged = attempt(configure(folder, folder / "no-camera.avi"))
    reason = fields(logged)["reason"]
    assert reason.startswith("refused on an error: ValueError: xxx") and len(reason) == 300


@pytest.mark.parametrize("host", ["", "localhost", "127.0.0.1", "::1"])
def test_this_machine_is_not_remote(host):
    assert check.remote_session({**LOCAL, "PAM_RHOST": host}) is None


def test_what_pam_leaves_unset_is_local_and_any_ssh_variable_is_remote():
    assert check.remote_session({"PAM_USER": USER}) is None  # no PAM_RHOST, no PAM_SERVICE
    for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        assert check.remote_session({**LOCAL, name: "x"}) == "remote session (ssh)"
        assert check.remote_session({**LOCAL, name: ""}) is None
    assert check.remote_session({**LOCAL, "PAM_SERVICE": "sshd-auth"}) == (
        "remote session (sshd-auth)"
    )


def test_a_disabled_user_and_a_locked_one_are_refused_without_the_camera(folder, store):
    config = configure(folder, folder / "no-camera.avi")
    store.set_disabled(True)
    status, logged = attempt(config)
    assert status == 1 and f"face login disabled for {USER}" in logged
    store.set_disabled(False)
    now = time.time()
    for _ in range(3):
        store.add_failure(now)
    status, logged = attempt(config)
    assert status == 1
    assert fields(logged)["reason"] == "locked: 3 failed face attempts in 10 min (use the password)"
    assert store.recent_failures(10) == 3  # a locked attempt is not counted again


def test_two_failures_are_not_a_lock_yet(folder, store):
    for _ in range(2):
        store.add_failure()
    status, logged = attempt(configure(folder, folder / "no-camera.avi"))
    assert status == 1 and "locked" not in logged and "refused on an error" in logged
    assert store.recent_failures(10) == 3  # the missing camera counted as a failure


def test_a_successful_login_by_any_means_clears_the_failures(folder, store):
    config = configure(folder, folder / "no-camera.avi")
    store.add_failure()
    assert check.main(["--config", str(config), "--succeeded"], LOCAL) == 0
    assert store.recent_failures(10) == 0


@pytest.mark.parametrize(
    "damage, why",
    [
        ("open store", "is open to others"),
        ("open file", "is open to others"),
        ("not root's", "is not owned by root"),
        ("symlink", "is not a plain"),
        ("no faces", "no faces enrolled for"),
        ("bad failures", "failures.json"),
        ("failures not numbers", "damaged"),
        ("failures not json", "unreadable"),
        ("bad config", "login.toml"),
        ("bad user", "not a user name"),
        ("open config", "must be root's and writable by root alone"),
    ],
)
def test_anything_untrusted_or_broken_is_a_refusal_with_its_reason(
    folder, store, damage, why, capsys
):
    config = configure(folder, folder / "no-camera.avi")
    environment = dict(LOCAL)
    some_file = next(p for p in store.path.rglob("*") if p.is_file())
    if damage == "open store":
        os.chmod(store.store, 0o755)
    elif damage == "open file":
        os.chmod(some_file, 0o644)
    elif damage == "not root's":
        os.chown(some_file, 1000, 1000)
    elif damage == "symlink":
        (store.path / "link").symlink_to(some_file)
    elif damage == "no faces":
        environment["PAM_USER"] = "fa-nobody"
    elif damage in ("bad failures", "failures not numbers", "failures not json"):
        text = {"bad failures": '{"not": "a list"}', "failures not numbers": '["x"]'}
        (store.path / "failures.json").write_text(text.get(damage, "[1, 2"))
        os.chmod(store.path / "failures.json", 0o600)
    elif damage == "open config":
        os.chmod(config, 0o666)
    elif damage == "bad config":
        config.write_text(config.read_text().replace("timeout = 6.0", "timeout = -1"))
    else:
        environment["PAM_USER"] = "../root"
    status, logged = attempt(config, environment)
    if damage in ("bad config", "open config"):  # no log file yet: what the user is told
        logged = capsys.readouterr().out
    assert status == 1 and "refused on an error" in logged and why in logged, logged
    if damage == "failures not json":
        assert f"unreadable {store.path / 'failures.json'}: " in logged
    if damage == "no faces":  # our own errors are named as they are, without a type
        assert fields(logged)["reason"] == (
            "refused on an error: no faces enrolled for fa-nobody (faceapp-login enrol --user)"
        )


def test_an_unexpected_error_inside_the_check_is_a_refusal_not_a_crash(folder, store, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("faceapp.verification.frames.verify_frames", broken)
    status, logged = attempt(configure(folder, folder / "no-camera.avi"))
    assert status == 1 and "refused on an error: ZeroDivisionError: boom" in logged
    assert store.recent_failures(10) == 1  # counted: no way out of the lockout by crashing it


def test_bad_arguments_are_a_refusal():
    assert check.main(["--no-such-flag"], LOCAL) == check.EXIT_REFUSED


# --- the store --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", None, "Root", "../x", "a b", "a/b", "x" * 33, "-dash"])
def test_user_names_that_could_escape_the_store_are_refused(name):
    with pytest.raises(FaceappError, match="not a user name"):
        check_user_name(name)


@pytest.mark.parametrize("name", ["ann", "_svc", "fa-owner", "ann2", "machine$", "a" * 32])
def test_ordinary_user_names_are_accepted(name):
    assert check_user_name(name) == name


def test_failures_count_within_the_window_and_keep_the_last_fifty(folder):
    store = UserStore(folder / "store", USER)
    store.create()
    now = 1_000_000.0
    store.add_failure(now - 601)  # 10 min and a second ago: outside a 10-minute window
    store.add_failure(now - 600)  # exactly 10 min: inside
    store.add_failure(now - 1)
    assert store.recent_failures(10, now) == 2
    assert store.recent_failures(0.5, now) == 1
    for k in range(60):
        store.add_failure(now + k)
    kept = json.loads((store.path / "failures.json").read_text())
    assert len(kept) == 51 and kept[-1] == now + 59
    assert (store.path / "failures.json").stat().st_mode & 0o777 == 0o600


def test_attempts_started_side_by_side_cannot_all_slip_under_the_limit(folder):
    """Twenty attempts at once against a limit of 3 (twenty ``sudo`` in twenty terminals):
    three go on to the camera, counted one after another; the rest find the user locked."""
    import threading

    store = UserStore(folder / "store", USER)
    store.create()
    start, seen = threading.Barrier(20), []

    def one_attempt() -> None:
        start.wait()
        seen.append(store.admit(3, 10))

    threads = [threading.Thread(target=one_attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(seen) == [0, 1, 2] + [3] * 17
    assert store.recent_failures(10) == 3
    store.check_private()  # the lock file is root's alone too


def test_an_attempt_does_not_wait_on_a_stuck_one_for_more_than_a_moment(folder, monkeypatch):
    import fcntl

    from faceapp.login import store as module

    monkeypatch.setattr(module, "LOCK_WAIT", 0.2)
    store = UserStore(folder / "store", USER)
    store.create()
    holder = os.open(store.path / module.LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)  # another attempt, stopped while counting
        began = time.monotonic()
        with pytest.raises(FaceappError, match=f"^{USER}'s face folder is busy: .* over 0.2 s$"):
            store.admit(3, 10)
        assert time.monotonic() - began < 2.0
    finally:
        os.close(holder)
    assert store.admit(3, 10) == 0  # released: counted as usual


def test_a_store_under_a_folder_others_could_swap_it_in_is_refused(folder):
    """Every folder above the store must be root's and closed to others (sticky, as /tmp,
    is fine: others cannot move what root owns there)."""
    above = folder / "above"
    above.mkdir()
    os.chmod(above, 0o777)
    store = UserStore(above / "store", USER)
    with pytest.raises(
        FaceappError,
        match=rf"^the face store {above / 'store'} is under {above}, which others can write "
        r"to \(mode 777\)$",
    ):
        store.create()
    assert not (above / "store").exists()  # refused before anything was made
    os.chmod(above, 0o1777)
    store.create()
    store.check_private()
    os.chmod(above, 0o755)
    os.chown(above, 1000, 1000)
    with pytest.raises(FaceappError, match=rf"is under {above}, not owned by root \(uid 1000\)$"):
        store.check_private()


def test_each_untrusted_place_is_named_in_the_refusal(folder):
    store = UserStore(folder / "store", USER)
    with pytest.raises(FaceappError, match=f"^the face store {folder / 'store'} does not exist$"):
        store.check_private()
    (folder / "store").write_text("a file, not a folder")
    with pytest.raises(FaceappError, match="^the face store .* is not a plain folder$"):
        store.check_private()
    (folder / "store").unlink()
    store.create()
    os.chmod(store.store, 0o750)
    with pytest.raises(FaceappError, match=r"^the face store .* is open to others \(mode 750\)$"):
        store.check_private()
    os.chmod(store.store, 0o700)
    os.chown(store.path, 1000, 1000)
    with pytest.raises(FaceappError, match=f"^{USER}'s face folder .* is not owned by root"):
        store.check_private()
    os.chown(store.path, 0, 0)
    os.chmod(store.path / "models", 0o755)
    with pytest.raises(FaceappError, match=f"^{USER}'s face folder .*models is open to others"):
        store.check_private()


def test_creating_a_store_refuses_an_existing_open_one_and_loosens_nothing(folder):
    (folder / "store").mkdir(mode=0o755)
    os.chmod(folder / "store", 0o755)
    with pytest.raises(FaceappError, match=f"^the face store {folder / 'store'} is open to others"):
        UserStore(folder / "store", USER).create()
    assert (folder / "store").stat().st_mode & 0o777 == 0o755
    os.chmod(folder / "store", 0o700)
    root = UserStore(folder / "store", USER).create()
    assert root.root.stat().st_mode & 0o777 == 0o700
    UserStore(folder / "store", USER).check_private()


def test_disabling_and_enabling_leave_a_marker_only_while_disabled(folder):
    store = UserStore(folder / "store", USER)
    store.create()
    assert not store.disabled
    store.set_disabled(False)  # enabling an enabled user, clearing no failures: no error
    store.clear_failures()
    store.set_disabled(True)
    store.set_disabled(True)  # twice: still one marker, no "refusing to overwrite"
    assert store.disabled and (store.path / "disabled").stat().st_mode & 0o777 == 0o600
    store.set_disabled(False)
    assert not store.disabled and not (store.path / "disabled").exists()
