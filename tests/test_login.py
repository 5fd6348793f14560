"""Log in with your face, for real: a throwaway PAM service under /etc/pam.d, the face check
installed in front of it by ``faceapp-login pam install``, and ``pamtester`` asking it, with
a video file as the camera (delivered at its own frame rate, as a webcam would).

Needs root and pamtester (``make test`` installs it, and CI runs as root); elsewhere these
tests skip, saying so. Every file a test puts in /etc/pam.d is removed afterwards, even when
the test fails; the machine's own sudo and login stacks are never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import cv2
import pytest
from conftest import face_photos
from login_support import write_config

PAM_DIR = Path("/etc/pam.d")
OWNER = "fa-owner"
PAMTESTER = shutil.which("pamtester")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or PAMTESTER is None or not Path("/usr/bin/timeout").exists(),
    reason="the PAM tests need root, pamtester and /usr/bin/timeout (make test installs them)",
)


def login(args: list[str], config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "faceapp.login", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


class Service:
    """A throwaway PAM service: the face check first, then a stand-in for the password that
    leaves a mark (so a test sees whether the password step still ran), then deny."""

    def __init__(self, folder: Path, config: Path):
        tag = uuid.uuid4().hex[:8]
        self.name, self.include = f"faceapp-test-{tag}", f"faceapp-check-{tag}"
        self.mark = folder / "password-step-ran"
        self.password_right = folder / "password-is-right"  # present: the stand-in succeeds
        script = folder / "password.sh"
        script.write_text(
            f"#!/bin/sh\ntouch {self.mark}\n[ -e {self.password_right} ] && exit 0\nexit 1\n"
        )
        script.chmod(0o700)
        self.config = config
        (PAM_DIR / self.name).write_text(
            f"auth sufficient pam_exec.so quiet {script}\n"
            "auth requisite pam_deny.so\n"
            "account required pam_permit.so\n"
        )
        done = login(["pam", "install", "--service", self.name, "--name", self.include], config)
        assert done.returncode == 0, done.stderr

    def authenticate(self, user: str = OWNER, *pam_items: str, operations=("authenticate",)):
        self.mark.unlink(missing_ok=True)
        items = [word for item in pam_items for word in ("-I", item)]
        started = time.monotonic()
        done = subprocess.run(
            [PAMTESTER, *items, self.name, user, *operations],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done, time.monotonic() - started

    def remove(self) -> None:
        login(["pam", "uninstall", "--service", self.name, "--name", self.include], self.config)
        for name in (self.name, self.include):
            (PAM_DIR / name).unlink(missing_ok=True)


@pytest.fixture
def folder(tmp_path) -> Path:
    os.chmod(tmp_path, 0o700)
    return tmp_path


@pytest.fixture
def enrolled(folder, videos) -> Path:
    """A config whose camera is the owner's clip, with the owner enrolled from it."""
    config = write_config(folder, videos / "WDA_KatieHill_000.mp4")
    done = login(["enrol", "--user", OWNER, str(videos / "WDA_KatieHill_000.mp4")], config)
    assert done.returncode == 0, done.stdout + done.stderr
    return config


@pytest.fixture
def service(folder, enrolled):
    installed = Service(folder, enrolled)
    try:
        yield installed
    finally:
        installed.remove()
        assert not (PAM_DIR / installed.name).exists()


def set_camera(config: Path, camera: Path | str) -> None:
    text = config.read_text().split("\n")
    config.write_text(
        "\n".join(f'camera = "{camera}"' if line.startswith("camera") else line for line in text)
    )


def last_log(folder: Path) -> str:
    return (folder / "log" / "login.log").read_text().strip().split("\n")[-1]


def test_the_owners_face_logs_in_and_anothers_does_not(service, folder, videos):
    done, seconds = service.authenticate()
    assert done.returncode == 0, done.stderr
    assert "successfully authenticated" in done.stdout and not service.mark.exists()
    line = last_log(folder)
    assert f"user={OWNER}" in line and "outcome=accepted" in line and "live: the face" in line
    assert (folder / "log" / "login.log").stat().st_mode & 0o077 == 0
    set_camera(service.config, videos / "WDA_BobMenendez_000.mp4")
    done, _ = service.authenticate()
    assert done.returncode != 0 and service.mark.exists()  # the password step still ran
    assert "outcome=refused" in last_log(folder) and "not fa-owner's face" in last_log(folder)


def test_under_the_default_challenge_the_owners_own_clip_is_refused(service, folder):
    """A video of the owner is not the owner: with the login's default liveness (the
    challenge), the owner's clip cannot follow the prompts and the password is asked."""
    text = service.config.read_text().replace('liveness = "passive"\n', "")
    service.config.write_text(text)  # the default
    done, _ = service.authenticate()
    assert done.returncode != 0 and service.mark.exists()
    line = last_log(folder)
    assert "outcome=refused" in line and "not live" in line, line
    assert "faceapp: turn your head" in done.stdout or "faceapp: look " in done.stdout


def test_the_owners_photo_held_up_is_refused(service, folder, videos):
    from training.attacks import clip_still, render, write_video

    still = clip_still(videos / "WDA_KatieHill_000.mp4", 30)
    replay = write_video(folder / "replay.avi", render(still, "screen", seconds=3.0, seed=3))
    set_camera(service.config, replay)
    done, _ = service.authenticate()
    assert done.returncode != 0 and service.mark.exists()
    assert "not live" in last_log(folder)


def test_a_missing_camera_is_refused_at_once(service, folder):
    set_camera(service.config, folder / "no-such-camera.mp4")
    done, seconds = service.authenticate()
    assert done.returncode != 0 and seconds < 1.5 and service.mark.exists()
    assert "camera source not found" in last_log(folder)


