"""The decision rule, frame quality checks and multi-frame verification (no TensorFlow)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from faceapp.errors import FaceappError
from faceapp.models.head import Head
from faceapp.verification.rule import (
    Decision,
    Thresholds,
    centroid,
    decide,
    face_scores,
    verified,
)
from faceapp.verification.timed import TimedVerification
from faceapp.vision.crops import cut_face
from faceapp.vision.imaging import read_image
from faceapp.vision.quality import frame_problem


def test_decide_counts_scores_strictly_above_the_detection_threshold():
    decision = decide(np.array([0.9, 0.5, 0.51, 0.2]), Thresholds(0.5, 0.5))
    assert (decision.matches, decision.total) == (2, 4)
    assert decision.fraction == decision.score == 0.5  # 0.5 itself is not above 0.5
    assert not decision.verified  # 50% is not *above* the verification threshold
    assert decision.score_min == pytest.approx(0.2)
    assert decision.score_max == pytest.approx(0.9)
    assert decision.score_mean == pytest.approx(0.5275)


def test_decide_verifies_when_fraction_is_above_the_verification_threshold():
    decision = decide([0.9, 0.8, 0.1], Thresholds(detection=0.5, verification=0.6))
    assert decision.verified and decision.label == "Verified"
    assert "Verified: 2/3 matches (67%)" in decision.summary()


def oracle_vote(scores: list[float], detection: float, verification: float) -> bool:
    """The tutorial's rule in plain Python, written apart from the code under test."""
    matches = 0
    for score in scores:
        if score > detection:
            matches += 1
    return matches / len(scores) > verification


@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=12),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_decide_and_the_vectorised_vote_agree_with_a_plain_python_oracle(
    scores, detection, verification
):
    thresholds = Thresholds(detection, verification)
    expected = oracle_vote(scores, detection, verification)
    assert decide(scores, thresholds).verified is expected
    assert bool(verified(np.array([scores]), detection, verification)[0]) is expected


CALIBRATED = {
    "rule": {
        "kind": "centroid",
        "levels": {
            "standard": {"thresholds": {"1": 0.90, "5": 0.80, "20": 0.70}},
            "high": {"thresholds": {"1": 0.97, "5": 0.93, "20": 0.90}},
        },
    },
    "detection_threshold": 0.8,
}


def test_a_level_gives_the_threshold_for_the_number_of_faces_enrolled():
    standard = Thresholds.resolve(metadata=CALIBRATED)
    assert (standard.rule, standard.level, standard.named) == (
        "centroid",
        "standard",
        "security standard",
    )
    assert standard.threshold_for(1) == pytest.approx(0.90)
    assert standard.threshold_for(5) == pytest.approx(0.80)
    assert standard.threshold_for(50) == pytest.approx(0.70)  # beyond the table: its end
    between = standard.threshold_for(10)  # log-interpolated between 5 and 20
    assert between == pytest.approx(0.80 - 0.10 * np.log(2) / np.log(4))
    high = Thresholds.resolve(metadata=CALIBRATED, level="high")
    assert high.threshold_for(5) == pytest.approx(0.93)
    custom = Thresholds.resolve(detection="0.6", metadata=CALIBRATED, level="high")
    assert (custom.level, custom.threshold_for(5)) == ("custom", 0.6)


def test_bad_levels_and_levels_for_an_uncalibrated_model_are_one_line_errors():
    with pytest.raises(FaceappError, match="--security must be one of high, standard"):
        Thresholds.resolve(metadata=CALIBRATED, level="paranoid")
    with pytest.raises(FaceappError, match="--security needs a model calibrated"):
        Thresholds.resolve(metadata={"detection_threshold": 0.5}, level="high")
    with pytest.raises(FaceappError, match="no thresholds by size"):
        Thresholds.resolve(metadata={"rule": {"kind": "centroid", "levels": {"x": {}}}})


RULE = "the rule in the model metadata"
BY_SIZE = "has no thresholds by size"


