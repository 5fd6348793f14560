"""The challenge's rules, one by one, on scripted head poses: each frame's pose is given
exactly (the pose reader is replaced), so every boundary — the size of an answer, the time
allowed, the way back, a lost or jumping face — is asserted where it lies. The same check on
real turning faces is in tests/test_challenge.py."""

from __future__ import annotations

import numpy as np
import pytest

from faceapp.liveness import challenge as module
from faceapp.liveness.challenge import (
    ANSWER_SECONDS,
    BACK,
    BASELINE_FRAMES,
    LOST_FRAMES,
    MAX_JUMP,
    MOVES,
    SOONEST,
    TILT,
    TURN,
    ChallengeCheck,
    _jump,
    most_seconds,
)
from faceapp.vision.finder import Face
from faceapp.vision.geometry import Box
from faceapp.vision.pose import Pose

BOX = Box(100, 100, 200, 200)


@pytest.fixture(autouse=True)
def scripted_poses(monkeypatch):
    """A face's "landmarks" here are its pose: the check reads them back as they are."""
    monkeypatch.setattr(module, "head_pose", lambda landmarks: landmarks)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def face(yaw: float = 0.0, pitch: float = 0.0, box: Box = BOX) -> Face:
    return Face(box, 0.9, Pose(yaw, pitch, 0.0))  # type: ignore[arg-type]


READ = 0.5  # a person's time to read a prompt and start moving (more than SOONEST)


def check_asking(moves: list[str]) -> tuple[ChallengeCheck, Clock]:
    """A started check that asks ``moves`` in this order, its baseline taken at (0, 0) and
    its first prompt at time 0; the clock then stands at :data:`READ`."""
    clock = Clock()
    check = ChallengeCheck(len(moves), rng=np.random.default_rng(0), clock=clock)
    check.steps = [module.Step.of(m) for m in moves]
    check.start()
    for _ in range(BASELINE_FRAMES):
        check.add(None, face())
    clock.now = READ
    return check, clock


def answer(move: str, size: float = 1.0) -> Face:
    """A face turned ``size`` times the answer's size the way ``move`` asks."""
    _, axis, sign = MOVES[move]
    amount = sign * size * (TURN if axis == 0 else TILT)
    return face(yaw=amount) if axis == 0 else face(pitch=amount)


# --- the prompts ---------------------------------------------------------------------------


def test_the_movements_are_drawn_without_repeats_and_follow_the_seed():
    for seed in range(20):
        moves = [s.move for s in ChallengeCheck(2, rng=np.random.default_rng(seed)).steps]
        assert len(set(moves)) == 2 and set(moves) <= set(MOVES)
        again = [s.move for s in ChallengeCheck(2, rng=np.random.default_rng(seed)).steps]
        assert again == moves
    every = ChallengeCheck(4, rng=np.random.default_rng(1)).steps
    assert sorted(s.move for s in every) == sorted(MOVES)
    drawn = {tuple(s.move for s in ChallengeCheck(2).steps) for _ in range(40)}
    assert len(drawn) > 3  # unseeded: random


def test_a_turn_needs_the_turn_size_and_a_tilt_the_tilt_size():
    needed = {s.move: s.needed for s in ChallengeCheck(4, rng=np.random.default_rng(0)).steps}
    assert needed == {"left": TURN, "right": TURN, "up": TILT, "down": TILT}


def test_what_the_user_is_told_and_when():
    told: list[str] = []
    clock = Clock()
    check = ChallengeCheck(1, rng=np.random.default_rng(0), clock=clock, on_prompt=told.append)
    move = check.steps[0].move
    check.add(None, face())  # before start: nothing asked, nothing counted
    assert check.prompt == "" and told == [] and check.verdict().live is None
    assert check.why_undecided() == "not live: the challenge did not start (no face matched)"
    check.start()
    assert told == ["hold still, facing the camera"]
    for _ in range(BASELINE_FRAMES):
        check.add(None, face())
    assert told[-1] == MOVES[move][0] and check.prompt == MOVES[move][0]
    check.add(None, face())  # the same prompt is not told twice
    assert told.count(MOVES[move][0]) == 1
    assert check.why_undecided() == "not live: the challenge was not finished (0 of 1)"
    assert check.frames == BASELINE_FRAMES + 2


# --- answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("move", list(MOVES))
def test_an_answer_the_full_size_the_asked_way_counts_and_a_hair_less_does_not(move):
    check, clock = check_asking([move, "left" if move != "left" else "up"])
    check.add(None, answer(move, 0.99))
    assert check.done == 0 and check.failed is None
    clock.now = 1.25
    check.add(None, answer(move, 1.0))  # exactly the size: enough
    assert check.done == 1 and check.answer_seconds == [1.25]
    assert check.prompt == "now face the camera again"