def hanging_camera(folder: Path) -> Path:
    """A FIFO nobody writes to: whoever opens it as a camera waits for ever."""
    fifo = folder / "camera.fifo"
    os.mkfifo(fifo)
    return fifo


def test_a_remote_session_is_refused_without_opening_the_camera(service, folder):
    set_camera(service.config, hanging_camera(folder))  # opening it would hang
    done, seconds = service.authenticate(OWNER, "rhost=203.0.113.7")
    assert done.returncode != 0 and seconds < 0.9 and service.mark.exists()
    assert "remote session from 203.0.113.7" in last_log(folder)


def test_a_hung_check_ends_itself_and_the_password_follows(service, folder):
    set_camera(service.config, hanging_camera(folder))
    done, seconds = service.authenticate()
    assert done.returncode != 0 and service.mark.exists()
    assert 4.0 <= seconds < 12.0  # timeout 4 s + 3 s: it ends itself (the cap is the net)


def test_a_user_with_no_faces_or_an_open_store_is_refused(service, folder):
    done, _ = service.authenticate("fa-stranger")
    assert done.returncode != 0 and "no faces enrolled for fa-stranger" in last_log(folder)
    user_folder = folder / "store" / OWNER
    os.chmod(user_folder, 0o755)
    done, _ = service.authenticate()
    assert done.returncode != 0 and "is open to others (mode 755)" in last_log(folder)
    os.chmod(user_folder, 0o700)
    face = next((user_folder / "verification_images").glob("*.jpg"))
    os.chown(face, 65534, 65534)
    done, _ = service.authenticate()
    assert done.returncode != 0 and "is not owned by root (uid 65534)" in last_log(folder)


def test_five_failures_lock_the_face_out_without_opening_the_camera(service, folder, videos):
    set_camera(service.config, videos / "WDA_BobMenendez_000.mp4")
    for _ in range(5):
        assert service.authenticate()[0].returncode != 0
    set_camera(service.config, hanging_camera(folder))  # would hang if opened
    done, seconds = service.authenticate()
    assert done.returncode != 0 and seconds < 0.9 and "locked: 5 failed" in last_log(folder)
    # a successful login by password (then its account step) forgives them
    service.password_right.touch()
    done, _ = service.authenticate(operations=("authenticate", "acct_mgmt"))
    assert done.returncode == 0 and service.mark.exists()
    service.password_right.unlink()
    set_camera(service.config, videos / "WDA_KatieHill_000.mp4")
    done, _ = service.authenticate()
    assert done.returncode == 0, last_log(folder)


def test_the_check_ignores_a_pythonpath_that_would_say_yes(enrolled, folder, tmp_path):
    """The exact command PAM runs (``python -I``), with a PYTHONPATH holding a fake faceapp
    whose check accepts everyone, for a user with no faces: refused all the same."""
    fake = tmp_path / "fake" / "faceapp" / "login"
    fake.mkdir(parents=True)
    for init in (fake.parent / "__init__.py", fake / "__init__.py"):
        init.write_text("")
    (fake / "check.py").write_text("import sys\nsys.exit(0)\n")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path / "fake"), "PAM_USER": "fa-x"}
    command = [sys.executable, "-I", "-m", "faceapp.login.check", "--config", str(enrolled)]
    run = {"env": env, "capture_output": True, "timeout": 60, "cwd": tmp_path}
    assert subprocess.run(command, **run).returncode == 1
    assert subprocess.run(command[:1] + command[2:], **run).returncode == 0  # without -I


def test_disable_enable_list_and_test_say_what_they_do(enrolled, folder):
    assert "fa-owner: 5 face(s), enabled" in login(["list"], enrolled).stdout
    assert login(["disable", "--user", OWNER], enrolled).returncode == 0
    refused = login(["test", "--user", OWNER], enrolled)
    assert refused.returncode == 1 and "face login disabled for fa-owner" in refused.stdout
    assert login(["enable", "--user", OWNER], enrolled).returncode == 0
    accepted = login(["test", "--user", OWNER], enrolled)
    assert accepted.returncode == 0 and "accepted: this face would log in" in accepted.stdout
    photo = face_photos("Colin_Powell")[0]
    cv2.imwrite(str(folder / "p.png"), cv2.imread(str(photo)))
    assert login(["enrol", "--user", "fa-second", str(folder / "p.png")], enrolled).returncode == 0
    assert login(["remove", "--user", "fa-second"], enrolled).returncode == 0


def test_a_bad_setting_is_one_line_in_the_log_and_a_refusal(folder):
    config = write_config(folder, "0", timeout=60)
    env = {**os.environ, "PAM_USER": OWNER, "PAM_SERVICE": "x"}
    command = [sys.executable, "-I", "-m", "faceapp.login.check", "--config", str(config)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "timeout must be between 0 and 10" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_pam_uninstall_puts_the_service_back_byte_for_byte(folder, enrolled):
    name = f"faceapp-test-{uuid.uuid4().hex[:8]}"
    original = "# a service\nauth required pam_unix.so\naccount required pam_unix.so\n"
    (PAM_DIR / name).write_text(original)
    try:
        login(["pam", "install", "--service", name, "--name", name + "-check"], enrolled)
        text = (PAM_DIR / name).read_text()
        assert f"@include {name}-check" in text and text.index("@include") < text.index("pam_unix")
        login(["pam", "uninstall", "--service", name, "--name", name + "-check"], enrolled)
        assert (PAM_DIR / name).read_text() == original
        assert not (PAM_DIR / (name + "-check")).exists()
    finally:
        for leftover in (name, name + "-check"):
            (PAM_DIR / leftover).unlink(missing_ok=True)