@pytest.mark.parametrize(
    "given, message",
    [
        (
            {"verification": 1.0},
            "--verification-threshold must be below 1 (nothing is above 1), got 1",
        ),
        ({"detection": "1"}, "--detection-threshold must be below 1 (nothing is above 1), got 1"),
        (
            {"detection": "high"},
            "--detection-threshold must be a number between 0 and 1, got 'high'",
        ),
        ({"verification": 2}, "--verification-threshold must be between 0 and 1, got 2"),
        (
            {"metadata": {"verification_threshold": "x"}},
            "verification_threshold in model metadata must be a number between 0 and 1, got 'x'",
        ),
        (
            {"metadata": {"detection_threshold": 0.5}, "level": "high"},
            "--security needs a model calibrated with security levels; this model has none "
            "(use --detection-threshold)",
        ),
        (
            {"metadata": {"rule": {"kind": "vote"}}, "level": "high"},
            "--security needs a model calibrated with security levels",
        ),
        ({"metadata": {"rule": "centroid"}}, RULE + ' must be {"kind": "centroid" or "vote", ...}'),
        (
            {"metadata": {"rule": {"kind": "mean"}}},
            RULE + ' must be {"kind": "centroid" or "vote", ...}',
        ),
        (
            {"metadata": {"rule": {"kind": "centroid", "levels": {"x": {"thresholds": {}}}}}},
            f"{RULE}: level 'x' {BY_SIZE}",
        ),
        (
            {
                "metadata": {
                    "rule": {"kind": "centroid", "levels": {"x": {"thresholds": {"0": 0.9}}}}
                }
            },
            f"{RULE}: level 'x' {BY_SIZE}",
        ),
        (
            {"metadata": {"rule": {"kind": "centroid", "levels": {"x": {"thresholds": {"1": 7}}}}}},
            f"{RULE}: level x must be between 0 and 1, got 7",
        ),
        (
            {"metadata": {"rule": {"kind": "centroid", "levels": {"x": None}}}},
            f"{RULE}: level 'x' {BY_SIZE}",
        ),
    ],
)
def test_each_bad_threshold_or_rule_is_one_line_that_names_it(given, message):
    with pytest.raises(FaceappError) as raised:
        Thresholds.resolve(**given)
    assert str(raised.value) == message


def test_thresholds_just_below_1_and_a_rule_without_levels_are_taken_as_given():
    chosen = Thresholds.resolve(detection="0.999", verification=0.99)
    assert (chosen.detection, chosen.verification) == (0.999, 0.99)
    vote = Thresholds.resolve(metadata={"rule": {"kind": "vote"}, "detection_threshold": 0.7})
    assert (vote.rule, vote.detection) == ("vote", 0.7)
    # a table whose sizes start at 1, read in order of size whatever order it was written in
    levels = {"standard": {"thresholds": {"5": 0.8, "1": 0.9}}}
    ordered = Thresholds.resolve(metadata={"rule": {"kind": "centroid", "levels": levels}})
    assert ordered.threshold_for(1) == pytest.approx(0.9)


def test_the_centroid_rule_compares_the_face_with_the_enrolled_faces_mean_direction():
    head = Head.dlib_distance(dimensions=3)
    gallery = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # lengths do not matter
    mean = centroid(gallery)
    np.testing.assert_allclose(mean, [2**-0.5, 2**-0.5, 0.0], atol=1e-6)
    scores, centred = face_scores(head, np.array([1.0, 1.0, 0.0]), gallery, "centroid")
    assert centred == pytest.approx(head.scores(mean, mean[None])[0], abs=1e-6)
    assert centred > scores.max()  # between two faces, nearer their mean than either
    thresholds = Thresholds.resolve(metadata=CALIBRATED)
    decision = decide(scores, thresholds, centred)
    assert decision.rule == "centroid" and decision.total == 2
    assert decision.verified == bool(centred > 0.9 + (0.8 - 0.9) * np.log(2) / np.log(5))
    assert "against 2 enrolled face(s)" in decision.summary()
    with pytest.raises(FaceappError) as raised:
        decide(scores, thresholds)
    assert str(raised.value) == "the centroid rule needs the score against the enrolled faces' mean"