@pytest.mark.parametrize("move", list(MOVES))
def test_the_other_way_fails_at_once(move):
    check, _ = check_asking([move])
    check.add(None, answer(move, -0.99))  # not yet a wrong answer
    assert check.failed is None
    check.add(None, answer(move, -1.0))
    assert check.failed == f"not live: asked to {MOVES[move][0]}, the head moved another way"
    assert check.verdict().live is False and check.final().live is False


def test_a_movement_along_the_other_axis_fails_at_one_and_a_half_of_its_size():
    check, _ = check_asking(["left"])  # a turn asked: a tilt of 1.5 x TILT is another way
    check.add(None, face(pitch=1.49 * TILT))
    assert check.failed is None
    check.add(None, face(pitch=-1.5 * TILT))
    assert check.failed is not None and "moved another way" in check.failed
    check, _ = check_asking(["up"])  # a tilt asked: a turn of 1.5 x TURN is another way
    check.add(None, face(yaw=1.49 * TURN))
    assert check.failed is None
    check.add(None, face(yaw=1.5 * TURN))
    assert check.failed is not None


def test_each_answer_has_its_time_and_not_a_moment_more():
    check, clock = check_asking(["left"])
    clock.now = ANSWER_SECONDS  # exactly the time allowed: still waiting
    check.add(None, face())
    assert check.failed is None
    clock.now = ANSWER_SECONDS + 0.01
    check.add(None, face())
    assert check.failed == f"not live: asked to {MOVES['left'][0]}, no answer in 2 s"


def test_an_answer_sooner_than_a_person_can_react_fails_and_at_the_soonest_counts():
    """A recording already turning as the prompt comes reaches the bar too soon."""
    check, clock = check_asking(["left", "up"])
    clock.now = SOONEST
    check.add(None, answer("left"))  # exactly the soonest: an answer
    assert check.done == 1 and check.failed is None
    check.add(None, face())  # back: "up" asked now, at SOONEST
    clock.now = 2 * SOONEST - 0.01
    check.add(None, answer("up"))  # each prompt's own soonest
    assert check.done == 1
    assert check.failed == (
        "not live: the head moved up within 0.3 s of the prompt, sooner than a person can answer"
    )
    check, clock = check_asking(["left"])
    clock.now = SOONEST - 0.01
    check.add(None, answer("left", 0.99))  # on its way, not there yet: nothing wrong
    assert check.failed is None
    check.add(None, answer("left"))
    assert check.failed is not None and "sooner than a person" in check.failed


def test_an_answer_that_comes_late_answers_nothing():
    """Frames can stall (a slow machine): an answer seen after the time is a refusal."""
    check, clock = check_asking(["left", "up"])
    clock.now = ANSWER_SECONDS + 0.01
    check.add(None, answer("left"))
    assert check.done == 0 and check.failed is not None and "no answer in 2 s" in check.failed
    check, clock = check_asking(["left", "up"])
    check.add(None, answer("left"))
    clock.now = READ + ANSWER_SECONDS + 0.01
    check.add(None, face())  # back, but too late
    assert check.failed == "not live: the head did not come back to face the camera"


def test_between_two_prompts_the_head_comes_back_and_its_own_time_counts():
    check, clock = check_asking(["left", "up"])
    clock.now = 1.0
    check.add(None, answer("left"))
    clock.now = 2.0
    check.add(None, face(yaw=BACK * TURN + 0.01))  # not back yet
    assert check.prompt == "now face the camera again"
    check.add(None, face(yaw=BACK * TURN, pitch=-BACK * TILT))  # back: at the edge counts
    assert check.prompt == MOVES["up"][0]
    clock.now = 2.0 + ANSWER_SECONDS  # the second answer's time runs from its prompt
    check.add(None, answer("up"))
    assert check.done == 2 and check.answer_seconds == [1.0, ANSWER_SECONDS]
    verdict = check.verdict()
    assert verdict.live is True and verdict.reason == "live: followed the challenge (left then up)"
    check.add(None, answer("up", -3))  # after the end, nothing more is judged
    assert check.verdict().live is True and check.frames == BASELINE_FRAMES + 5


def test_one_pose_held_cannot_answer_two_prompts_and_the_way_back_has_a_time_limit():
    check, clock = check_asking(["left", "up"])
    check.add(None, face(yaw=TURN, pitch=TILT))  # answers "left", and would answer "up"
    assert check.done == 1
    check.add(None, face(yaw=TURN, pitch=TILT))
    assert check.done == 1  # not back yet: "up" is not asked
    clock.now = READ + ANSWER_SECONDS
    check.add(None, face(yaw=TURN, pitch=TILT))
    assert check.failed is None
    clock.now = READ + ANSWER_SECONDS + 0.01
    check.add(None, face(yaw=TURN, pitch=TILT))
    assert check.failed == "not live: the head did not come back to face the camera"


