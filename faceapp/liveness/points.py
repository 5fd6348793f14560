"""Texture points followed from frame to frame: what both passive cues measure motion with.

A point is found where the image has a corner (``goodFeaturesToTrack``), followed to the next
frame by pyramidal Lucas-Kanade, and followed back again: a point that does not come back to
within :data:`FB_ERROR` pixels of where it was is dropped (it slid along an edge, was
covered, or left the picture). Each point keeps its last ``LAG + 1`` positions
(:class:`Tracks`), so a cue can compare where the points are with where they were ``LAG``
frames ago. numpy and OpenCV only.
"""

from __future__ import annotations

import cv2
import numpy as np

LAG = 16  # frames between the two positions a cue compares
FB_ERROR = 0.5  # px: a point whose backward track misses by more is dropped
LK_WINDOW = (13, 13)  # px at the working scale


class Tracks:
    """Points followed from frame to frame, each with its last ``LAG + 1`` positions (x, y
    at the working scale), oldest first. Held as arrays, not a deque per point: a frame's
    bookkeeping is then a few array operations instead of a Python loop over ~140 points."""

    def __init__(self, history: np.ndarray | None = None, length: np.ndarray | None = None):
        """``history``: (n, LAG + 1, 2) positions, the newest last; ``length``: how many of
        each point's are real (a point seeded k frames ago has k + 1)."""
        self.history = np.zeros((0, LAG + 1, 2), np.float32) if history is None else history
        self.length = np.zeros(0, np.int64) if length is None else length

    @classmethod
    def of(cls, paths) -> Tracks:
        """Tracks from each point's positions so far (a list of (x, y), oldest first)."""
        tails = [np.asarray(path, np.float32)[-(LAG + 1) :].reshape(-1, 2) for path in paths]
        history = np.zeros((len(tails), LAG + 1, 2), np.float32)
        for row, tail in zip(history, tails):
            row[LAG + 1 - len(tail) :] = tail
        return cls(history, np.array([len(tail) for tail in tails], np.int64))

    def __len__(self) -> int:
        return len(self.length)

    def __getitem__(self, which) -> Tracks:
        """The tracks picked by a slice, indices or a boolean mask, in their order."""
        return Tracks(self.history[which], self.length[which])

    def __add__(self, other: Tracks) -> Tracks:
        return Tracks(
            np.concatenate([self.history, other.history]),
            np.concatenate([self.length, other.length]),
        )

    @classmethod
    def at(cls, xy: np.ndarray) -> Tracks:
        """New tracks, one per point of ``xy`` (n, 2), seen once."""
        history = np.zeros((len(xy), LAG + 1, 2), np.float32)
        history[:, -1] = xy
        return cls(history, np.ones(len(xy), np.int64))

    @property
    def last(self) -> np.ndarray:
        """Where each point is now: (n, 2) float32."""
        return self.history[:, -1]

    def moved(self, to: np.ndarray, keep: np.ndarray) -> Tracks:
        """The tracks in ``keep``, each with its new position from ``to`` appended."""
        history = np.concatenate([self.history[keep, 1:], to[keep, None]], axis=1)
        return Tracks(history, np.minimum(self.length[keep] + 1, LAG + 1))


def seed(grey: np.ndarray, mask: np.ndarray, tracks: Tracks, most: int, spacing: int) -> Tracks:
    """``tracks`` with new points added inside ``mask`` (up to ``most`` in all), none within
    ``spacing`` pixels of a point already followed."""
    if most - len(tracks) <= 0:
        return tracks
    free = mask.copy()
    for x, y in tracks.last:
        cv2.circle(free, (int(x), int(y)), spacing, 0, -1)
    found = cv2.goodFeaturesToTrack(grey, most - len(tracks), 0.01, spacing, mask=free, blockSize=5)
    if found is None:
        return tracks
    return tracks + Tracks.at(found.reshape(-1, 2))


def follow_groups(previous: np.ndarray, grey: np.ndarray, *groups: Tracks) -> tuple[Tracks, ...]:
    """Each group's tracks that could be followed from ``previous`` to ``grey`` and back,
    each with its new position appended: all groups in one optical-flow call (most of its
    cost is the image pyramids, built once)."""
    ahead, keep = _followed(previous, grey, np.concatenate([g.last for g in groups]))
    out, start = [], 0
    for group in groups:
        end = start + len(group)
        out.append(group.moved(ahead[start:end], keep[start:end]))
        start = end
    return tuple(out)


def _followed(previous: np.ndarray, grey: np.ndarray, xy: np.ndarray):
    """Where the points ``xy`` of ``previous`` are in ``grey``, and whether each could be
    followed there and back."""
    if not len(xy):
        return xy, np.zeros(0, bool)
    points = xy.reshape(-1, 1, 2)
    ahead, ok = _flow(previous, grey, points)
    back, ok_back = _flow(grey, previous, ahead)
    error = np.linalg.norm((back - points).reshape(-1, 2), axis=1)
    keep = (ok.reshape(-1) == 1) & (ok_back.reshape(-1) == 1) & (error < FB_ERROR)
    return ahead.reshape(-1, 2), keep


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


def spans(tracks: Tracks) -> tuple[np.ndarray, np.ndarray]:
    """Where the points followed for ``LAG`` frames were then and are now (two ``(n, 2)``
    float32 arrays)."""
    full = tracks.history[tracks.length == LAG + 1]
    return np.ascontiguousarray(full[:, 0]), np.ascontiguousarray(full[:, -1])
