"""The crop of models trained before alignment (crop mode ``detect``): a Haar box.

:func:`face_crop` finds the largest face with OpenCV's Haar cascade (shipped inside
opencv-python 4.x), grows its box by a margin and crops it; with no face, the original
tutorial's central 250x250 box. Models trained on these crops see exactly them again
(:mod:`faceapp.vision.crops`); everything else finds faces with :mod:`faceapp.vision.finder`. The
benchmarks also time it, as the reference the new detector is compared with.

Speed: the cascade's cost is in its smallest scales. :func:`largest_face` therefore first
searches a copy shrunk so its shorter side is about 120 px (finding faces at least a fifth
of the frame's shorter side), and only when that finds nothing runs the full search of
:func:`detect_faces` (figures: docs/benchmarks.md).
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from faceapp.errors import FaceappError
from faceapp.vision.geometry import Box, FacePicture, context_box, fallback_box

DEFAULT_MARGIN = 0.2
MIN_FACE_FRACTION = 0.1  # ignore faces smaller than 10% of the frame's shorter side
COARSE_SIDE = 120  # shorter side of the shrunk copy searched first by largest_face
CASCADE_WINDOW = 24  # the frontal-face cascade's own window (pixels)
COARSE_SCALE_FACTOR = 1.2  # coarser pyramid for the quick pass (misses fall back to the full)


_per_thread = threading.local()


def _face_cascade() -> cv2.CascadeClassifier:
    """The frontal-face Haar cascade, loaded once per thread.

    ``CascadeClassifier.detectMultiScale`` is not safe to call from two threads at once
    on one object (measured: crops differed), so every thread gets its own.
    """
    cascade = getattr(_per_thread, "cascade", None)
    if cascade is None:
        if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
            raise FaceappError(
                "this OpenCV has no Haar cascades; install opencv-python<5 (see requirements.txt)"
            )
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise FaceappError(f"cannot load the face detector: {path}")
        _per_thread.cascade = cascade
    return cascade


def detect_faces(frame: np.ndarray) -> list[Box]:
    """All faces in a BGR frame, largest first."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    grey = cv2.equalizeHist(grey)
    min_side = max(24, int(min(grey.shape[:2]) * MIN_FACE_FRACTION))
    found = _face_cascade().detectMultiScale(
        grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
    )
    boxes = [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in found]
    return sorted(boxes, key=lambda box: box.area, reverse=True)


def coarse_faces(frame: np.ndarray) -> list[Box]:
    """Faces found on a copy shrunk to a shorter side of COARSE_SIDE (largest first).

    Finds faces of at least ``CASCADE_WINDOW * shrink`` pixels (96 px on 640x480); empty
    when the frame is too small to be worth shrinking (under twice COARSE_SIDE).
    """
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    height, width = grey.shape[:2]
    shrink = min(height, width) / COARSE_SIDE
    if shrink < 2:
        return []
    small = cv2.resize(
        grey,
        (int(round(width / shrink)), int(round(height / shrink))),
        interpolation=cv2.INTER_AREA,
    )
    found = _face_cascade().detectMultiScale(
        cv2.equalizeHist(small),
        scaleFactor=COARSE_SCALE_FACTOR,
        minNeighbors=5,
        minSize=(CASCADE_WINDOW, CASCADE_WINDOW),
    )
    boxes = []
    for x, y, w, h in found:
        x0, y0 = int(round(x * shrink)), int(round(y * shrink))
        x1 = min(width, int(round((x + w) * shrink)))
        y1 = min(height, int(round((y + h) * shrink)))
        boxes.append(Box(x0, y0, x1 - x0, y1 - y0))
    return sorted(boxes, key=lambda box: box.area, reverse=True)


def largest_face(frame: np.ndarray) -> Box | None:
    """The largest face in a BGR frame, or None: a quick coarse search, then the full one.

    Large faces (a fifth of the frame's shorter side or more) are found on a shrunk copy
    in a few milliseconds; only when none is there does it run :func:`detect_faces`, so
    smaller faces (down to ``MIN_FACE_FRACTION``) are found exactly as before.
    """
    faces = coarse_faces(frame) or detect_faces(frame)
    return faces[0] if faces else None


def face_crop(frame: np.ndarray, margin: float = DEFAULT_MARGIN) -> FacePicture:
    """Crop the largest face (with ``margin``) from a BGR frame, or the central fallback box."""
    face = largest_face(frame)
    if face is not None:
        box = context_box(face, frame.shape, 1 + 2 * margin)
        return FacePicture(box.crop(frame).copy(), box, found=True, aligned=None)
    box = fallback_box(frame.shape)
    return FacePicture(box.crop(frame).copy(), box, found=False, aligned=None)
