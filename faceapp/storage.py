"""Writing user files safely: unique names, atomic writes, private permissions.

A capture or a model is first written to a hidden temporary file in the target folder,
flushed to disk, then renamed into place. A crash at any moment leaves either nothing or
the whole file, never half of one; existing files are never overwritten unless asked.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from faceapp.errors import FaceappError
from faceapp.paths import make_private_dir

PRIVATE_FILE_MODE = 0o600


def unique_name(prefix: str = "", suffix: str = ".jpg") -> str:
    """A file name that sorts by time and never collides, e.g. ``20261129-083012-1a2b3c4d.jpg``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{prefix}{stamp}-{uuid.uuid4().hex[:8]}{suffix}"


@contextmanager
def atomic_path(target: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success, rename it onto ``target``.

    The temporary file is hidden (``.name.tmp-XXXX``) so folder listings never see it,
    and it is removed if the body fails. With ``overwrite=False`` an existing target
    raises :class:`FaceappError` instead of being replaced.
    """
    target = Path(target)
    make_private_dir(target.parent)
    if target.exists() and not overwrite:
        raise FaceappError(f"refusing to overwrite existing file: {target}")
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.tmp-", suffix=target.suffix, dir=target.parent
    )
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        _fsync(temp)
        if os.name == "posix":
            os.chmod(temp, PRIVATE_FILE_MODE)
        if overwrite:
            os.replace(temp, target)
        else:
            _rename_no_clobber(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _rename_no_clobber(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` unless ``target`` exists (atomic via link on POSIX)."""
    try:
        os.link(source, target)
    except FileExistsError as error:
        raise FaceappError(f"refusing to overwrite existing file: {target}") from error
    except OSError:  # file systems without hard links
        if target.exists():
            raise FaceappError(f"refusing to overwrite existing file: {target}") from None
        os.replace(source, target)
        return
    source.unlink()


def write_bytes_atomic(target: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``target`` atomically, private to the user."""
    with atomic_path(target, overwrite=overwrite) as temp:
        temp.write_bytes(data)
    return Path(target)


def encode_jpeg(bgr: np.ndarray, quality: int = 95) -> bytes:
    """Encode a BGR uint8 image as JPEG bytes."""
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise FaceappError("could not encode image as JPEG")
    return encoded.tobytes()


def save_image(bgr: np.ndarray, folder: str | os.PathLike, prefix: str = "") -> Path:
    """Save a BGR image under a new unique name in ``folder`` (atomic, 0600); return its path."""
    folder = Path(folder)
    data = encode_jpeg(bgr)
    while True:
        target = folder / unique_name(prefix)
        if not target.exists():
            return write_bytes_atomic(target, data)


def replace_image(bgr: np.ndarray, target: str | os.PathLike) -> Path:
    """Write a BGR image to a fixed path, replacing it atomically (e.g. input_image.jpg)."""
    return write_bytes_atomic(target, encode_jpeg(bgr), overwrite=True)
