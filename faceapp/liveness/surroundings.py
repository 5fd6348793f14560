"""Does the face's surroundings move with it? The second passive cue, against screens.

A face in front of a webcam moves against a room that stays where it is: the wall, the
shelf, the door behind stay put while the head talks and turns. A face *in a picture* — a
phone playing a video of the owner, a printed photo — is carried by the hand that holds the
picture, and everything around the face in the picture moves with it: the video's own
background, the edge of the screen, the photo's margin. A video of a talking head moves in
three dimensions (the parallax cue says live), but its surroundings still ride on the hand.

:class:`Surroundings` follows up to :data:`MOST_POINTS` texture points around the face (in
the same window and working scale as the face's own points, outside the face's landmark
hull by :data:`MARGIN` eye distances) and, on every frame where the face moved, counts the
share of them that stayed put over the last ``LAG`` frames (moved less than :data:`STILL`
eye distances). A face in front of a room keeps some still surroundings — over a tenth on
the three real clips, whose backgrounds are a flag, a studio and a picture frame behind long
hair — while a picture held in a hand keeps none (0 on every replay measured). The verdict
is the median share over the moving frames: below :data:`STILL_SHARE`, the surroundings
moved with the face. With fewer than :data:`MIN_POINTS` points around the face (a plain
wall), it has nothing to say, and does not object (docs/liveness.md).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceapp.liveness import points

MOST_POINTS = 60  # texture points followed around the face
MIN_POINTS = 12  # fewer followed for LAG frames: nothing to judge this frame by
MARGIN = 0.15  # eye distances kept clear around the face's landmark hull
SPACING = 4  # px at the working scale between two points
STILL = 0.01  # eye distances over LAG frames: a point that moved less stayed put
STILL_SHARE = 0.05  # fewer still surroundings than this: they moved with the face


class Surroundings:
    """The points around the face, fed by :class:`~faceapp.liveness.passive.MotionCheck`
    (which owns the window, the working scale and the detail image)."""

    def __init__(self, still_share: float = STILL_SHARE):
        self.still_share = still_share
        self.tracks = points.Tracks()
        self.shares: list[float] = []  # per moving frame: the share that stayed put

    def restart(self) -> None:
        """The window moved: the points' positions mean nothing in the new one."""
        self.tracks = points.Tracks()

    def add(self, grey: np.ndarray, hull: np.ndarray, eyes: float) -> None:
        """Top the points (already followed into ``grey`` with the face's) up outside the
        face's ``hull`` (landmarks in the window's working pixels; ``eyes``: the eye
        distance there)."""
        if len(self.tracks) < MOST_POINTS // 2:
            around: np.ndarray = np.full(grey.shape, 255, np.uint8)
            cv2.fillConvexPoly(around, cv2.convexHull(hull.astype(np.int32)), 0)
            clear = max(3, int(2 * MARGIN * eyes) | 1)  # an erosion takes half its side
            around = cv2.erode(around, np.ones((clear, clear), np.uint8))
            self.tracks = points.seed(grey, around, self.tracks, MOST_POINTS, SPACING)

    def measure(self, eyes: float) -> None:
        """The face moved this frame: the share of its surroundings that did not."""
        then, now = points.spans(self.tracks)
        if len(then) < MIN_POINTS or eyes <= 0:
            return
        moved = np.linalg.norm(now - then, axis=1) / eyes
        self.shares.append(np.count_nonzero(moved < STILL) / len(moved))

    def carried(self, needed: int) -> bool | None:
        """True when the surroundings moved with the face over the moving frames measured
        (at least half of ``needed``); False when they stayed put; None when too few moving
        frames had points around the face to say."""
        seen = list(self.shares)  # a snapshot: the preview thread may be adding to it
        if 2 * len(seen) < needed:
            return None
        return float(np.median(seen)) < self.still_share
