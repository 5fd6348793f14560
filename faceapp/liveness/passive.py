"""Is a live, three-dimensional face in front of the camera, or a flat picture of one?

A photo or a screen held up to the camera is a plane: however the hand moves, turns or tilts
it, every point of the face in it moves by one perspective transform (a homography). A real
head is not flat — the nose stands out from the cheeks, the ears sit behind them — and it is
not rigid either (it talks, blinks, frowns): as it moves, its points do not follow any one
homography. That difference is measured here, from the frames alone, with no prompt.

:class:`MotionCheck` follows ~100 texture points on the face from frame to frame
(pyramidal Lucas-Kanade on the image's fine detail, each point checked backwards), and
every frame fits a homography
(RANSAC) between where the points are now and where they were ``LAG`` frames ago. What the
homography cannot explain — the 90th percentile of the points' residuals, divided by the
distance between the outer eye corners so it does not depend on the face's size — is the
frame's *parallax*. A frame counts once the face moved enough for parallax to show
(``MIN_MOTION``): a face that holds perfectly still shows none, live or not.

A second cue watches the face's surroundings (:mod:`~faceapp.liveness.surroundings`): a
video of the owner on a phone moves in three dimensions, but everything around the face in
it rides on the hand too, while a room behind a live face stays put.

Verdict: live once ``NEEDED`` moving frames had a median parallax above the threshold and
the surroundings did not move with the face; not live once as many had it below, or they
did; a camera that repeats the same frame, or a face that
never moves, is not live ("no motion seen"). Thresholds were chosen on replay attacks and
live clips other than those they were then measured on (docs/liveness.md).

Used by the app's multi-frame mode and ``faceapp.verify --timeout`` with
``--liveness passive``; numpy and OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.liveness import points
from faceapp.liveness.surroundings import Surroundings
from faceapp.vision.finder import Face
from faceapp.vision.geometry import Box, context_box

MAX_POINTS = 80  # texture points followed on the face
MIN_POINTS = 30  # fewer alive: look for new ones
MIN_FIT = 16  # points needed for a homography
MIN_MOTION = 0.03  # median displacement over LAG frames, in eye distances
PARALLAX_THRESHOLD = 0.028  # 90th-percentile residual, in eye distances (measured: docs)
NEEDED = 20  # moving frames before a verdict
WORK_EYES = 60.0  # frames are scaled so the eyes are this many pixels apart
WINDOW = 2.0  # points are followed in a square this many times the face's side
SPACING = 3  # px at the working scale between two points on the face


CARRIED = "not live: everything around the face moved with it, like a screen held up"


@dataclass(frozen=True)
class Verdict:
    """``live``: True, False, or None while undecided; ``reason`` says why, for the user."""

    live: bool | None
    reason: str
    parallax: float | None  # the median parallax of the moving frames so far
    moving_frames: int


def detail(grey: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The image, shrunk by ``scale``, without its slow changes of light (a difference of
    Gaussians, re-centred on 128): a glare or a shadow sweeping over a held-up photo changes
    the brightness under the points, and Lucas-Kanade, which assumes it constant, would
    drift with it. The wide blur is taken at a quarter of the size, where it costs a
    sixteenth."""
    if scale < 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    fine = cv2.GaussianBlur(grey, (0, 0), 0.8)
    quarter = cv2.GaussianBlur(cv2.pyrDown(cv2.pyrDown(grey)), (0, 0), 1.0)
    coarse = cv2.resize(quarter, grey.shape[::-1], interpolation=cv2.INTER_LINEAR)
    return cv2.addWeighted(fine, 2.0, coarse, -2.0, 128)


