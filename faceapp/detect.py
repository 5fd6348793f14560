"""Finding the face in a frame and cutting it out, the same way everywhere.

:func:`face_crop` finds the largest face with OpenCV's Haar cascade (shipped inside
opencv-python 4.x), grows its box by a margin and crops it. When no face is found it
falls back to the seed's fixed central 250x250 box (clipped to the frame) and says so.
Training captures, enrolment and verification all use this crop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.errors import FaceappError

FALLBACK_SIZE = 250
DEFAULT_MARGIN = 0.2
MIN_FACE_FRACTION = 0.1  # ignore faces smaller than 10% of the frame's shorter side


@dataclass(frozen=True)
class Box:
    """A rectangle in pixel coordinates: top-left (x, y), width and height."""

    x: int
    y: int
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.width * self.height

    def crop(self, frame: np.ndarray) -> np.ndarray:
        return frame[self.y:self.y + self.height, self.x:self.x + self.width]


@dataclass(frozen=True)
class FaceCrop:
    """The crop of one frame: the image, where it came from, and whether a face was found."""

    image: np.ndarray
    box: Box
    detected: bool


_cascade_lock = threading.Lock()
_cascade: cv2.CascadeClassifier | None = None


def _face_cascade() -> cv2.CascadeClassifier:
    """The frontal-face Haar cascade, loaded once per process."""
    global _cascade
    with _cascade_lock:
        if _cascade is None:
            if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
                raise FaceappError(
                    "this OpenCV has no Haar cascades; install opencv-python<5 "
                    "(see requirements.txt)"
                )
            path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
            cascade = cv2.CascadeClassifier(path)
            if cascade.empty():
                raise FaceappError(f"cannot load the face detector: {path}")
            _cascade = cascade
        return _cascade


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


def expand(box: Box, margin: float, frame_shape: tuple[int, ...]) -> Box:
    """Grow ``box`` by ``margin`` of its size on every side, as a square, inside the frame."""
    height, width = frame_shape[:2]
    side = int(round(max(box.width, box.height) * (1 + 2 * margin)))
    side = min(side, width, height)
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    x = int(round(min(max(cx - side / 2, 0), width - side)))
    y = int(round(min(max(cy - side / 2, 0), height - side)))
    return Box(x, y, side, side)


def fallback_box(frame_shape: tuple[int, ...], size: int = FALLBACK_SIZE) -> Box:
    """The seed's fixed central box (250x250, smaller when the frame is smaller)."""
    height, width = frame_shape[:2]
    side = min(size, width, height)
    return Box((width - side) // 2, (height - side) // 2, side, side)


def face_crop(frame: np.ndarray, margin: float = DEFAULT_MARGIN) -> FaceCrop:
    """Crop the largest face (with ``margin``) from a BGR frame, or the central fallback box."""
    faces = detect_faces(frame)
    if faces:
        box = expand(faces[0], margin, frame.shape)
        return FaceCrop(box.crop(frame).copy(), box, detected=True)
    box = fallback_box(frame.shape)
    return FaceCrop(box.crop(frame).copy(), box, detected=False)
