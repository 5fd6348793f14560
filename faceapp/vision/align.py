"""Alignment: landmarks -> a similarity transform onto a fixed template -> the face, level
and centred, at the network's input size.

Every strong verifier (FaceNet, ArcFace, dlib) aligns faces before embedding them, so that
the network spends nothing on where the face is or how it is turned. Five mesh points — the
corners of both eyes and the point under the nose — are mapped by least squares (rotation,
one scale, shift: no shear, the face keeps its shape) onto where they sit in dlib's aligned
150x150 face chip (``get_face_chip(..., padding=0.25)``). Matching dlib's framing lets the
dlib network teach our student on exactly the picture the student sees (training.teacher).

The template was measured once, when alignment was introduced (docs/accuracy.md): the mean
position of these mesh points in dlib's chips of 388 LFW photos, with a spread of 1.4-3.4 px
per point at 150 px.
"""

from __future__ import annotations

import cv2
import numpy as np

# Mesh indices: outer and inner corner of the eye on the image's right, the same for the eye
# on the image's left, and the point under the nose (dlib's five points, in dlib's order).
TEMPLATE_INDICES = (249, 362, 7, 155, 164)
# Where they belong, as fractions of the aligned face's side.
CHIP_SIZE = 150  # dlib's chip side: faces are warped at this size, then shrunk
TEMPLATE = (
    np.array(
        [[110.49, 47.35], [88.52, 47.39], [36.80, 47.14], [57.84, 47.72], [74.09, 89.60]],
        np.float64,
    )
    / 150.0
)


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, translation) that maps ``source`` (N, 2)
    onto ``target`` (N, 2) with least squared error (Umeyama 1991, no reflection)."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mean_s, target - mean_t
    variance = (s**2).sum() / len(s)
    if variance <= 1e-12:
        raise ValueError("the landmarks coincide")
    covariance = t.T @ s / len(s)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.diag([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(singular) @ sign)) / variance
    shift = mean_t - scale * rotation @ mean_s
    return np.hstack([scale * rotation, shift[:, None]])


def alignment_matrix(landmarks_xy: np.ndarray, size: int) -> np.ndarray:
    """The 2x3 transform from frame pixels to the aligned ``size`` x ``size`` face."""
    return similarity(np.asarray(landmarks_xy)[list(TEMPLATE_INDICES)], TEMPLATE * size)


def align(image_bgr: np.ndarray, landmarks_xy: np.ndarray, size: int = CHIP_SIZE) -> np.ndarray:
    """The aligned face (``size`` x ``size``, BGR uint8) from an image and its 468 landmarks.

    The face is first warped to dlib's 150 px chip, then shrunk to ``size`` by area
    averaging: one path for every size, so the network's input is made exactly as the
    teacher's views were (training.identity.views). Parts of the template square outside the image
    are filled by repeating its edge: a face cut by the frame's border still gives a full,
    finite picture.
    """
    matrix = alignment_matrix(landmarks_xy, CHIP_SIZE)
    scale = float(np.hypot(matrix[0, 0], matrix[0, 1]))
    if scale < 0.5:  # a large face: area-average it first, or the warp aliases (moire)
        factor = 0.5 / scale
        image_bgr = cv2.resize(
            image_bgr, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA
        )
        matrix = matrix.copy()
        matrix[:, :2] *= factor
    chip = cv2.warpAffine(
        image_bgr,
        matrix,
        (CHIP_SIZE, CHIP_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    if size == CHIP_SIZE:
        return chip
    return cv2.resize(chip, (size, size), interpolation=cv2.INTER_AREA)
