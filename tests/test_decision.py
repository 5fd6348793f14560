"""The decision rule, frame quality checks and multi-frame verification (no TensorFlow)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceapp.errors import FaceappError
from faceapp.verification.rule import Decision, Thresholds, decide, verified
from faceapp.verification.timed import TimedVerification
from faceapp.vision.crops import cut_face
from faceapp.vision.imaging import read_image
from faceapp.vision.quality import frame_problem


def test_decide_counts_scores_strictly_above_the_detection_threshold():
    decision = decide(np.array([0.9, 0.5, 0.51, 0.2]), Thresholds(0.5, 0.5))
    assert (decision.matches, decision.total) == (2, 4)
    assert decision.fraction == 0.5
    assert not decision.verified  # 50% is not *above* the verification threshold
    assert decision.score_min == pytest.approx(0.2)
    assert decision.score_max == pytest.approx(0.9)
    assert decision.score_mean == pytest.approx(0.5275)


def test_decide_verifies_when_fraction_is_above_the_verification_threshold():
    decision = decide([0.9, 0.8, 0.1], Thresholds(detection=0.5, verification=0.6))
    assert decision.verified and decision.label == "Verified"
    assert "Verified: 2/3 matches (67%)" in decision.summary()


def test_the_vectorised_rule_decides_each_row_as_decide_does():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, (200, 7))
    for detection, verification in ((0.5, 0.5), (0.3, 0.7), (0.8, 0.1)):
        thresholds = Thresholds(detection, verification)
        expected = [decide(row, thresholds).verified for row in scores]
        np.testing.assert_array_equal(verified(scores, detection, verification), expected)


def test_decide_without_verification_images_is_a_clear_error():
    with pytest.raises(FaceappError, match="no verification images"):
        decide(np.array([]), Thresholds())


def test_decision_round_trips_through_a_dict():
    decision = decide([0.7, 0.2], Thresholds(0.6, 0.3))
    values = decision.to_dict()
    assert values["fraction"] == 0.5
    assert Decision.from_dict(values) == decision


def test_frame_problem_passes_a_real_face_and_names_dark_and_blurred_ones(face_path):
    face = cut_face(read_image(face_path)).image
    assert frame_problem(face) is None
    assert frame_problem((face * 0.1).astype(np.uint8)) == "too dark"
    assert frame_problem(cv2.GaussianBlur(face, (0, 0), 8)) == "too blurred"
    assert frame_problem(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)) is None


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _decision(verified: bool, fraction: float = 0.0) -> Decision:
    matches = int(round(fraction * 10))
    return Decision(verified, matches, 10, 0.5, 0.5, 0.1, 0.5, 0.9)


def test_timed_verification_stops_at_the_first_verified_frame():
    clock = FakeClock()
    timed = TimedVerification(5.0, clock=clock)
    timed.skip("no face")
    timed.add(_decision(False, 0.3))
    assert not timed.done
    winner = _decision(True, 0.8)
    timed.add(winner)
    assert timed.done and timed.outcome() is winner
    assert "2 frame(s) judged" in timed.explain() and "1 no face" in timed.explain()


def test_timed_verification_rejects_after_enough_unverified_frames():
    timed = TimedVerification(5.0, reject_after=3, clock=FakeClock())
    for fraction in (0.1, 0.4, 0.2):
        timed.add(_decision(False, fraction))
    assert timed.done and not timed.outcome().verified


def test_timed_verification_times_out_with_the_best_frame_or_nothing():
    clock = FakeClock()
    timed = TimedVerification(2.0, clock=clock)
    timed.add(_decision(False, 0.1))
    timed.add(_decision(False, 0.4))
    clock.now += 1.9
    assert not timed.done
    clock.now += 0.2
    assert timed.done and timed.outcome().fraction == pytest.approx(0.4)

    empty = TimedVerification(1.0, clock=clock)
    empty.skip("too dark")
    clock.now += 1.0
    assert empty.done and empty.outcome() is None
    assert "skipped: 1 too dark" in empty.explain()


@pytest.mark.parametrize("timeout", [0, -1])
def test_timed_verification_needs_a_positive_timeout(timeout):
    with pytest.raises(FaceappError, match="--timeout"):
        TimedVerification(timeout)
