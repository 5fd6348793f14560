"""Which way a face is turned: yaw, pitch and roll from Face Mesh's 3-D landmarks.

Face Mesh gives every point a depth (``z``, on the same scale as x and y, smaller nearer), so
the face's own axes can be read straight off its points: *across* from the outer corner of
the right eye to that of the left eye, *up* from the chin to the top of the forehead, and
*forward* (out of the face) perpendicular to both. The angles are those of the forward axis
against the camera's: no camera model and no reference face are needed, and the same points
serve every face. Measured accuracy is a few degrees, enough to refuse a face turned away
for enrolment and to follow the head movements of a liveness challenge.

Signs, in the camera's picture (not mirrored): ``yaw`` > 0 when the face points to the
picture's right (the person turned to their own left), ``pitch`` > 0 when it points up,
``roll`` > 0 when the eye line runs down to the picture's right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from faceapp.vision.landmarks import LEFT_EYE_OUTER, RIGHT_EYE_OUTER, Landmarks

CHIN, FOREHEAD = 152, 10


@dataclass(frozen=True)
class Pose:
    """Head angles in degrees (see the module doc for their signs)."""

    yaw: float
    pitch: float
    roll: float

    def turned_away(self, limit: float) -> str | None:
        """Which way the face is turned by more than ``limit`` degrees, in words, or None."""
        if abs(self.yaw) > limit:
            return "turned sideways"
        if abs(self.pitch) > limit:
            return "tilted up" if self.pitch > 0 else "tilted down"
        return None


def head_pose(landmarks: Landmarks) -> Pose:
    """The pose of the face whose landmarks these are."""
    points = np.asarray(landmarks.points, np.float64)
    across = points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]
    up = points[FOREHEAD] - points[CHIN]
    across /= np.linalg.norm(across) + 1e-12
    up = up - (up @ across) * across
    up /= np.linalg.norm(up) + 1e-12
    # their cross product: towards the camera (z < 0) for a frontal face (written out: on
    # every frame of a challenge, np.cross's generality costs more than the rest together)
    (ax, ay, az), (ux, uy, uz) = across.tolist(), up.tolist()
    fx, fy, fz = ay * uz - az * uy, az * ux - ax * uz, ax * uy - ay * ux
    yaw = math.degrees(math.atan2(fx, -fz))
    pitch = math.degrees(math.atan2(-fy, math.hypot(fx, fz)))
    roll = math.degrees(math.atan2(across[1], across[0]))
    return Pose(yaw, pitch, roll)