class MotionCheck:
    """Follows the face over consecutive frames and decides whether it is live."""

    def __init__(self, threshold: float = PARALLAX_THRESHOLD, needed: int = NEEDED):
        self.threshold = threshold
        self.needed = needed
        self.frames = 0
        self.faces = 0
        self.parallax: list[float] = []  # one value per frame with enough motion
        self.still_frames = 0  # frames with a face and no motion to speak of
        self._grey: np.ndarray | None = None
        self._scale = 1.0
        self._window: Box | None = None  # the part of the frame the points live in
        self._tracks = points.Tracks()  # the points on the face, with their last positions
        self.surroundings = Surroundings()  # the second cue: points around the face

    # --- feeding frames -------------------------------------------------------------------

    def add(self, frame_bgr: np.ndarray, face: Face | None) -> None:
        """The next frame of the video, with the face found in it (None: none)."""
        self.frames += 1
        if face is None or face.landmarks is None:
            self._grey, self._tracks = None, points.Tracks()
            self.surroundings.restart()
            return
        self.faces += 1
        eyes = face.landmarks.eye_distance()
        window = self._window
        if (
            window is None
            or self._grey is None
            or not self._tracks
            or not _inside(face.box, window)
        ):
            # (re)start: a window around the face, at the scale that puts the eyes
            # WORK_EYES apart; points are followed in it while the face stays inside
            window = self._window = context_box(face.box, frame_bgr.shape, WINDOW)
            self._scale = min(1.0, WORK_EYES / max(eyes, 1.0))
            self._grey, self._tracks = None, points.Tracks()
            self.surroundings.restart()
        grey = detail(cv2.cvtColor(window.crop(frame_bgr), cv2.COLOR_BGR2GRAY), self._scale)
        if self._grey is not None:  # the face's points and its surroundings', in one call
            self._tracks, self.surroundings.tracks = points.follow_groups(
                self._grey, grey, self._tracks, self.surroundings.tracks
            )
        hull = (face.landmarks.xy - np.array([window.x, window.y])) * self._scale
        if len(self._tracks) < MIN_POINTS:
            self._seed(grey, hull)
        self.surroundings.add(grey, hull, eyes * self._scale)
        self._grey = grey
        self._measure(eyes * self._scale)

    def _seed(self, grey: np.ndarray, landmarks: np.ndarray) -> None:
        """New points on the face (inside the hull of its ``landmarks``, in the window's
        pixels), away from the points already followed."""
        mask = np.zeros(grey.shape, np.uint8)
        cv2.fillConvexPoly(mask, cv2.convexHull(landmarks.astype(np.int32)), 255)
        self._tracks = points.seed(grey, mask, self._tracks, MAX_POINTS, SPACING)

    def _measure(self, eye_distance: float) -> None:
        """This frame's parallax, if enough points go back LAG frames and they moved (and
        then the share of the face's surroundings that stayed put)."""
        then, now = points.spans(self._tracks)
        if len(then) < MIN_FIT or eye_distance <= 0:
            return
        motion = _median(np.linalg.norm(now - then, axis=1)) / eye_distance
        if motion < MIN_MOTION:
            self.still_frames += 1
            return
        # USAC_FAST (RANSAC with local optimisation) finds the plane in a tenth of the
        # time plain RANSAC takes, and fits it more tightly: flat pictures score lower
        homography, _ = cv2.findHomography(then, now, cv2.USAC_FAST, 1.0)
        if homography is None:
            return
        mapped = cv2.perspectiveTransform(then.reshape(-1, 1, 2), homography).reshape(-1, 2)
        residual = np.linalg.norm(mapped - now, axis=1) / eye_distance
        self.parallax.append(_percentile(residual, 90))
        self.surroundings.measure(eye_distance)

    # --- the verdict ----------------------------------------------------------------------

    def verdict(self) -> Verdict:
        """Live, not live, or undecided (``live`` None) — with the reason, in words."""
        seen = list(self.parallax)  # a snapshot: the preview thread may be adding to it
        moving = len(seen)
        score = float(np.median(seen)) if seen else None
        if score is not None and moving >= self.needed:
            if score <= self.threshold:
                return Verdict(False, "not live: the face moved like a flat picture", score, moving)
            if self.surroundings.carried(self.needed):
                return Verdict(False, CARRIED, score, moving)
            return Verdict(True, "live: the face moved in three dimensions", score, moving)
        return Verdict(None, self.why_undecided(), score, moving)

    def why_undecided(self) -> str:
        """Why there is no verdict yet: what a check that ends now would report."""
        if self.faces == 0:
            return "not live: no face seen" if self.frames else "not live: no frames"
        if not self.parallax:
            return (
                "not live: no motion seen (a frozen camera, or a face held still: "
                "move your head a little)"
            )
        return f"not live: too little motion seen ({len(self.parallax)} of {self.needed} frames)"

    def final(self) -> Verdict:
        """The verdict when no more frames will come: undecided means not live."""
        verdict = self.verdict()
        if verdict.live is None:
            return Verdict(False, verdict.reason, verdict.parallax, verdict.moving_frames)
        return verdict


# numpy's median and percentile spend ten times the work itself on checking and dispatching
# for ~80 values; these give the very same numbers (numpy's linear method, in the values'
# float32, as tests/test_liveness.py checks) on every frame for a fraction of the cost


def _median(values: np.ndarray) -> float:
    ordered = np.sort(values)
    half = len(ordered) // 2
    return float(ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2)


def _percentile(values: np.ndarray, q: float) -> float:
    ordered = np.sort(values)
    at = (len(ordered) - 1) * (q / 100)
    low = int(at)
    gamma = at - low
    a, b = ordered[low], ordered[min(low + 1, len(ordered) - 1)]
    if gamma >= 0.5:  # from the upper end, as numpy does, for the same rounding
        return float(b - (b - a) * np.float32(1 - gamma))
    return float(a + (b - a) * np.float32(gamma))


def _inside(box: Box, window: Box | None) -> bool:
    return (
        window is not None
        and box.x >= window.x
        and box.y >= window.y
        and box.x + box.width <= window.x + window.width
        and box.y + box.height <= window.y + window.height
    )