def test_the_vote_scores_the_embeddings_as_they_are_not_at_unit_length():
    head = Head.dlib_distance(dimensions=3)
    gallery = np.array([[2.0, 0.0, 0.0], [0.0, 0.5, 0.0]])
    probe = np.array([1.0, 0.0, 0.0])
    scores, centred = face_scores(head, probe, gallery, "vote")
    assert centred is None
    np.testing.assert_allclose(scores, head.scores(probe, gallery))
    assert scores[0] < face_scores(head, probe, gallery, "centroid")[0][0]  # 1 apart, not 0


def test_decide_without_verification_images_is_a_clear_error():
    with pytest.raises(FaceappError) as raised:
        decide(np.array([]), Thresholds())
    assert str(raised.value) == "no verification images to compare with (press 'e' to enrol)"


def test_thresholds_of_exactly_0_and_a_level_table_start_are_kept():
    from faceapp.verification.rule import parse_threshold

    assert (parse_threshold("0", "x"), parse_threshold(1, "x")) == (0.0, 1.0)
    standard = Thresholds.resolve(metadata=CALIBRATED)
    assert standard.detection == pytest.approx(0.90)  # the bar for one face: the table's start
    centroid_only = Thresholds.resolve(metadata={"rule": {"kind": "centroid"}})
    assert (centroid_only.rule, centroid_only.level) == ("centroid", "")
    custom = Thresholds.resolve(detection=0.6, metadata=CALIBRATED, level="high")
    assert (custom.rule, custom.level) == ("centroid", "custom")


def test_fused_frames_must_score_above_the_bar_not_on_it():
    on_the_bar = [decide([0.9, 0.1], Thresholds(0.5, 0.5)) for _ in range(3)]  # half matched
    assert not on_the_bar[0].verified
    fused = on_the_bar[-1].fused([d.score for d in on_the_bar])
    assert fused.score == pytest.approx(0.5) and not fused.verified and fused.frames == 3


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


def _frame(score: float, bar: float = 0.5) -> Decision:
    """One judged frame under the centroid rule: its score and the bar it must clear."""
    return Decision(score > bar, 0, 5, bar, 0.5, 0.0, 0.0, 1.0, rule="centroid", score=score)


def test_timed_verification_verifies_on_three_fused_frames():
    timed = TimedVerification(5.0, clock=FakeClock())
    timed.skip("no face")
    timed.add(_frame(0.9))
    timed.add(_frame(0.8))
    assert not timed.done  # two frames: not yet
    timed.add(_frame(0.7))
    outcome = timed.outcome()
    assert timed.done and outcome.verified
    assert outcome.frames == 3 and outcome.score == pytest.approx(0.8)
    assert "score 0.80 over 3 frames" in outcome.summary()
    assert "3 frame(s) judged" in timed.explain() and "1 no face" in timed.explain()


def test_one_lucky_frame_does_not_let_a_stranger_in_nor_one_poor_frame_keep_the_owner_out():
    stranger = TimedVerification(5.0, reject_after=5, clock=FakeClock())
    for score in (0.2, 0.95, 0.1, 0.3, 0.2):  # one frame above the bar
        stranger.add(_frame(score))
    assert stranger.done and not stranger.outcome().verified
    assert stranger.outcome().score == pytest.approx(0.2)  # the latest three
    owner = TimedVerification(5.0, clock=FakeClock())
    for score in (0.9, 0.4, 0.9):  # one frame below the bar
        owner.add(_frame(score))
    assert owner.done and owner.outcome().verified


