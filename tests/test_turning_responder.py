"""The smooth scripted responder: a real face's whole head turned as a person turns it
(training/turning.py, training/evaluation/turning_responder.py). It times the challenge from
the prompt to "live", so its movement must be the one it claims: a reaction, then a smooth
turn of the drawn size, out and back, and no jumps."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import face_photos
from liveness_material import turning_frame

from faceapp.liveness.challenge import MOVES
from faceapp.paths import DataRoot
from faceapp.verification.enrolment import enrol
from faceapp.verification.verifier import Verifier
from training.evaluation.challenge import summary, trial
from training.evaluation.turning_responder import (
    Person,
    Stretch,
    TurningResponder,
    minimum_jerk,
    pose_in,
)

PERSON = "Jennifer_Capriati"
LEFT = "turn your head to your left"
UP = "look up"


@pytest.fixture(scope="module")
def stretch() -> Stretch:
    """Two frames of one real photo (the responder plays its stretch forwards and back),
    calibrated."""
    frame = turning_frame(face_photos(PERSON)[5])
    return Stretch.of([frame, frame])


def test_a_minimum_jerk_movement_ends_at_its_size_smoothly_fastest_in_the_middle():
    path = minimum_jerk(30.0, 12)
    assert path[-1] == pytest.approx(30.0) and 0 < path[0] < 1.0
    speed = np.diff(np.concatenate([[0.0], path]))
    assert np.all(speed > 0)
    assert 4 <= int(np.argmax(speed)) <= 7  # the bell-shaped speed of a voluntary movement


def test_the_whole_head_turns_the_asked_way_and_the_room_stays(stretch):
    frame = stretch.frames[0]
    assert frame.frame(0.0, 0.0) is frame.image  # as filmed
    still = pose_in(frame.image)
    for yaw, pitch, axis, sign in ((35, 0, "yaw", 1), (-35, 0, "yaw", -1), (0, 20, "pitch", 1)):
        turned = frame.frame(float(yaw), float(pitch))
        pose = pose_in(turned)
        moved = getattr(pose, axis) - getattr(still, axis)
        assert moved * sign > 12, (yaw, pitch, moved)  # the pose reader sees the turn
        corner = (slice(0, 20), slice(0, 20))
        assert np.array_equal(turned[corner], frame.image[corner])  # the room does not move


@pytest.mark.parametrize("move, size", [("left", 20.0), ("right", 20.0), ("up", 15.0)])
def test_a_movement_is_rendered_so_that_the_app_reads_the_size_drawn(stretch, move, size):
    """The pose reader reads a rendered turn as part of itself: the calibration renders the
    size it reads back as the size a person would turn."""
    frame = stretch.frames[0]
    _, axis, sign = MOVES[move]
    angle = sign * stretch.rendered(move, size)
    before = pose_in(frame.image)
    after = pose_in(frame.frame(*((angle, 0.0) if axis == 0 else (0.0, angle))))
    read = (after.yaw - before.yaw) if axis == 0 else (after.pitch - before.pitch)
    assert read * sign == pytest.approx(size, abs=3.0)


def test_the_responder_reacts_then_turns_out_and_back_without_jumps(stretch):
    rng = np.random.default_rng(5)
    responder = TurningResponder(stretch, rng)
    responder.read()
    responder.hear("hold still, facing the camera")  # not a movement: nothing planned
    assert responder.plan == [] and responder.prompted_at == []
    responder.hear(LEFT)
    yaw = np.array([y for y, _ in responder.plan])
    assert all(p == 0.0 for _, p in responder.plan)  # a turn moves the yaw only
    waited = int(np.argmax(yaw > 0))
    person = Person()
    assert person.reaction[0] * 25 - 1 <= waited <= person.reaction[1] * 25 + 1
    low, high = (stretch.rendered("left", size) for size in person.turn)
    assert low <= yaw.max() <= high
    assert yaw[-1] == pytest.approx(0.0, abs=1e-9)  # back where it started
    assert np.abs(np.diff(yaw)).max() < yaw.max() / 4  # no jump: smooth over many frames
    assert responder.prompted_at == [pytest.approx(1 / 25)]


def test_a_new_prompt_heard_on_the_way_back_finishes_the_way_back_first(stretch):
    responder = TurningResponder(stretch, np.random.default_rng(6))
    responder.hear(LEFT)
    for _ in range(len(responder.plan) - 3):  # three frames of the way back left
        responder.read()
    left_over = list(responder.plan)
    responder.hear(UP)
    assert responder.plan[:3] == left_over
    pitch = np.array([p for _, p in responder.plan])
    assert np.abs(np.diff(pitch)).max() < pitch.max() / 4
    assert pitch.max() >= stretch.rendered("up", Person().tilt[0])


def test_the_smooth_responder_passes_the_challenge_and_is_timed_from_its_prompt(stretch):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        root = DataRoot(Path(folder)).ensure()
        enrol(*face_photos(PERSON)[:4], data_root=root)
        verifier = Verifier.open(root)
        source = TurningResponder(stretch, np.random.default_rng(7))
        row = trial(verifier, source, "challenge", seed=1, steps=2)
    assert row["accepted"], row["reason"]
    assert "followed the challenge" in row["reason"]
    # the verdict comes after the last answer, and both after the person's two reactions
    assert 2 * Person().reaction[0] < row["prompt_to_last_answer"] < row["prompt_to_verdict"]
    rows = [{"material": "live-turning", "mode": "challenge", "steps": 2, **row}]
    cell = summary(rows)["live-turning / challenge 2"]
    assert cell["errors"] == 0 and cell["median_prompt_to_live"] == row["prompt_to_verdict"]
