"""Finding the face: one search, used by the preview, captures, enrolment, verification and
training alike.

:class:`FaceFinder` runs BlazeFace's short-range network on the whole frame (faces from
about a sixth of the frame's longer side up to the whole frame), its full-range network
only when that finds nothing (smaller faces), then Face Mesh on the largest face for the
468 landmarks that alignment (:mod:`faceapp.vision.align`) and liveness
(:mod:`faceapp.liveness`) use. Both networks are MediaPipe's, run on LiteRT
(:mod:`faceapp.vision.facenets`).

In a video (``track=True``) the face moves little from one frame to the next: the previous
frame's landmarks say where to look, and the detector runs only when the landmark network
no longer sees a face there (MediaPipe's own scheme).

When the landmarks cannot be placed (the mesh says there is no face in the detector's
box), :attr:`Face.landmarks` is None: callers then fall back to an unaligned crop and say so.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from faceapp.vision.blazeface import BlazeFace, Detection
from faceapp.vision.facenets import FULL_RANGE_DETECTOR_FILE
from faceapp.vision.geometry import Box
from faceapp.vision.landmarks import MIN_PRESENCE, FaceMesh, Landmarks, region_of

NETWORK_THREADS = 1  # the detector and the mesh are ~1 ms networks: threads cost more


@dataclass(frozen=True)
class Face:
    """The face found in a frame: its box, the detector's confidence, and its landmarks
    (None when the landmark network could not place them)."""

    box: Box
    score: float
    landmarks: Landmarks | None


class FaceFinder:
    """The detector and the landmark network, with tracking between frames of one video.

    Not thread-safe (each network holds its tensors): one finder per thread; see
    :func:`find_face` for a per-thread finder of still images.
    """

    def __init__(self, track: bool = False, threads: int = NETWORK_THREADS):
        self.track = track
        self.detector = BlazeFace(threads=threads)
        self._full_range: BlazeFace | None = None  # loaded when first needed
        self._threads = threads
        self.mesh = FaceMesh(threads=threads)
        self.last: Landmarks | None = None  # the tracked face's landmarks
        self.detections = 0  # how often the detector ran (for benchmarks)

    def reset(self) -> None:
        """Forget the tracked face (a new video, a jump in the frames)."""
        self.last = None

    def find(self, frame_bgr: np.ndarray) -> Face | None:
        """The largest face in a BGR frame (the tracked one in a video), or None."""
        if self.track and self.last is not None:
            landmarks = self.mesh(frame_bgr, self.last.next_region())
            if landmarks.presence >= MIN_PRESENCE and _finite(landmarks):
                self.last = landmarks
                return Face(
                    Box.bounding(landmarks.box(), frame_bgr.shape), landmarks.presence, landmarks
                )
            self.last = None
        detection = self.largest_detection(frame_bgr)
        if detection is None:
            return None
        landmarks = self.mesh(frame_bgr, region_of(detection))
        usable = landmarks.presence >= MIN_PRESENCE and _finite(landmarks)
        if self.track:
            self.last = landmarks if usable else None
        return Face(
            Box.bounding(detection.box, frame_bgr.shape),
            detection.score,
            landmarks if usable else None,
        )

    def find_all(self, frame_bgr: np.ndarray) -> list[Face]:
        """Every face in a BGR frame, largest first, each with its landmarks (no tracking)."""
        faces = []
        for detection in self.detections_of(frame_bgr):
            landmarks = self.mesh(frame_bgr, region_of(detection))
            usable = landmarks.presence >= MIN_PRESENCE and _finite(landmarks)
            box = Box.bounding(detection.box, frame_bgr.shape)
            faces.append(Face(box, detection.score, landmarks if usable else None))
        return sorted(faces, key=lambda face: face.box.area, reverse=True)

    def detections_of(self, frame_bgr: np.ndarray) -> list[Detection]:
        """The detector's faces: short range first, full range when it finds none."""
        self.detections += 1
        found = self.detector(frame_bgr)
        if not found:
            if self._full_range is None:
                self._full_range = BlazeFace(FULL_RANGE_DETECTOR_FILE, threads=self._threads)
            found = self._full_range(frame_bgr)
        return found

    def largest_detection(self, frame_bgr: np.ndarray) -> Detection | None:
        """The detector's largest face (see :meth:`detections_of`)."""
        return max(self.detections_of(frame_bgr), key=lambda d: d.width * d.height, default=None)


def _finite(landmarks: Landmarks) -> bool:
    return bool(np.isfinite(landmarks.points).all())


_per_thread = threading.local()


def _finder() -> FaceFinder:
    finder = getattr(_per_thread, "finder", None)
    if finder is None:
        finder = _per_thread.finder = FaceFinder()
    return finder


def find_face(frame_bgr: np.ndarray) -> Face | None:
    """The largest face of a still image, with this thread's own :class:`FaceFinder`."""
    return _finder().find(frame_bgr)


def find_faces(image) -> list[Face]:
    """Every face in an image (a path, encoded bytes or a BGR array), largest first, each
    with its box, the detector's confidence and its 468 landmarks (None when the landmark
    network could not place them)."""
    from faceapp.vision.imaging import load_bgr

    return _finder().find_all(load_bgr(image))
