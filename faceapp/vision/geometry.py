"""Where a face is in an image, and the face cut out of it: the types every room shares.

:class:`Box` is a rectangle in pixels; :func:`context_box` the square a saved face keeps
around it; :func:`fallback_box` the original tutorial's central box, used when no face is
found. :class:`FacePicture` is *a cut face* wherever one is made: the network's aligned
input (:mod:`faceapp.vision.crops`), the Haar crop of older models (:mod:`faceapp.vision.haar`),
or the square a capture keeps (:mod:`faceapp.verification.enrolment`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FALLBACK_SIZE = 250  # the original tutorial's central box, used when no face is found
CONTEXT = 2.0  # a saved face keeps a square this many times the face's side

NO_FACE_NOTE = "no face found; used the central box"
NO_LANDMARKS_NOTE = "no landmarks; unaligned crop"


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
        return frame[self.y : self.y + self.height, self.x : self.x + self.width]

    @classmethod
    def bounding(cls, corners, frame_shape: tuple[int, ...]) -> Box:
        """The integer box of ``corners`` (x0, y0, x1, y1), clipped to the frame (at least
        1 px)."""
        x0, y0, x1, y1 = (float(v) for v in corners)
        height, width = frame_shape[:2]
        left = int(np.clip(np.floor(x0), 0, max(width - 1, 0)))
        top = int(np.clip(np.floor(y0), 0, max(height - 1, 0)))
        right = int(np.clip(np.ceil(x1), left + 1, width))
        bottom = int(np.clip(np.ceil(y1), top + 1, height))
        return cls(left, top, right - left, bottom - top)


@dataclass(frozen=True)
class FacePicture:
    """The face cut from an image: the BGR picture, the box it came from, whether a face
    was found, and whether it was aligned by landmarks."""

    image: np.ndarray
    box: Box
    found: bool
    aligned: bool | None  # None: the crop mode does not align

    @property
    def note(self) -> str:
        """What went less than well, for the user ("" when the face was found and aligned,
        or found by a crop mode that does not align)."""
        if not self.found:
            return NO_FACE_NOTE
        return "" if self.aligned is not False else NO_LANDMARKS_NOTE


def context_box(face: Box, frame_shape: tuple[int, ...], factor: float = CONTEXT) -> Box:
    """The square around ``face``, ``factor`` times its side, inside the frame: what a
    capture keeps, so that the face can be found and aligned in the saved image again."""
    height, width = frame_shape[:2]
    side = int(round(max(face.width, face.height) * factor))
    side = max(1, min(side, width, height))
    cx, cy = face.x + face.width / 2, face.y + face.height / 2
    x = int(round(min(max(cx - side / 2, 0), width - side)))
    y = int(round(min(max(cy - side / 2, 0), height - side)))
    return Box(x, y, side, side)


def fallback_box(frame_shape: tuple[int, ...], size: int = FALLBACK_SIZE) -> Box:
    """The original tutorial's fixed central box (250x250, smaller when the frame is)."""
    height, width = frame_shape[:2]
    side = min(size, width, height)
    return Box((width - side) // 2, (height - side) // 2, side, side)
