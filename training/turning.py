"""A real face turned in three dimensions by its own Face Mesh: live-like material.

Face Mesh gives each of its 468 points a depth. Rotating those 3-D points about a centre
behind the face (a head turns about its neck) and warping each triangle of a mesh from the
picture to where it lands (a piecewise affine warp) turns the real face in front of its real
background: true parallax, as a head gives and a flat picture cannot.

Two renderers share the warp:

* :func:`turned_face` moves the face's own mesh over the picture, the place it left filled
  from around it (the tests' turning photo, ``tests/liveness_material.py``);
* :class:`TurningFrame` moves the whole head: the face's mesh, and a ring around it (hair,
  ears, neck) that turns with it at the head's middle depth, inside a ring that stays put,
  with the frame's edges fixed, so the picture stays whole — the material of the smooth
  scripted responder (:mod:`training.evaluation.responders`).

Neither is a person (the hair turns as a shell, the ears do not hide), but the face turns
smoothly, as the point tracker and the pose reader see a person's turn.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

HEAD_RING = 1.25  # the ring that turns with the head, in the face's size from its middle
STILL_RING = 1.45  # the ring that stays put (the room behind the head)


def rotation(yaw: float, pitch: float) -> np.ndarray:
    """The 3x3 rotation that turns a face by ``yaw`` (to the picture's right when positive)
    and ``pitch`` (up when positive), in degrees, the pose module's signs."""
    a, b = math.radians(yaw), math.radians(pitch)
    # z grows away from the camera: a face turning to the picture's right brings its right
    # side (in the picture) back, so x' = x cos a - z sin a
    turn = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
    nod = np.array([[1, 0, 0], [0, math.cos(b), math.sin(b)], [0, -math.sin(b), math.cos(b)]])
    return nod @ turn


def neck(points: np.ndarray) -> np.ndarray:
    """Where a head turns about: below and behind the face's middle."""
    width = np.ptp(points[:, 0])
    return points.mean(axis=0) + [0.0, 0.3 * width, 0.8 * width]


def delaunay(points: np.ndarray, shape) -> list[np.ndarray]:
    """Triangles (indices into ``points``) of the points' Delaunay triangulation."""
    height, width = shape[:2]
    subdiv = cv2.Subdiv2D((0, 0, width, height))
    inside = [(float(x), float(y)) for x, y in points if 0 <= x < width and 0 <= y < height]
    for point in inside:
        subdiv.insert(point)
    triangles = []
    for t in subdiv.getTriangleList():
        corners = np.array([[t[0], t[1]], [t[2], t[3]], [t[4], t[5]]])
        gaps = np.linalg.norm(points[None, :, :] - corners[:, None, :], axis=2)
        nearest = gaps.argmin(axis=1)
        if np.all(gaps[np.arange(3), nearest] < 0.5):  # corners that are mesh points
            triangles.append(nearest)
    return triangles


def warp_triangle(source: np.ndarray, target: np.ndarray, from_xy, to_xy) -> None:
    """Copy one triangle of ``source`` onto ``target``, affinely, where it moved to."""
    box = cv2.boundingRect(np.asarray(to_xy, np.float32))
    x, y, w, h = box
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > target.shape[1] or y + h > target.shape[0]:
        return
    matrix = cv2.getAffineTransform(
        np.asarray(from_xy, np.float32), np.asarray(to_xy - [x, y], np.float32)
    )
    patch = cv2.warpAffine(source, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(to_xy - [x, y]).astype(np.int32), 1)
    region = target[y : y + h, x : x + w]
    region[mask > 0] = patch[mask > 0]


def turned_face(image, base, points, triangles, yaw: float, pitch: float) -> np.ndarray:
    """``image`` with the face of its mesh ``points`` (N, 3) turned, over ``base`` (the
    image with the face's place filled)."""
    centre = neck(points)
    moved = (points - centre) @ rotation(yaw, pitch).T + centre
    out = base.copy()
    for tri in triangles:
        warp_triangle(image, out, points[tri, :2], moved[tri, :2])
    return out


class TurningFrame:
    """One frame of a real clip whose whole head can be turned (:meth:`frame`)."""

    def __init__(self, image: np.ndarray, points: np.ndarray):
        """``points``: the face's Face Mesh landmarks in ``image`` (N, 3)."""
        self.image = image
        height, width = image.shape[:2]
        middle = points.mean(axis=0)
        corners = cv2.convexHull(np.asarray(points[:, :2], np.float32), returnPoints=False)
        hull = points[np.asarray(corners).ravel()]
        head = middle + (hull - middle) * [HEAD_RING, HEAD_RING, 0.0]  # at the middle's depth
        still = middle[:2] + (hull[:, :2] - middle[:2]) * STILL_RING
        edges = [(x, y) for x in (0, width / 2, width - 1) for y in (0, height / 2, height - 1)]
        self.turning = np.vstack([points, head])  # 3-D: they turn
        self.fixed = np.vstack([still, np.array(edges, np.float64)])
        self.fixed[:, 0] = self.fixed[:, 0].clip(0, width - 1)
        self.fixed[:, 1] = self.fixed[:, 1].clip(0, height - 1)
        self.centre = neck(points)
        every = np.vstack([self.turning[:, :2], self.fixed])
        self.triangles = delaunay(every, image.shape)
        self.source_xy = every

    def frame(self, yaw: float, pitch: float) -> np.ndarray:
        """The frame with its head turned by ``yaw`` and ``pitch`` degrees (0, 0: as filmed)."""
        if yaw == 0 and pitch == 0:
            return self.image
        moved = (self.turning - self.centre) @ rotation(yaw, pitch).T + self.centre
        target_xy = np.vstack([moved[:, :2], self.fixed])
        out = self.image.copy()
        # far triangles first, so the near side of a turned face covers what it hides
        depth = np.vstack([moved[:, 2:], np.full((len(self.fixed), 1), np.inf)])
        for tri in sorted(self.triangles, key=lambda t: -float(np.min(depth[t]))):
            warp_triangle(self.image, out, self.source_xy[tri], target_xy[tri])
        return out