def test_timed_verification_times_out_on_the_frames_it_judged_or_nothing():
    clock = FakeClock()
    timed = TimedVerification(2.0, clock=clock)
    timed.add(_frame(0.1))
    timed.add(_frame(0.4))
    clock.now += 1.9
    assert not timed.done
    clock.now += 0.2
    outcome = timed.outcome()
    assert timed.done and not outcome.verified
    assert (outcome.frames, outcome.score) == (2, pytest.approx(0.25))

    empty = TimedVerification(1.0, clock=clock)
    empty.skip("too dark")
    clock.now += 1.0
    assert empty.done and empty.outcome() is None
    assert "skipped: 1 too dark" in empty.explain()


def test_the_vote_fuses_its_fractions_the_same_way():
    frames = [decide(s, Thresholds(0.5, 0.5)) for s in ([0.9, 0.9], [0.9, 0.1], [0.9, 0.9])]
    timed = TimedVerification(5.0, clock=FakeClock())
    for frame in frames:
        timed.add(frame)
    outcome = timed.outcome()
    assert outcome.verified and outcome.score == pytest.approx((1 + 0.5 + 1) / 3)


class AskingCheck:
    """A challenge stand-in: it starts when told, then says what the test sets."""

    extra_seconds = 10.0

    def __init__(self):
        self.started, self.live = False, None

    def start(self):
        self.started = True

    def verdict(self):
        from faceapp.liveness.passive import Verdict

        return Verdict(self.live, "live: followed" if self.live else "asking", None, 0)

    def final(self):
        from faceapp.liveness.passive import Verdict

        return Verdict(bool(self.live), "live: followed" if self.live else "not finished", None, 0)


SWAPPED = "not live: the face that answered the challenge is not the one that matched"


@pytest.mark.parametrize(
    "during, after, verified, why",
    [
        ([0.9] * 6, [0.8] * 3, True, "live: followed"),
        ([], [0.8] * 3, True, "live: followed"),  # live at once: the first three frames after
        ([0.1] * 6, [0.9] * 3, False, SWAPPED),
        ([0.9] * 6, [0.2] * 3, False, SWAPPED),
        ([0.9] * 6, [0.9] * 2, False, "not live: the face was not seen again after the challenge"),
    ],
)
def test_under_a_challenge_the_face_must_stay_the_one_that_matched(during, after, verified, why):
    """A face matches, the challenge asks; every frame is still judged, and the face must
    match over the frames judged while it asked and again over three frames after it."""
    clock = FakeClock()
    check = AskingCheck()
    timed = TimedVerification(5.0, clock=clock, liveness=check)
    for _ in range(3):
        timed.add(_frame(0.9))
    assert check.started and not timed.identity_decided and not timed.done
    for score in during:
        timed.add(_frame(score))
        assert not timed.done
    check.live = True
    for score in after:
        assert not timed.done  # live, but the face has not matched again yet
        timed.add(_frame(score))
    assert timed.done == (len(after) >= 3)
    clock.now += 100  # time runs out for the short case
    outcome = timed.outcome()
    assert timed.done and outcome.verified is verified and outcome.liveness == why
    assert outcome.live is verified


def test_without_an_asking_check_identity_is_decided_once():
    timed = TimedVerification(5.0, clock=FakeClock(), liveness=None)
    for _ in range(3):
        timed.add(_frame(0.9))
    assert timed.identity_decided and not timed.asking


@pytest.mark.parametrize("timeout", [0, -1])
def test_timed_verification_needs_a_positive_timeout(timeout):
    with pytest.raises(FaceappError, match="--timeout"):
        TimedVerification(timeout)


def decision(**changes) -> Decision:
    values = dict(
        verified=True,
        matches=4,
        total=5,
        detection_threshold=0.8123,
        verification_threshold=0.5,
        score_min=0.123,
        score_mean=0.6789,
        score_max=0.987,
    )
    return Decision(**{**values, **changes})


