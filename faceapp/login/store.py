"""Each system user's faces for the login, kept by root: ``<store>/<user>/`` is a data root
(:class:`faceapp.paths.DataRoot`: enrolled faces with their records, the gallery's cache)
plus the user's login state — a ``disabled`` marker and the recent failed attempts.

Nothing here is trusted unless root owns it and nobody else can read or write it: the store
and the user's folder root-owned and 0700, every file in them root-owned and 0600, no
symbolic links (Howdy kept its users' face models world-readable: its issue #1098). Anything
else is refused with the reason, and the login falls back to the password.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from faceapp.errors import FaceappError
from faceapp.paths import DataRoot
from faceapp.storage import write_bytes_atomic

# what a system user name may look like (useradd's default rule): no "/", no "..", no spaces
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\$?$")
DISABLED = "disabled"
FAILURES = "failures.json"
LOCK = "failures.lock"  # held while an attempt is counted: parallel attempts queue on it
LOCK_WAIT = 2.0  # s: the most an attempt waits for another to be counted, then is refused


def check_user_name(user: str) -> str:
    if not USER_NAME.match(user or ""):
        raise FaceappError(f"not a user name faceapp accepts: {user!r}")
    return user


class UserStore:
    """One user's folder under the store."""

    def __init__(self, store: Path, user: str):
        self.store = Path(store)
        self.user = check_user_name(user)
        self.path = self.store / self.user

    @property
    def whose_folder(self) -> str:
        return f"{self.user}'s face folder"

    @property
    def data_root(self) -> DataRoot:
        return DataRoot(self.path)

    # --- trust ------------------------------------------------------------------------------

    def check_private(self) -> None:
        """Refuse (one line) unless the store, the user's folder and every file in it are
        root's alone, with every folder above the store root's and closed to others; a
        missing folder means the user enrolled no face."""
        _safe_parents(self.store)
        _private_dir(self.store, "the face store")
        if not self.path.is_dir():
            raise FaceappError(f"no faces enrolled for {self.user} (faceapp-login enrol --user)")
        _private_dir(self.path, self.whose_folder)
        for folder, folders, files in os.walk(self.path):
            for name in folders:
                _private_dir(Path(folder) / name, self.whose_folder)
            for name in files:
                _private_file(Path(folder) / name)

    def create(self) -> DataRoot:
        """The user's folder (and the store), root's alone; refused if either exists and
        is not private (nothing is loosened or tightened silently)."""
        _safe_parents(self.store)
        for folder, what in ((self.store, "the face store"), (self.path, self.whose_folder)):
            if folder.exists():
                _private_dir(folder, what)
            else:
                folder.mkdir(mode=0o700)
                os.chmod(folder, 0o700)
        return self.data_root.ensure()

    # --- state ------------------------------------------------------------------------------

    @property
    def disabled(self) -> bool:
        return (self.path / DISABLED).exists()

    def set_disabled(self, disabled: bool) -> None:
        marker = self.path / DISABLED
        if disabled:
            write_bytes_atomic(marker, b"face login disabled by faceapp-login disable\n", True)
        else:
            marker.unlink(missing_ok=True)

    def recent_failures(self, minutes: float, now: float | None = None) -> int:
        """Failed face attempts within the last ``minutes``."""
        now = time.time() if now is None else now
        return sum(1 for t in self._failures() if now - t <= minutes * 60)

    def admit(self, most: int, minutes: float, now: float | None = None) -> int:
        """The failed face attempts within the last ``minutes``; when fewer than ``most``,
        this attempt is counted as one more (an acceptance forgives it). Counting and
        checking are one step under a lock: attempts started side by side (many ``sudo`` at
        once) are counted one after another, and cannot all slip under the limit."""
        now = time.time() if now is None else now
        with self._locked():
            failures = self.recent_failures(minutes, now)
            if failures < most:
                self._add_failure(now)
        return failures

    def add_failure(self, now: float | None = None) -> None:
        with self._locked():
            self._add_failure(time.time() if now is None else now)

    def clear_failures(self) -> None:
        with self._locked():
            (self.path / FAILURES).unlink(missing_ok=True)

    def _add_failure(self, now: float) -> None:
        times = [*self._failures()[-50:], now]
        write_bytes_atomic(self.path / FAILURES, json.dumps(times).encode(), overwrite=True)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on the user's failure count, waited for at most
        :data:`LOCK_WAIT` s (then refused: an attempt never hangs on another)."""
        try:
            handle = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            raise FaceappError(f"cannot lock {self.path / LOCK}: {error.strerror}") from None
        try:
            deadline = time.monotonic() + LOCK_WAIT
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise FaceappError(
                            f"{self.whose_folder} is busy: another attempt held "
                            f"{self.path / LOCK} for over {LOCK_WAIT:g} s"
                        ) from None
                    time.sleep(0.01)
            yield
        finally:
            os.close(handle)  # closing releases the lock

    def _failures(self) -> list[float]:
        try:
            values = json.loads((self.path / FAILURES).read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            raise FaceappError(f"unreadable {self.path / FAILURES}: {error}") from None
        if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
            raise FaceappError(f"damaged {self.path / FAILURES}")
        return [float(v) for v in values]


def _safe_parents(store: Path) -> None:
    """Every folder above the store owned by root and not writable by others — or sticky,
    as /tmp is, where others cannot move what root owns: else whoever could write there
    could put a store of their own faces in place of root's."""
    for parent in Path(os.path.abspath(store)).parents:
        info = os.stat(parent)
        if info.st_uid != 0:
            raise FaceappError(
                f"the face store {store} is under {parent}, not owned by root (uid {info.st_uid})"
            )
        if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
            raise FaceappError(
                f"the face store {store} is under {parent}, which others can write to "
                f"(mode {stat.S_IMODE(info.st_mode):o})"
            )


def _private_dir(path: Path, what: str) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise FaceappError(f"{what} {path} does not exist") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise FaceappError(f"{what} {path} is not a plain folder")
    if info.st_uid != 0:
        raise FaceappError(f"{what} {path} is not owned by root (uid {info.st_uid})")
    if info.st_mode & 0o077:
        raise FaceappError(f"{what} {path} is open to others (mode {stat.S_IMODE(info.st_mode):o})")


def _private_file(path: Path) -> None:
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise FaceappError(f"{path} is not a plain file")
    if info.st_uid != 0:
        raise FaceappError(f"{path} is not owned by root (uid {info.st_uid})")
    if info.st_mode & 0o077:
        raise FaceappError(f"{path} is open to others (mode {stat.S_IMODE(info.st_mode):o})")
