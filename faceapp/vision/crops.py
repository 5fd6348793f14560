"""From an image to the face the network sees, by the model's crop mode.

A model's metadata names the crop it was trained with, and every path (capture, enrolment,
verification, training, evaluation) cuts faces the same way for it:

``aligned``  find the face (:mod:`faceapp.vision.finder`) and align it by its landmarks
             (:mod:`faceapp.vision.align`) straight to the input size. No landmarks: the
             detector's box with a margin, unaligned; no face: the central box.
``haar``     models trained before alignment: OpenCV's Haar box with a 20% margin, else the
             central box (:mod:`faceapp.vision.haar`), exactly as they were trained.
``none``     the whole image.

The result is a BGR picture of the face; :func:`faceapp.vision.imaging.preprocess` makes it the
network's input.
"""

from __future__ import annotations

import numpy as np

from faceapp.errors import FaceappError
from faceapp.vision.finder import Face, find_face
from faceapp.vision.geometry import Box, FacePicture, context_box, fallback_box
from faceapp.vision.imaging import INPUT_SIZE

CROPS = ("aligned", "haar", "none")
# older spellings that still load: "detect" meant the Haar box, not faceapp.vision.finder
CROP_ALIASES = {"detect": "haar"}
DEFAULT_CROP = "aligned"
UNALIGNED_MARGIN = 0.2  # the detector's box grows by this on every side when not aligned


def canonical_crop(crop: str) -> str:
    """Today's name of a crop mode (``"detect"`` -> ``"haar"``); other names unchanged."""
    return CROP_ALIASES.get(crop, crop)


def check_crop(crop: str) -> str:
    """The crop mode's name (an older spelling becomes today's); a one-line error else."""
    crop = canonical_crop(crop)
    if crop not in CROPS:
        raise FaceappError(f"unknown crop {crop!r} (known: {', '.join(CROPS)})")
    return crop


def cut_face(
    image_bgr: np.ndarray,
    crop: str = DEFAULT_CROP,
    face: Face | None = None,
    searched: bool = False,
    size: int = INPUT_SIZE,
) -> FacePicture:
    """The face in a BGR image as the model with crop mode ``crop`` sees it.

    ``face``/``searched``: a face already found in this very image (e.g. by the preview's
    tracker; ``searched=True`` with ``face=None`` says none was found), so the search is not
    run twice. ``size``: the side of the aligned face (the network's input).
    """
    crop = check_crop(crop)
    if crop == "none":
        height, width = image_bgr.shape[:2]
        return FacePicture(image_bgr, Box(0, 0, width, height), found=True, aligned=None)
    if crop == "haar":
        from faceapp.vision.haar import face_crop

        return face_crop(image_bgr)
    if not searched:
        face = find_face(image_bgr)
    if face is None:
        box = fallback_box(image_bgr.shape)
        return FacePicture(box.crop(image_bgr).copy(), box, found=False, aligned=False)
    if face.landmarks is None:
        box = context_box(face.box, image_bgr.shape, 1 + 2 * UNALIGNED_MARGIN)
        return FacePicture(box.crop(image_bgr).copy(), face.box, found=True, aligned=False)
    from faceapp.vision.align import align

    return FacePicture(
        align(image_bgr, face.landmarks.xy, size), face.box, found=True, aligned=True
    )


def kept_picture(image_bgr: np.ndarray, face: Face | None) -> FacePicture:
    """What a capture or an enrolment keeps of an image: the square around the face, twice
    its size (:func:`faceapp.vision.geometry.context_box`), not the network's input, so that
    whichever model later reads it cuts its own face from it (aligned by landmarks, or the
    Haar box of older models) and saved faces outlive a change of model. With no face, the
    original tutorial's central box, and ``found`` is False."""
    box = (
        context_box(face.box, image_bgr.shape)
        if face is not None
        else fallback_box(image_bgr.shape)
    )
    return FacePicture(box.crop(image_bgr).copy(), box, found=face is not None, aligned=None)
