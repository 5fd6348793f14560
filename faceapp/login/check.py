"""The face check PAM runs (``pam_exec.so``), once per login attempt:

    auth sufficient pam_exec.so quiet stdout /usr/bin/timeout -s KILL 20 \\
        /opt/faceapp/bin/python -I -m faceapp.login.check --config /etc/faceapp/login.toml

Exit 0 only when ``PAM_USER``'s own live face is verified within the timeout. Every other
outcome is a non-zero exit, and PAM goes on to the password: a remote session (refused at
once, the camera never opened), a user with no faces, a store that is not root's alone, a
disabled face login, too many recent failures, a missing camera, no face, a stranger, a face
that is not live, the time running out — and any error at all, Python's included: the whole
check runs inside one ``try`` whose only way to 0 is a verified, live face (fail closed).

``python -I`` runs it isolated: no ``PYTHONPATH``, no user site, no current folder. With
``--succeeded`` (the PAM ``account`` line, run after a successful login by whatever means,
the password included) it clears the user's recent failures.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from pathlib import Path

EXIT_ACCEPTED, EXIT_REFUSED = 0, 1
DEADLINE_MARGIN = 3.0  # seconds beyond the timeout for start-up before the check ends itself
LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")
REMOTE_SERVICES = ("sshd", "sshd-auth")


def remote_session(environment: dict) -> str | None:
    """Why this attempt comes from another machine, or None: a face at this machine's
    camera says nothing about a person logging in over the network."""
    rhost = environment.get("PAM_RHOST", "")
    if rhost not in LOCAL_HOSTS:
        return f"remote session from {rhost}"
    if environment.get("PAM_SERVICE") in REMOTE_SERVICES:
        return f"remote session ({environment['PAM_SERVICE']})"
    if any(environment.get(name) for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")):
        return "remote session (ssh)"
    return None


def say(text: str) -> None:
    """A line the user sees (``pam_exec.so stdout`` hands it to PAM's conversation)."""
    print(f"faceapp: {text}", flush=True)


def check(config_path: Path, environment: dict, attempt, started: float) -> bool:
    """The face check; True only for the user's verified, live face. Any refusal sets
    ``attempt.reason``; errors propagate to the caller, which refuses."""
    from faceapp.login.config import load_login_config
    from faceapp.login.store import UserStore

    config = load_login_config(config_path)  # first: it says where the evidence goes
    attempt.log_file = config.log
    remote = remote_session(environment)
    if remote:
        attempt.reason = remote
        return False
    store = UserStore(config.store, environment.get("PAM_USER", ""))
    store.check_private()
    if store.disabled:
        attempt.reason = f"face login disabled for {store.user}"
        return False
    # this attempt counted as a failure before the camera opens, forgiven only by an
    # acceptance: an attempt that ends any other way (an error, the caller hanging up, the
    # PAM line's kill) still counts; checking the lock and counting are one locked step
    failures = store.admit(config.max_failures, config.lockout_minutes)
    if failures >= config.max_failures:
        attempt.reason = (
            f"locked: {failures} failed face attempts in {config.lockout_minutes:g} min "
            "(use the password)"
        )
        return False
    from faceapp.liveness.challenge import most_seconds
    from faceapp.models.files import files_of, shipped_model
    from faceapp.models.runtime import load_model
    from faceapp.verification.frames import verify_frames
    from faceapp.verification.rule import Thresholds
    from faceapp.verification.verifier import Verifier

    # our own deadline, well inside the PAM line's cap (sized for a challenge): SIGALRM's
    # default action ends the process even inside a camera read that never returns
    signal.alarm(math.ceil(config.timeout + DEADLINE_MARGIN))
    challenge_started = False

    def prompted(text: str) -> None:
        nonlocal challenge_started
        if not challenge_started:  # the face matched and a challenge asks: its time on top
            challenge_started = True
            signal.alarm(math.ceil(most_seconds() + DEADLINE_MARGIN))
        say(text)

    model = load_model(files_of(config.model) if config.model else shipped_model())
    thresholds = Thresholds.resolve(metadata=model.metadata.values, level=config.security)
    verifier = Verifier(model, store.data_root, thresholds)
    say(f"looking for {store.user}'s face (move your head a little)")
    called = time.monotonic()
    watched = verify_frames(
        verifier,
        config.camera,
        config.timeout,
        liveness=config.liveness,
        realtime=True,
        on_prompt=prompted,
    )
    decision = watched.decision
    if watched.first_frame_after is not None:
        attempt.first_frame = called - started + watched.first_frame_after
    if decision is not None:
        attempt.score = f"{decision.score:.3f}/{decision.bar:.3f}"
        attempt.liveness = decision.liveness
    if (
        decision is not None
        and decision.verified
        and (config.liveness == "off" or decision.live is True)
    ):
        store.clear_failures()
        attempt.reason = "verified and live" if config.liveness != "off" else "verified"
        return True
    if config.snapshots and watched.last_frame is not None:
        from faceapp.storage import save_image

        save_image(watched.last_frame, store.path / "snapshots")
    if decision is None:
        attempt.reason = f"no face could be judged ({watched.story})"
    elif not decision.verified and decision.live is False:
        attempt.reason = decision.liveness
    else:
        attempt.reason = f"not {store.user}'s face ({watched.story})"
    return False


def succeeded(config_path: Path, environment: dict) -> None:
    """After a successful login (any means): the user's recent face failures are forgiven."""
    from faceapp.login.config import load_login_config
    from faceapp.login.store import UserStore

    config = load_login_config(config_path)
    store = UserStore(config.store, environment.get("PAM_USER", ""))
    if store.path.is_dir():
        store.check_private()
        store.clear_failures()


def main(argv: list[str] | None = None, environment: dict | None = None) -> int:
    started = time.monotonic()
    environment = dict(os.environ if environment is None else environment)
    parser = argparse.ArgumentParser(prog="python -I -m faceapp.login.check")
    parser.add_argument("--config", default="/etc/faceapp/login.toml")
    parser.add_argument("--succeeded", action="store_true")
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        return EXIT_REFUSED
    from faceapp.login.audit import Attempt, record

    attempt = Attempt(
        user=environment.get("PAM_USER", ""),
        service=environment.get("PAM_SERVICE", ""),
        tty=environment.get("PAM_TTY", ""),
        rhost=environment.get("PAM_RHOST", ""),
    )
    if args.succeeded:
        try:
            succeeded(Path(args.config), environment)
        except BaseException:  # noqa: BLE001 - the account phase must never block a login
            pass
        return EXIT_ACCEPTED
    accepted = False
    try:
        accepted = check(Path(args.config), environment, attempt, started)
    except BaseException as error:  # noqa: BLE001 - fail closed, whatever went wrong
        from faceapp.errors import FaceappError, one_line

        kind = "" if isinstance(error, FaceappError) else f"{type(error).__name__}: "
        attempt.reason = f"refused on an error: {kind}{one_line(error)}"[:300]
        accepted = False
    finally:
        signal.alarm(0)  # the check is over: writing the evidence is not cut short
    attempt.outcome = "accepted" if accepted else "refused"
    attempt.seconds = time.monotonic() - started
    try:
        record(attempt, attempt.log_file)
    except BaseException:  # noqa: BLE001 - evidence never changes the verdict
        pass
    if not accepted:
        say(f"face not accepted: {attempt.reason}")
    return EXIT_ACCEPTED if accepted else EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
