"""Live-like material made inside the tests, from a real photo (no shared clips needed): the
face turned in three dimensions by its own Face Mesh.

Face Mesh gives each of its 468 points a depth. Rotating those 3-D points about the head's
centre and warping each triangle of the mesh from the photo to where it lands (a piecewise
affine warp, :mod:`training.turning`) turns the real face in front of its real, still
background — true parallax, as a head gives and a flat picture cannot. It is not a person
(no blinking, no talking, the ears and hair do not turn), but it moves the way the passive
check and the challenge look for, on a real face, so a check that always says "not live", or
one that decides too soon, fails these tests even without ``../shared``.
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
from training.turning import TurningFrame, delaunay, turned_face


class TurningHead:
    """A photo's face, turned to any yaw and pitch (degrees, the pose module's signs)."""

    def __init__(self, photo, size: int = 480):
        image = read_image(photo)
        scale = size / max(image.shape[:2])
        self.image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        face = find_face(self.image)
        assert face is not None and face.landmarks is not None, photo
        self.points = face.landmarks.points.astype(np.float64)  # x, y, z (z: nearer is smaller)
        self.triangles = delaunay(self.points[:, :2], self.image.shape)
        # where the face was, filled from around it: a turned face uncovers it
        hull = cv2.convexHull(np.int32(self.points[:, :2]))
        mask = np.zeros(self.image.shape[:2], np.uint8)
        cv2.fillConvexPoly(mask, hull, 255)
        self.base = cv2.inpaint(self.image, cv2.dilate(mask, np.ones((5, 5))), 9, cv2.INPAINT_TELEA)

    def frame(self, yaw: float, pitch: float) -> np.ndarray:
        """The photo with its face turned by ``yaw`` (to the picture's right when positive)
        and ``pitch`` (up when positive)."""
        return turned_face(self.image, self.base, self.points, self.triangles, yaw, pitch)


def turning_frame(photo) -> TurningFrame:
    """A real photo, with room around it, whose whole head can be turned (the smooth
    responder's renderer, :class:`training.turning.TurningFrame`)."""
    image = read_image(photo)
    image = np.ascontiguousarray(np.pad(image, ((60, 60), (60, 60), (0, 0)), mode="edge"))
    face = find_face(image)
    assert face is not None and face.landmarks is not None, photo
    return TurningFrame(image, face.landmarks.points.astype(np.float64))


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
