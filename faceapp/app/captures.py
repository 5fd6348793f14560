"""Saving faces from frames: training captures (keys a, p) and enrolment (key e), on a
thread of their own so the preview never waits on the disk.

A training capture keeps the square around the face, twice its size
(:func:`faceapp.vision.crops.kept_picture`), so that whichever model later reads it cuts its
own face from it. Enrolment goes through :func:`faceapp.verification.enrolment.enrol_frame`,
the same rule as ``faceapp-enrol``: a frame with no face, a poor one, or one nearly the
same as a face already enrolled is refused with the reason.
"""

from __future__ import annotations

from pathlib import Path

from faceapp.paths import DataRoot
from faceapp.storage import save_image
from faceapp.vision.crops import kept_picture

# what each key saves, and how the status line names it
KINDS = {"anchor": "anchor", "positive": "positive", "enrol": "verification_images"}
LABELS = {"anchor": "anchor", "positive": "positive", "enrol": "enrolled face"}


def save_capture(frame, root: DataRoot, kind: str) -> Path:
    """Save ``frame``'s face as ``kind``: a training capture under a new unique name
    (atomic, private, never overwriting), or an enrolment with its record; return the path."""
    if kind == "enrol":
        from faceapp.verification.enrolment import enrol_frame

        return enrol_frame(root, frame.image, frame.face, searched=True, source="camera").path
    picture = kept_picture(frame.image, frame.face)
    return save_image(picture.image, getattr(root, KINDS[kind]))


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
        self._running.append((kind, self._pool.submit(save_capture, frame, self.root, kind)))
        if frame.face is None and kind != "enrol":
            return f"saving the centre box as {LABELS[kind]} (no face found)..."
        return f"saving the {LABELS[kind]}..."

    def finished(self) -> list[str]:
        from faceapp.errors import FaceappError, one_line
        from faceapp.verification.enrolment import EnrolmentError

        lines, running = [], []
        for kind, future in self._running:
            if not future.done():
                running.append((kind, future))
                continue
            try:
                path = future.result()
            except EnrolmentError as error:
                lines.append(f"not enrolled: {one_line(error)}")
            except (FaceappError, OSError) as error:
                lines.append(f"could not save the {LABELS[kind]}: {one_line(error)}")
            else:
                lines.append(f"saved the {LABELS[kind]}: {path.name}")
        self._running = running
        return lines

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
