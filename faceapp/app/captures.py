"""Saving faces from frames: training captures (keys a, p) and enrolment (key e,
``python -m faceapp.enrol``), one rule for all.

What is kept is the square around the face, twice the face's size (:func:`faceapp.vision.finder.
context_box`), not the network's input: whichever model later reads the image cuts its own
face from it (aligned by landmarks, or the Haar box of older models), so captures and
verification images outlive a change of model. With no face found, the original tutorial's
central box is kept, and the caller says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.paths import DataRoot
from faceapp.storage import save_image
from faceapp.vision.finder import Face
from faceapp.vision.geometry import context_box, fallback_box

# what each key saves, and the data root's folder it goes to
KINDS = {"anchor": "anchor", "positive": "positive", "enrol": "verification_images"}
LABELS = {"anchor": "anchor", "positive": "positive", "enrol": "verification image"}


@dataclass(frozen=True)
class Capture:
    """A face to save: the picture and whether a face was found in it."""

    image: np.ndarray
    found: bool


def capture_of(frame_bgr: np.ndarray, face: Face | None) -> Capture:
    """What a capture of this frame keeps (``face``: the face found in it, or None)."""
    box = (
        context_box(face.box, frame_bgr.shape)
        if face is not None
        else fallback_box(frame_bgr.shape)
    )
    return Capture(box.crop(frame_bgr).copy(), face is not None)


def folder_for(root: DataRoot, kind: str) -> Path:
    return getattr(root, KINDS[kind])


def save_capture(capture: Capture, root: DataRoot, kind: str) -> Path:
    """Save under a new unique name (atomic, private, never overwriting); return the path."""
    return save_image(capture.image, folder_for(root, kind))


class CaptureSaver:
    """Saves captures on a background thread, so the preview never waits on the disk.

    :meth:`save` starts a save and returns what to tell the user now; :meth:`finished`
    returns one status line for each save that has ended since the last call.
    """

    def __init__(self, root: DataRoot):
        from concurrent.futures import ThreadPoolExecutor

        self.root = root
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture-saver")
        self._running: list = []  # (kind, future)

    @property
    def pending(self) -> bool:
        return bool(self._running)

    def save(self, kind: str, frame) -> str:
        """Save the face of ``frame`` (a :class:`faceapp.app.preview.PreviewFrame`, or None when
        there is none yet) as ``kind`` (a key of :data:`KINDS`)."""
        if frame is None:
            return "no frame to use: waiting for the camera"
        capture = capture_of(frame.image, frame.face)
        self._running.append((kind, self._pool.submit(save_capture, capture, self.root, kind)))
        if not capture.found:
            return f"saving the centre box as {LABELS[kind]} (no face found)..."
        return f"saving {LABELS[kind]}..."

    def finished(self) -> list[str]:
        from faceapp.errors import FaceappError, one_line

        lines, running = [], []
        for kind, future in self._running:
            if not future.done():
                running.append((kind, future))
                continue
            try:
                path = future.result()
            except (FaceappError, OSError) as error:
                lines.append(f"could not save the {LABELS[kind]}: {one_line(error)}")
            else:
                lines.append(f"saved {LABELS[kind]}: {path.name}")
        self._running = running
        return lines

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
