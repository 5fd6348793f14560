"""The second passive cue: a face whose surroundings move with it is in a picture held up.

A video of a head on a phone moves in three dimensions (the parallax cue says live), but the
hand carries the whole screen: nothing around the face stays put, as a room behind a live
face does. The material is made here (tests/liveness_material.py: a real photo's face turned
by its own mesh, in front of the photo's still background), except where a test needs the
shared clips.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import face_photos
from liveness_material import TurningHead, rendered, swaying

from faceapp.liveness.passive import CARRIED, MotionCheck
from faceapp.liveness.points import LAG, Tracks
from faceapp.liveness.surroundings import (
    MARGIN,
    MIN_POINTS,
    MOST_POINTS,
    SPACING,
    STILL,
    STILL_SHARE,
    Surroundings,
)
from faceapp.vision.finder import FaceFinder


def watch(frames) -> MotionCheck:
    finder, check = FaceFinder(track=True), MotionCheck()
    for frame in frames:
        check.add(frame, finder.find(frame))
        if check.verdict().live is not None:
            break
    return check


@pytest.fixture(scope="module")
def head() -> TurningHead:
    return TurningHead(face_photos("Jennifer_Capriati")[4])


def test_a_turning_head_on_a_hand_held_phone_moves_in_3d_but_its_surroundings_give_it_away(
    head,
):
    live = swaying(head, 64)  # the verdict comes at frame 36
    in_person = watch(live)
    assert in_person.verdict().live is True, in_person.verdict()
    assert np.median(in_person.surroundings.shares) >= 0.5  # the room behind stays put

    replay = watch(rendered(live, "phone", 2.56, seed=11))
    verdict = replay.final()
    assert verdict.live is False and verdict.reason == CARRIED, verdict
    assert verdict.parallax > replay.threshold  # the 3-D cue alone would have said live
    assert np.median(replay.surroundings.shares) < STILL_SHARE


def test_a_phone_replay_of_a_real_clip_is_refused_by_its_surroundings(videos):
    from training.attacks import clip_frames

    clip = clip_frames(videos / "WDA_KatieHill_000.mp4", 40, 64)
    verdict = watch(rendered(clip, "phone", 2.56, seed=9)).final()
    assert verdict.live is False and verdict.reason == CARRIED, verdict


def test_points_around_the_face_keep_clear_of_it():
    """Seeded outside the face's hull by the margin (an erosion of 2 x MARGIN eye distances
    across), on the texture of the room."""
    grey = cv2.GaussianBlur(
        np.random.default_rng(0).integers(0, 255, (200, 200), np.uint8), (0, 0), 1.5
    )
    hull = np.array([[70, 60], [130, 60], [130, 150], [70, 150]], float)
    eyes = 40.0
    around = Surroundings()
    around.add(grey, hull, eyes)
    assert len(around.tracks) == 60  # MOST_POINTS: a textured room has corners everywhere
    gaps = []
    for x, y in around.tracks.last:
        inside = cv2.pointPolygonTest(hull.astype(np.float32), (float(x), float(y)), True)
        assert inside <= -(MARGIN * eyes - 1.5), (x, y, inside)
        gaps.append(-inside)
    assert min(gaps) <= MARGIN * eyes + 2  # the band right outside the margin is used too
    xy = around.tracks.last
    apart = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(len(xy)) * 1e9
    assert apart.min() >= SPACING - 0.5  # no two points on top of each other


def test_points_around_the_face_are_topped_up_below_half_and_not_at_half():
    grey = cv2.GaussianBlur(
        np.random.default_rng(1).integers(0, 255, (200, 200), np.uint8), (0, 0), 1.5
    )
    hull = np.array([[70, 60], [130, 60], [130, 150], [70, 150]], float)
    around = Surroundings()
    around.add(grey, hull, 40.0)
    full = around.tracks
    around.tracks = full[: MOST_POINTS // 2]  # half left: enough
    around.add(grey, hull, 40.0)
    assert len(around.tracks) == MOST_POINTS // 2
    around.tracks = full[: MOST_POINTS // 2 - 1]  # one fewer: topped up to MOST_POINTS
    around.add(grey, hull, 40.0)
    assert len(around.tracks) == MOST_POINTS


def tracks(moves: list[float]) -> Tracks:
    """Tracks followed for LAG frames, each moved by one of ``moves`` (px) along x."""
    return Tracks.of(
        [(10.0 + 5 * k + move * step / LAG, 20.0) for step in range(LAG + 1)]
        for k, move in enumerate(moves)
    )


def test_the_share_that_stayed_put_is_measured_only_with_enough_points():
    eyes = 50.0
    still, moved = 0.9 * STILL * eyes, 1.0 * STILL * eyes  # just under, and on, the bar
    around = Surroundings()
    around.tracks = tracks([still] * 3 + [moved] * (MIN_POINTS - 4))  # one short
    around.measure(eyes)
    assert around.shares == []
    around.tracks = tracks([still] * 3 + [moved] * (MIN_POINTS - 3))
    around.tracks = around.tracks + Tracks.of([[(1.0, 1.0)]])  # too new to count
    around.measure(eyes)
    assert around.shares == [pytest.approx(3 / MIN_POINTS)]
    around.measure(0.0)  # no face size, no measure
    assert len(around.shares) == 1
    around.tracks = tracks([0.005] * 4 + [0.02] * (MIN_POINTS - 4))  # a face 1 px across
    around.measure(1.0)
    assert around.shares == [pytest.approx(3 / MIN_POINTS), pytest.approx(4 / MIN_POINTS)]


def test_the_surroundings_verdict_needs_half_the_moving_frames_and_is_strictly_below_the_bar():
    around = Surroundings()
    assert around.carried(needed=4) is None
    around.shares = [0.0]
    assert around.carried(needed=4) is None  # one frame of four: too few to say
    around.shares = [0.0, 0.0]
    assert around.carried(needed=4) is True
    around.shares = [STILL_SHARE, STILL_SHARE]
    assert around.carried(needed=4) is False  # on the bar: some of the room stayed put
    around.shares = [0.0, STILL_SHARE * 0.99, 0.9]
    assert around.carried(needed=4) is True  # the median decides
    around.shares = [0.0] * 2
    assert around.carried(needed=6) is None  # a third of the frames: still too few
    around.shares = [0.0] * 3
    assert around.carried(needed=6) is True  # half


def test_the_surroundings_speak_only_after_the_parallax_says_3d():
    """A flat picture keeps its own reason; a 3-D face whose surroundings moved with it is
    refused with theirs; without enough points around the face, the parallax decides."""
    check = MotionCheck(threshold=0.05, needed=4)
    check.faces = check.frames = 30
    check.parallax = [0.04] * 4
    check.surroundings.shares = [0.0] * 4
    assert check.verdict().reason == "not live: the face moved like a flat picture"
    check.parallax = [0.09] * 4
    assert check.verdict().reason == CARRIED and check.verdict().live is False
    check.surroundings.shares = [0.5] * 4
    assert check.verdict().live is True
    check.surroundings.shares = [0.0]  # too few frames had points around the face
    assert check.verdict().live is True
