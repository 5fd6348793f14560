"""Helpers (not tests) for test_reliability.py: odd image files, and a ``sitecustomize``.

:func:`write_sitecustomize` puts a ``sitecustomize.py`` into a folder; with that folder on
``PYTHONPATH`` every Python process started from the test (and every process *those*
start, such as the app's spawned inference worker) runs it at start-up:

- ``FACEAPP_NET_LOG=FILE``: an audit hook (:func:`sys.addaudithook`) appends one line to
  FILE for every ``socket.connect`` / ``socket.sendto`` / ``socket.sendmsg`` to an
  internet address and every ``socket.getaddrinfo`` / ``socket.gethostbyname`` lookup;
- ``FACEAPP_SLOW_KERAS_WRITE=SECONDS``: atomic writes of ``.keras`` files pause that long
  after the temporary file is written and before it is renamed, so a test can kill the
  process in the middle of writing a checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SITECUSTOMIZE = r"""
import os, sys

_log = os.environ.get("FACEAPP_NET_LOG")
if _log:
    import socket as _socket

    _INET = {int(_socket.AF_INET), int(_socket.AF_INET6)}

    def _write(line):
        with open(_log, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {line}\n")

    def _hook(event, args):
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            sock, address = args[0], args[-1]
            try:
                family = int(sock.family)
            except Exception:
                family = None
            if family in _INET or isinstance(address, tuple):
                _write(f"{event} {address!r}")
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                       "socket.gethostbyaddr"):
            _write(f"{event} {args!r}")

    sys.addaudithook(_hook)
    with open(_log + ".processes", "a", encoding="utf-8") as _handle:  # who was watched
        _handle.write(f"{os.getpid()} {getattr(sys, 'orig_argv', sys.argv)!r}\n")

_slow = os.environ.get("FACEAPP_SLOW_KERAS_WRITE")
if _slow:
    import time as _time
    import faceapp.storage as _storage

    _original_fsync = _storage._fsync

    def _slow_fsync(path):
        _original_fsync(path)
        if str(path).endswith(".keras"):
            _time.sleep(float(_slow))

    _storage._fsync = _slow_fsync
"""


def write_sitecustomize(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sitecustomize.py"
    path.write_text(SITECUSTOMIZE)
    return folder


def odd_images(folder: Path, face: Path) -> dict[str, tuple[Path, bool]]:
    """Odd files in ``folder``: ``{label: (path, readable)}``, plus a hidden file and a sub-folder.

    Readable ones (alpha, grey, 16-bit, 1x1, very large, non-ASCII name) must be used;
    unreadable ones (zero bytes, truncated, text named .jpg) must be skipped or refused
    in one line. The hidden file and the sub-folder named like an image must be ignored.
    """
    folder.mkdir(parents=True, exist_ok=True)
    bgr = cv2.imread(str(face))
    jpeg = face.read_bytes()
    made: dict[str, tuple[Path, bool]] = {}

    def put(label, name, readable, data=None, image=None):
        path = folder / name
        if data is not None:
            path.write_bytes(data)
        else:
            ok, encoded = cv2.imencode(Path(name).suffix, image)
            assert ok, name
            path.write_bytes(encoded.tobytes())
        made[label] = (path, readable)

    put("zero-byte", "zero.jpg", False, data=b"")
    put("truncated", "truncated.jpg", False, data=jpeg[: len(jpeg) // 2])
    put("text", "notes.jpg", False, data=b"this is a text file, not a photo\n")
    put("alpha", "alpha.png", True, image=cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA))
    put("grey", "grey.png", True, image=cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    put("16-bit", "deep.png", True, image=bgr.astype(np.uint16) * 257)
    put("1x1", "dot.png", True, image=np.full((1, 1, 3), 128, np.uint8))
    put("large", "large.jpg", True, image=cv2.resize(bgr, (4000, 4000)))
    put("non-ascii", "Zoë_李_写真.jpg", True, data=jpeg)
    (folder / ".hidden.jpg").write_bytes(b"garbage that must never be read")
    (folder / "subfolder.jpg").mkdir()
    ((folder / "subfolder.jpg") / "inner.txt").write_text("a folder named like an image")
    return made