def test_the_summary_says_what_decided_in_each_rule():
    """The exact words a user reads, for the vote (one frame, many frames) and the
    centroid rule (a level, a custom bar, many frames), with and without a liveness reason."""
    assert decision().summary() == ("Verified: 4/5 matches (80%), scores 0.12-0.99 (mean 0.68)")
    assert decision(verified=False, frames=3, score=0.4).summary() == (
        "Unverified: 40% of enrolled faces matched over 3 frames (needs more than 50%)"
    )
    centroid_rule = dict(rule="centroid", score=0.9456, level="high")
    assert decision(**centroid_rule).summary() == (
        "Verified: score 0.95 against 5 enrolled face(s) (needs 0.81, security high)"
    )
    assert decision(**{**centroid_rule, "level": "", "frames": 2}).summary() == (
        "Verified: score 0.95 over 2 frames against 5 enrolled face(s) (needs 0.81, custom)"
    )
    assert (
        decision(verified=False, frames=2, score=0.4)
        .summary()
        .endswith("over 2 frames (needs more than 50%)")
    )
    assert decision(verified=False, liveness="not live: no motion seen").summary() == (
        "Unverified: 4/5 matches (80%), scores 0.12-0.99 (mean 0.68); not live: no motion seen"
    )


def test_scores_are_compared_with_the_bar_at_full_precision():
    """A float32 score is widened, not the bar narrowed: 0.1 in float32 is a hair above 0.1."""
    scores = np.array([0.1], dtype=np.float32)
    assert verified(scores, 0.1, 0.0).all()
    assert decide(scores, Thresholds(0.1, 0.0)).matches == 1


def test_each_skipped_frame_is_counted_under_its_reason():
    timed = TimedVerification(5.0, clock=lambda: 0.0)
    for reason in ("too dark", "no face", "too dark"):
        timed.skip(reason)
    assert timed.skipped == {"too dark": 2, "no face": 1}
    assert timed.explain() == "0 frame(s) judged in 0.0 s; skipped: 1 no face, 2 too dark"


def test_a_frame_judged_without_a_decision_is_counted_under_its_problem_or_not_judged():
    timed = TimedVerification(5.0, clock=lambda: 0.0)
    timed.record(None, "no face")
    timed.record(None)
    timed.record(_frame(0.9))
    assert timed.skipped == {"no face": 1, "not judged": 1} and len(timed.judged) == 1


def test_a_stranger_is_refused_at_the_fifth_frame_not_before():
    timed = TimedVerification(5.0, clock=FakeClock())
    for _ in range(4):
        timed.add(_frame(0.1))
        assert not timed.done
    timed.add(_frame(0.1))
    assert timed.done and not timed.outcome().verified


def test_the_story_names_skipped_frames_and_the_liveness_reason_only_when_they_matter():
    clock = FakeClock()
    timed = TimedVerification(5.0, clock=clock)
    timed.add(_frame(0.9))
    clock.now += 1.25
    assert timed.explain() == "1 frame(s) judged in 1.2 s"
    watched = TimedVerification(5.0, clock=clock, liveness=AskingCheck())
    assert watched.explain() == "0 frame(s) judged in 0.0 s; not finished"
    watched.add(_frame(0.9))
    assert watched.explain() == "1 frame(s) judged in 0.0 s"


def test_decide_takes_the_scores_in_any_shape_as_one_row_of_faces():
    """A row or column cut from a matrix of scores counts its faces, not its rows."""
    flat = decide([0.9, 0.1, 0.9], Thresholds(0.5, 0.5))
    for shaped in (np.array([[0.9, 0.1, 0.9]]), np.array([[0.9], [0.1], [0.9]])):
        decision = decide(shaped, Thresholds(0.5, 0.5))
        assert (decision.matches, decision.total) == (flat.matches, flat.total) == (2, 3)


def test_the_centroid_rule_verifies_above_its_bar_not_on_it_and_names_its_level():
    thresholds = Thresholds.resolve(metadata=CALIBRATED, level="high")
    bar = thresholds.threshold_for(2)
    on_the_bar = decide([0.5, 0.6], thresholds, bar)
    assert (on_the_bar.verified, on_the_bar.score, on_the_bar.level) == (False, bar, "high")
    assert decide([0.5, 0.6], thresholds, bar + 1e-9).verified
