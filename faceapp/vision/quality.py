"""Is a face picture good enough to judge? Too dark or too blurred faces are skipped, not
decided: a decision on them would be noise."""

from __future__ import annotations

import cv2
import numpy as np

MIN_BRIGHTNESS = 40.0  # mean grey level (0-255) below which a face is too dark to judge
MIN_SHARPNESS = 15.0  # variance of the Laplacian at 100x100 below which it is too blurred


def frame_problem(face_bgr: np.ndarray) -> str | None:
    """Why a face crop is too poor to judge ("too dark", "too blurred"), or None."""
    grey = cv2.cvtColor(face_bgr, cv2.COLOR_BGR2GRAY) if face_bgr.ndim == 3 else face_bgr
    if float(grey.mean()) < MIN_BRIGHTNESS:
        return "too dark"
    small = cv2.resize(grey, (100, 100), interpolation=cv2.INTER_AREA)
    if float(cv2.Laplacian(small, cv2.CV_64F).var()) < MIN_SHARPNESS:
        return "too blurred"
    return None
