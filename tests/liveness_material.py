"""Live-like material made inside the tests, from a real photo (no shared clips needed): the
face turned in three dimensions by its own Face Mesh.

Face Mesh gives each of its 468 points a depth. Rotating those 3-D points about the head's
centre and warping each triangle of the mesh from the photo to where it lands (a piecewise
affine warp) turns the real face in front of its real, still background — true parallax,
as a head gives and a flat picture cannot. It is not a person (no blinking, no talking, the
ears and hair do not turn), but it moves the way the passive check and the challenge look
for, on a real face, so a check that always says "not live", or one that decides too soon,
fails these tests even without ``../shared``.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from faceapp.vision.finder import find_face
from faceapp.vision.imaging import read_image


class TurningHead:
    """A photo's face, turned to any yaw and pitch (degrees, the pose module's signs)."""

    def __init__(self, photo, size: int = 480):
        image = read_image(photo)
        scale = size / max(image.shape[:2])
        self.image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        face = find_face(self.image)
        assert face is not None and face.landmarks is not None, photo
        self.points = face.landmarks.points.astype(np.float64)  # x, y, z (z: nearer is smaller)
        # a head turns about its neck, behind the face: the face moves as it turns
        width = np.ptp(self.points[:, 0])
        self.centre = self.points.mean(axis=0) + [0.0, 0.3 * width, 0.8 * width]
        self.triangles = delaunay(self.points[:, :2], self.image.shape)
        # where the face was, filled from around it: a turned face uncovers it
        hull = cv2.convexHull(np.int32(self.points[:, :2]))
        mask = np.zeros(self.image.shape[:2], np.uint8)
        cv2.fillConvexPoly(mask, hull, 255)
        self.base = cv2.inpaint(self.image, cv2.dilate(mask, np.ones((5, 5))), 9, cv2.INPAINT_TELEA)

    def frame(self, yaw: float, pitch: float) -> np.ndarray:
        """The photo with its face turned by ``yaw`` (to the picture's right when positive)
        and ``pitch`` (up when positive)."""
        a, b = math.radians(yaw), math.radians(pitch)
        # z grows away from the camera: a face turning to the picture's right brings its
        # right side (in the picture) back, so x' = x cos a - z sin a
        turn = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
        nod = np.array([[1, 0, 0], [0, math.cos(b), math.sin(b)], [0, -math.sin(b), math.cos(b)]])
        moved = (self.points - self.centre) @ (nod @ turn).T + self.centre
        out = self.base.copy()
        for tri in self.triangles:
            warp_triangle(self.image, out, self.points[tri, :2], moved[tri, :2])
        return out


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
    box = cv2.boundingRect(np.float32(to_xy))
    x, y, w, h = box
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > target.shape[1] or y + h > target.shape[0]:
        return
    matrix = cv2.getAffineTransform(np.float32(from_xy), np.float32(to_xy - [x, y]))
    patch = cv2.warpAffine(source, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.int32(np.round(to_xy - [x, y])), 1)
    region = target[y : y + h, x : x + w]
    region[mask > 0] = patch[mask > 0]


def swaying(head: TurningHead, frames: int, fps: float = 25.0) -> list[np.ndarray]:
    """A head that sways a little, as a person asked to hold still and look does: yaw and
    pitch slowly changing by a few degrees."""
    t = np.arange(frames) / fps
    return [head.frame(9 * math.sin(1.3 * s), 5 * math.sin(0.9 * s + 1)) for s in t]


RENDERS = Path(tempfile.gettempdir()) / f"faceapp-test-renders-{os.getuid()}"  # this user's
ATTACKS_SOURCE = Path(__file__).resolve().parent.parent / "training" / "attacks.py"


def rendered(content, kind: str, seconds: float, seed: int) -> list[np.ndarray]:
    """``training.attacks.render(...)``, kept on disk between test runs: rendering a replay
    costs about 80 ms a frame, and mutation testing runs the same tests hundreds of times.
    The key is everything the frames depend on — the content's pixels, the kind, the length,
    the seed and the renderer's own source — so a change to any of them renders anew."""
    from training.attacks import render

    frames = content if isinstance(content, list) else [content]
    digest = hashlib.sha256(ATTACKS_SOURCE.read_bytes())
    for frame in frames:
        digest.update(np.ascontiguousarray(frame).tobytes())
    digest.update(
        f"{kind}|{seconds}|{seed}|{len(frames)}|{cv2.__version__}|{np.__version__}".encode()
    )
    cached = RENDERS / f"{digest.hexdigest()[:32]}.npy"
    RENDERS.mkdir(mode=0o700, exist_ok=True)
    if RENDERS.stat().st_uid != os.getuid() or RENDERS.is_symlink():  # not ours: no cache
        return render(content, kind, seconds, seed)
    if cached.is_file():
        try:
            return list(np.load(cached))
        except (OSError, ValueError):  # a damaged file: render it again
            pass
    out = render(content, kind, seconds, seed)
    handle, temporary = tempfile.mkstemp(dir=RENDERS, suffix=".npy.tmp")
    with os.fdopen(handle, "wb") as file:
        np.save(file, np.stack(out))
    os.replace(temporary, cached)
    return out
