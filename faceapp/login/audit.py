"""Evidence: one line per login attempt, to the system log (authpriv, where sudo and login
write theirs) and to a root-only log file.

    2026-12-05T21:40:02+00:00 user=ann service=sudo tty=/dev/pts/1 rhost= outcome=accepted
    reason="verified and live" score=0.998/0.991 liveness="live: the face moved in three
    dimensions" seconds=1.62

Writing the evidence must never decide the attempt: a log that cannot be written is itself
reported on stderr, and the verdict stands.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from faceapp.errors import one_line


@dataclass
class Attempt:
    """What one login attempt was, and how it ended."""

    user: str = ""
    service: str = ""
    tty: str = ""
    rhost: str = ""
    outcome: str = "refused"  # accepted | refused
    reason: str = ""
    score: str = ""  # "score/threshold" of the deciding face, when one was judged
    liveness: str = ""
    seconds: float = 0.0
    first_frame: float | None = None  # seconds from the check's start to its first frame
    log_file: Path | None = None  # where to write it too, once the settings are read
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def line(self) -> str:
        def quoted(text: str) -> str:
            return '"' + one_line(text).replace('"', "'") + '"'

        return (
            f"{self.at} user={self.user} service={self.service} tty={self.tty} "
            f"rhost={self.rhost} outcome={self.outcome} reason={quoted(self.reason)} "
            f"score={self.score} liveness={quoted(self.liveness)} seconds={self.seconds:.2f}"
            + (f" first_frame={self.first_frame:.2f}" if self.first_frame is not None else "")
        )


def record(attempt: Attempt, log_file: Path | None) -> None:
    """Write the attempt's line to syslog (authpriv) and to ``log_file`` (0600, appended)."""
    line = attempt.line()
    try:
        import syslog

        syslog.openlog("faceapp-login", 0, syslog.LOG_AUTHPRIV)
        level = syslog.LOG_NOTICE if attempt.outcome == "accepted" else syslog.LOG_WARNING
        syslog.syslog(level, line)
        syslog.closelog()
    except Exception as error:  # noqa: BLE001 - evidence must not decide the attempt
        print(f"faceapp-login: syslog: {one_line(error)}", file=sys.stderr)
    if log_file is None:
        return
    try:
        log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(
            log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600
        )
        try:
            os.write(descriptor, (line + "\n").encode())
        finally:
            os.close(descriptor)
    except OSError as error:
        print(f"faceapp-login: cannot write {log_file}: {error.strerror}", file=sys.stderr)