def test_the_baseline_is_the_pose_held_when_it_began():
    clock = Clock()
    check = ChallengeCheck(1, rng=np.random.default_rng(0), clock=clock)
    check.steps = check.steps[:0] + [
        module.Step("left", MOVES["left"][0], 0, MOVES["left"][2], TURN)
    ]
    check.start()
    for yaw in (9.0, 10.0, 30.0):  # the median of the first frames: 10 degrees
        check.add(None, face(yaw=yaw))
    clock.now = READ
    check.add(None, face(yaw=10.0 + TURN - 0.5))
    assert check.done == 0
    check.add(None, face(yaw=10.0 + TURN))
    assert check.done == 1


# --- the same face throughout ----------------------------------------------------------------


def test_a_face_lost_for_a_few_frames_is_waited_for_and_longer_fails():
    check, _ = check_asking(["left"])
    for _ in range(LOST_FRAMES):
        check.add(None, None)
    assert check.failed is None
    check.add(None, face())  # found again: the count starts over
    for _ in range(LOST_FRAMES):
        check.add(None, None)
    assert check.failed is None
    check.add(None, None)
    assert check.failed == "not live: the face was lost during the challenge"


def test_a_face_without_landmarks_counts_as_lost():
    check, _ = check_asking(["left"])
    for _ in range(LOST_FRAMES + 1):
        check.add(None, Face(BOX, 0.9, None))
    assert check.failed == "not live: the face was lost during the challenge"


def test_a_jump_of_the_face_fails_and_a_move_within_the_limit_does_not():
    check, _ = check_asking(["left"])
    step = int(MAX_JUMP * BOX.width)
    check.add(None, face(box=Box(BOX.x + step, BOX.y, BOX.width, BOX.height)))  # exactly the limit
    assert check.failed is None
    check.add(None, face(box=Box(BOX.x + 2 * step + 1, BOX.y, BOX.width, BOX.height)))
    assert check.failed == "not live: the face jumped during the challenge"


def test_a_jump_is_measured_between_centres_in_the_larger_side():
    previous = Box(0, 0, 100, 200)
    assert _jump(previous, Box(0, 0, 100, 200)) == 0.0
    assert _jump(previous, Box(0, 0, 300, 200)) == pytest.approx(100 / 200)  # centre x: 50 -> 150
    assert _jump(previous, Box(0, 0, 100, 600)) == pytest.approx(200 / 200)  # centre y: 100 -> 300
    assert _jump(previous, Box(30, 40, 100, 200)) == pytest.approx(50 / 200)
    assert _jump(Box(0, 0, 200, 100), Box(30, 40, 200, 100)) == pytest.approx(50 / 200)
    assert _jump(Box(0, 0, 0, 0), Box(1, 0, 0, 0)) == pytest.approx(1.0)  # no division by 0


def test_the_time_a_challenge_may_take():
    assert most_seconds(2) == 2 * 2 * ANSWER_SECONDS + 1.0
    assert ChallengeCheck(1).extra_seconds == most_seconds(1) == 2 * ANSWER_SECONDS + 1.0
    check, _ = check_asking(["left", "up"])
    assert check.progress == 0.0
    check.add(None, answer("left"))
    assert check.progress == 0.5


def test_when_the_frames_end_an_unfinished_challenge_is_a_refusal_saying_how_far_it_got():
    from faceapp.liveness.passive import Verdict

    check, clock = check_asking(["left", "up"])
    check.add(None, answer("left"))
    assert check.verdict().live is None
    assert check.final() == Verdict(
        False, "not live: the challenge was not finished (1 of 2)", None, 1
    )
    check.add(None, face())
    clock.now += READ
    check.add(None, answer("up"))
    assert check.final() == check.verdict() and check.final().live is True


def test_a_face_not_found_from_the_start_is_waited_for_as_long_as_one_lost_later():
    clock = Clock()
    check = ChallengeCheck(1, rng=np.random.default_rng(0), clock=clock)
    check.start()
    for _ in range(LOST_FRAMES):
        check.add(None, None)
    assert check.failed is None
    check.add(None, None)
    assert check.failed == "not live: the face was lost during the challenge"


def test_the_verdict_counts_the_movements_answered_whatever_the_outcome():
    from faceapp.liveness.passive import Verdict

    check, clock = check_asking(["left", "up"])
    check.add(None, answer("left"))
    check.add(None, face())
    clock.now += READ
    check.add(None, answer("up"))
    assert check.verdict() == Verdict(True, "live: followed the challenge (left then up)", None, 2)
    failing, _ = check_asking(["left", "up"])
    failing.add(None, answer("left"))
    failing.add(None, face())
    failing.add(None, answer("down"))
    assert failing.verdict() == Verdict(False, failing.failed, None, 1)
