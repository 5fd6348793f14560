"""Is a face picture good enough to judge, or to enrol?

Too dark or too blurred faces are skipped by the multi-frame verification, not decided: a
decision on them would be noise (:func:`frame_problem`). Enrolment asks more
(:func:`enrolment_problem`): every later check compares against what is enrolled, so a face
that is also too small or turned away is refused with the reason, and the gallery stays good.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceapp.vision.finder import Face
from faceapp.vision.pose import head_pose

MIN_BRIGHTNESS = 40.0  # mean grey level (0-255) below which a face is too dark to judge
MIN_SHARPNESS = 15.0  # variance of the Laplacian at 100x100 below which it is too blurred
# Enrolment: the outer eye corners at least this many pixels apart (LFW's 250x250 photos:
# 1st percentile 47 px; a webcam face at arm's length: 60-90 px)
MIN_EYE_DISTANCE = 24.0
MAX_TURN = 35.0  # degrees of yaw or pitch beyond which a face is turned away (LFW: 5% > 30)

ADVICE = {
    "too dark": "more light on your face",
    "too blurred": "hold still",
    "too small": "come closer to the camera",
    "turned sideways": "look straight at the camera",
    "tilted up": "look straight at the camera",
    "tilted down": "look straight at the camera",
}


def frame_problem(face_bgr: np.ndarray) -> str | None:
    """Why a face crop is too poor to judge ("too dark", "too blurred"), or None."""
    grey = cv2.cvtColor(face_bgr, cv2.COLOR_BGR2GRAY) if face_bgr.ndim == 3 else face_bgr
    if float(grey.mean()) < MIN_BRIGHTNESS:
        return "too dark"
    small = cv2.resize(grey, (100, 100), interpolation=cv2.INTER_AREA)
    if float(cv2.Laplacian(small, cv2.CV_64F).var()) < MIN_SHARPNESS:
        return "too blurred"
    return None


def enrolment_problem(face: Face, aligned_bgr: np.ndarray) -> str | None:
    """Why a found face should not be enrolled, with what to do ("too small: come closer to
    the camera"), or None. ``aligned_bgr``: the face as the network sees it."""
    problem = frame_problem(aligned_bgr)
    if problem is None and face.landmarks is not None:
        if face.landmarks.eye_distance() < MIN_EYE_DISTANCE:
            problem = "too small"
        else:
            problem = head_pose(face.landmarks).turned_away(MAX_TURN)
    return f"{problem}: {ADVICE[problem]}" if problem else None
