"""Face Mesh (Kartynnik et al. 2019): 468 landmarks of one face, from a region of interest.

The region is a square around the face, turned so that the eyes are level, cut out of the
frame with one affine warp into the network's 192x192 input. The network returns, for every
point of its fixed mesh (the same index is the same spot of every face: 33 and 263 the
outer eye corners, 1 the nose tip, ...), x and y in that square and a depth z on the same
scale, plus a logit that a face is there at all. Points are mapped back to the frame.

Where the region comes from:

* a detection (:mod:`faceapp.vision.blazeface`): the box grown 1.5x, turned by its eye points;
* the previous frame's landmarks (:meth:`Landmarks.next_region`): in a video the face moves
  little between frames, so the detector is needed only when the landmarks lose it. This is
  MediaPipe's own tracking scheme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.numeric import sigmoid
from faceapp.vision.blazeface import Detection
from faceapp.vision.facenets import LANDMARKS_FILE, network_path
from faceapp.vision.litert import TFLiteNetwork

ROI_SCALE = 1.5  # region side / face box side (MediaPipe's)
MIN_PRESENCE = 0.5  # below this the region holds no face
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263  # the person's right eye is on the image's left
NOSE_TIP = 1


@dataclass(frozen=True)
class Region:
    """A square of the frame: centre (x, y), side in pixels, and the face's in-plane angle
    (radians, positive when the line from its right eye to its left eye runs downwards)."""

    cx: float
    cy: float
    side: float
    angle: float

    def to_square(self, size: int) -> np.ndarray:
        """The 2x3 affine matrix from frame pixels to this region as a ``size`` square."""
        scale = size / self.side
        cos, sin = math.cos(self.angle) * scale, math.sin(self.angle) * scale
        # rotate by -angle about the centre, scale, then put the centre in the middle
        return np.array(
            [
                [cos, sin, size / 2 - cos * self.cx - sin * self.cy],
                [-sin, cos, size / 2 + sin * self.cx - cos * self.cy],
            ],
            np.float64,
        )

    @classmethod
    def around(
        cls, points: np.ndarray, left: np.ndarray, right: np.ndarray, scale: float = ROI_SCALE
    ) -> Region:
        """The square region around ``points`` (N, 2), turned by the eye line from ``left``
        (the eye on the image's left) to ``right``, grown ``scale`` times."""
        angle = math.atan2(float(right[1] - left[1]), float(right[0] - left[0]))
        cos, sin = math.cos(angle), math.sin(angle)
        # the points' bounds in the face's own (level) frame
        level = points @ np.array([[cos, -sin], [sin, cos]])
        low, high = level.min(axis=0), level.max(axis=0)
        centre_level = (low + high) / 2
        centre = centre_level @ np.array([[cos, sin], [-sin, cos]])
        side = float(max(high - low)) * scale
        return cls(float(centre[0]), float(centre[1]), max(side, 1.0), angle)


def region_of(detection: Detection) -> Region:
    """The landmark network's region for a detection (its box grown 1.5x, eyes level)."""
    x0, y0, x1, y1 = (float(v) for v in detection.box)
    left, right = detection.eyes()
    angle = math.atan2(float(right[1] - left[1]), float(right[0] - left[0]))
    side = max(x1 - x0, y1 - y0) * ROI_SCALE
    return Region((x0 + x1) / 2, (y0 + y1) / 2, max(side, 1.0), angle)


@dataclass(frozen=True)
class Landmarks:
    """468 points (x, y, z) in frame pixels (z: depth, same scale, smaller is nearer), and
    the network's confidence that they are on a face."""

    points: np.ndarray
    presence: float

    @property
    def xy(self) -> np.ndarray:
        return self.points[:, :2]

    def box(self) -> tuple[float, float, float, float]:
        """The bounds (x0, y0, x1, y1) of the points in the frame."""
        low, high = self.xy.min(axis=0), self.xy.max(axis=0)
        return float(low[0]), float(low[1]), float(high[0]), float(high[1])

    def eye_distance(self) -> float:
        """Pixels between the outer eye corners: the face's scale."""
        return float(np.linalg.norm(self.xy[LEFT_EYE_OUTER] - self.xy[RIGHT_EYE_OUTER]))

    def next_region(self) -> Region:
        """Where to look in the next frame of a video: around these points."""
        return Region.around(self.xy, self.xy[RIGHT_EYE_OUTER], self.xy[LEFT_EYE_OUTER])


class FaceMesh:
    """The landmark network. Not thread-safe: one per thread."""

    def __init__(self, threads: int | None = None):
        self.network = TFLiteNetwork(
            network_path(LANDMARKS_FILE), threads=threads, name=LANDMARKS_FILE
        )
        self.side = self.network.input_shape[1]

    def __call__(self, frame_bgr: np.ndarray, region: Region) -> Landmarks:
        """The landmarks of the face in ``region`` of a BGR frame."""
        matrix = region.to_square(self.side)
        square = cv2.warpAffine(
            frame_bgr,
            matrix,
            (self.side, self.side),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
        )
        tensor = cv2.cvtColor(square, cv2.COLOR_BGR2RGB).astype(np.float32)
        tensor *= np.float32(1.0 / 255.0)
        raw, logit = self.network.run(tensor[None])
        points = raw.reshape(-1, 3).astype(np.float64)
        inverse = cv2.invertAffineTransform(matrix)
        xy = points[:, :2] @ inverse[:, :2].T + inverse[:, 2]
        z = points[:, 2:] * (region.side / self.side)
        presence = float(sigmoid(logit.reshape(-1)[-1]))
        return Landmarks(np.concatenate([xy, z], axis=1).astype(np.float32), presence)
