"""Putting the face check in front of a PAM service's password, and taking it out again,
without ever locking anyone out.

``install`` writes the face check's own service file (``/etc/pam.d/faceapp``)::

    auth    sufficient pam_exec.so quiet stdout /usr/bin/timeout -s KILL 20 \
            PYTHON -I -m faceapp.login.check --config CONFIG
    account optional   pam_exec.so quiet /usr/bin/timeout -s KILL 5 \
            PYTHON -I -m faceapp.login.check --config CONFIG --succeeded

(one line each in the file)
and adds one ``@include faceapp`` line to the chosen service (``sudo``), before its first
``auth`` line, after keeping the service file as it was (in the store's ``.pam-backup/``).
``sufficient``: a verified face ends the auth stack with success; any other exit, or the cap
(``timeout -s KILL``: pam_exec waits forever otherwise), and the service's own lines — the
password — run as before. ``uninstall`` puts the service file back byte for byte and removes
the face check's file.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from faceapp.errors import FaceappError
from faceapp.storage import write_bytes_atomic

PAM_DIR = Path("/etc/pam.d")
BACKUP_FOLDER = ".pam-backup"  # under the store: root's alone, beside the faces
NAME = "faceapp"
STARTUP_SECONDS = 3.0  # the cap leaves this much for Python and the model to start
MARK = "# added by faceapp-login pam install; faceapp-login pam uninstall removes it"


def check_lines(python: str, config: Path, timeout: float, extra: float = 0.0) -> str:
    """The face check's PAM file: the auth line (capped: the timeout, the time a challenge
    may add once the face matched, and start-up: 16 s for the default 4 s) and the account
    line."""
    cap = int(timeout + extra + STARTUP_SECONDS + 0.999)
    run = f"{shlex.quote(python)} -I -m faceapp.login.check --config {config}"
    if any(c.isspace() for c in python + str(config)):
        raise FaceappError(
            "the Python and the config path must not contain spaces (PAM splits on them)"
        )
    return (
        "# faceapp: log in with your face (faceapp-login pam install)\n"
        f"auth    sufficient pam_exec.so quiet stdout /usr/bin/timeout -s KILL {cap} {run}\n"
        f"account optional   pam_exec.so quiet /usr/bin/timeout -s KILL 5 {run} --succeeded\n"
    )


def install(
    service: str,
    config: Path,
    timeout: float,
    name: str = NAME,
    pam_dir: Path = PAM_DIR,
    backup_dir: Path = Path("/var/lib/faceapp") / BACKUP_FOLDER,
    python: str = sys.executable,
) -> Path:
    """Write ``pam_dir/name`` and include it in ``pam_dir/service``; return the service file."""
    target = pam_dir / service
    if not target.is_file():
        raise FaceappError(f"no PAM service {service} in {pam_dir}")
    text = target.read_text()
    include = f"@include {name}"
    if include in text.split("\n"):
        raise FaceappError(f"{target} includes {name} already (faceapp-login pam uninstall first)")
    from faceapp.liveness.challenge import most_seconds

    # the cap counts a challenge's time whatever ``liveness`` says now: it is written once,
    # here, and switching to the challenge later must not get answers killed half-way (a
    # passive check ends at its own timeout, well before the cap)
    check_file = check_lines(python, config, timeout, most_seconds())
    backup = backup_dir / service
    backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # (the store too, if new)
    write_bytes_atomic(backup, target.read_bytes(), overwrite=True)
    write_bytes_atomic(pam_dir / name, check_file.encode(), overwrite=True)
    (pam_dir / name).chmod(0o644)  # PAM files are world-readable, like their neighbours
    lines = text.split("\n")
    first_auth = next((k for k, line in enumerate(lines) if _is_auth(line)), len(lines))
    lines[first_auth:first_auth] = [MARK, include]
    mode = target.stat().st_mode & 0o777
    write_bytes_atomic(target, "\n".join(lines).encode(), overwrite=True)
    target.chmod(mode)
    return target


def uninstall(
    service: str,
    name: str = NAME,
    pam_dir: Path = PAM_DIR,
    backup_dir: Path = Path("/var/lib/faceapp") / BACKUP_FOLDER,
) -> Path:
    """Put ``pam_dir/service`` back as it was before ``install``; remove ``pam_dir/name``."""
    target = pam_dir / service
    backup = backup_dir / service
    if backup.is_file():
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        write_bytes_atomic(target, backup.read_bytes(), overwrite=True)
        target.chmod(mode)
        backup.unlink()
    elif target.is_file():  # no backup: take out exactly the two lines install added
        kept = [
            line
            for line in target.read_text().split("\n")
            if line not in (MARK, f"@include {name}")
        ]
        write_bytes_atomic(target, "\n".join(kept).encode(), overwrite=True)
    (pam_dir / name).unlink(missing_ok=True)
    return target


def _is_auth(line: str) -> bool:
    words = line.split()
    return bool(words) and (
        words[0] in ("auth", "-auth") or words[:2] == ["@include", "common-auth"]
    )
