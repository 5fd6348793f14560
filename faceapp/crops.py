"""From an image to the face the network sees, by the model's crop mode.

A model's metadata names the crop it was trained with, and every path (capture, enrolment,
verification, training, evaluation) cuts faces the same way for it:

``aligned``  find the face (:mod:`faceapp.detect`) and align it by its landmarks
             (:mod:`faceapp.align`) straight to the input size. No landmarks: the
             detector's box with a margin, unaligned; no face: the central box.
``detect``   models trained before alignment: OpenCV's Haar box with a 20% margin, else the
             central box (:mod:`faceapp.haar`), exactly as they were trained.
``none``     the whole image.

The result is a BGR picture of the face; :func:`faceapp.imaging.preprocess` makes it the
network's input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceapp.detect import Box, Face, context_box, fallback_box, find_face
from faceapp.errors import FaceappError
from faceapp.imaging import INPUT_SIZE

CROPS = ("aligned", "detect", "none")
DEFAULT_CROP = "aligned"
UNALIGNED_MARGIN = 0.2  # the detector's box grows by this on every side when not aligned

NO_FACE_NOTE = "no face found; used the central box"
NO_LANDMARKS_NOTE = "no landmarks; unaligned crop"


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


def check_crop(crop: str) -> str:
    if crop not in CROPS:
        raise FaceappError(f"unknown crop {crop!r} (known: {', '.join(CROPS)})")
    return crop


def cut_face(
    image_bgr: np.ndarray,
    crop: str = DEFAULT_CROP,
    face: Face | None = None,
    searched: bool = False,
) -> FacePicture:
    """The face in a BGR image as the model with crop mode ``crop`` sees it.

    ``face``/``searched``: a face already found in this very image (e.g. by the preview's
    tracker; ``searched=True`` with ``face=None`` says none was found), so the search is not
    run twice.
    """
    check_crop(crop)
    if crop == "none":
        height, width = image_bgr.shape[:2]
        return FacePicture(image_bgr, Box(0, 0, width, height), found=True, aligned=None)
    if crop == "detect":
        from faceapp.haar import face_crop

        legacy = face_crop(image_bgr)
        return FacePicture(legacy.image, legacy.box, legacy.detected, aligned=None)
    if not searched:
        face = find_face(image_bgr)
    if face is None:
        box = fallback_box(image_bgr.shape)
        return FacePicture(box.crop(image_bgr).copy(), box, found=False, aligned=False)
    if face.landmarks is None:
        box = context_box(face.box, image_bgr.shape, 1 + 2 * UNALIGNED_MARGIN)
        return FacePicture(box.crop(image_bgr).copy(), face.box, found=True, aligned=False)
    from faceapp.align import align

    return FacePicture(
        align(image_bgr, face.landmarks.xy, INPUT_SIZE), face.box, found=True, aligned=True
    )
