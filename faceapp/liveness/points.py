"""Texture points followed from frame to frame: what both passive cues measure motion with.

A point is found where the image has a corner (``goodFeaturesToTrack``), followed to the next
frame by pyramidal Lucas-Kanade, and followed back again: a point that does not come back to
within :data:`FB_ERROR` pixels of where it was is dropped (it slid along an edge, was
covered, or left the picture). Each point keeps its last ``LAG + 1`` positions, so a cue can
compare where the points are with where they were ``LAG`` frames ago. numpy and OpenCV only.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

LAG = 16  # frames between the two positions a cue compares
FB_ERROR = 0.5  # px: a point whose backward track misses by more is dropped
LK_WINDOW = (13, 13)  # px at the working scale

Track = deque  # one point's last LAG + 1 positions, (x, y) at the working scale


def seed(
    grey: np.ndarray, mask: np.ndarray, tracks: list[Track], most: int, spacing: int
) -> list[Track]:
    """``tracks`` with new points added inside ``mask`` (up to ``most`` in all), none within
    ``spacing`` pixels of a point already followed."""
    if most - len(tracks) <= 0:
        return tracks
    free = mask.copy()
    for track in tracks:
        x, y = track[-1]
        cv2.circle(free, (int(x), int(y)), spacing, 0, -1)
    found = cv2.goodFeaturesToTrack(grey, most - len(tracks), 0.01, spacing, mask=free, blockSize=5)
    if found is None:
        return tracks
    return tracks + [deque([tuple(p)], maxlen=LAG + 1) for p in found.reshape(-1, 2)]


def follow_groups(
    previous: np.ndarray, grey: np.ndarray, *groups: list[Track]
) -> tuple[list[Track], ...]:
    """:func:`follow` for several groups of tracks at once (one optical-flow call for all:
    most of its cost is the image pyramids, built once), each group's followed tracks."""
    kept = {id(track) for track in follow(previous, grey, [t for g in groups for t in g])}
    return tuple([track for track in group if id(track) in kept] for group in groups)


def follow(previous: np.ndarray, grey: np.ndarray, tracks: list[Track]) -> list[Track]:
    """The tracks that could be followed from ``previous`` to ``grey`` and back, each with
    its new position appended."""
    if not tracks:
        return tracks
    points = np.array([t[-1] for t in tracks], np.float32).reshape(-1, 1, 2)
    ahead, ok = _flow(previous, grey, points)
    back, ok_back = _flow(grey, previous, ahead)
    error = np.linalg.norm((back - points).reshape(-1, 2), axis=1)
    keep = (ok.reshape(-1) == 1) & (ok_back.reshape(-1) == 1) & (error < FB_ERROR)
    kept = []
    for track, point, good in zip(tracks, ahead.reshape(-1, 2), keep):
        if good:
            track.append(tuple(point))
            kept.append(track)
    return kept


def _flow(start: np.ndarray, end: np.ndarray, points: np.ndarray):
    """Where pyramidal Lucas-Kanade puts ``points`` of ``start`` in ``end``, and whether it
    found each."""
    moved, found, _ = cv2.calcOpticalFlowPyrLK(
        start,
        end,
        points,
        None,
        winSize=LK_WINDOW,
        maxLevel=2,  # type: ignore[call-overload]
    )
    return moved, found


def spans(tracks: list[Track]) -> tuple[np.ndarray, np.ndarray]:
    """Where the points followed for ``LAG`` frames were then and are now (two ``(n, 2)``
    float32 arrays)."""
    full = [t for t in tracks if len(t) == LAG + 1]
    then = np.array([t[0] for t in full], np.float32).reshape(-1, 2)
    now = np.array([t[-1] for t in full], np.float32).reshape(-1, 2)
    return then, now
