"""The liveness check: real talking heads are live; a photo held up to the camera, a frozen
camera, no face or too few frames are not — and each says why."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import face_photos
from liveness_material import rendered

from faceapp.liveness.passive import MotionCheck, _inside
from faceapp.liveness.points import LAG
from faceapp.verification.rule import Thresholds, decide
from faceapp.verification.timed import TimedVerification
from faceapp.vision.finder import FaceFinder
from training.attacks import render


def watch(frames, seconds: float | None = None, fps: float = 25.0) -> MotionCheck:
    """Feed frames (tracking the face, as the app does) until a verdict or the end."""
    finder, check = FaceFinder(track=True), MotionCheck()
    limit = None if seconds is None else int(seconds * fps)
    for count, frame in enumerate(frames, start=1):
        check.add(frame, finder.find(frame))
        if check.verdict().live is not None or (limit and count >= limit):
            break
    return check


def clip_frames(path, start: int = 0):
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    while True:
        ok, frame = capture.read()
        if not ok:
            return
        yield frame


@pytest.mark.parametrize("clip", ["WDA_AlexandriaOcasioCortez_000", "WDA_KatieHill_000"])
def test_a_real_talking_head_is_live_within_five_seconds(videos, clip):
    check = watch(clip_frames(videos / f"{clip}.mp4"), seconds=5)
    verdict = check.verdict()
    assert verdict.live is True, verdict
    assert verdict.reason == "live: the face moved in three dimensions"


@pytest.mark.parametrize(
    "person, kind, seed",
    [("Colin_Powell", "print", 1), ("Nicole_Kidman", "screen", 2), ("Tiger_Woods", "print", 3)],
)
def test_a_photo_held_up_to_the_camera_is_not_live(person, kind, seed):
    still = cv2.imread(str(face_photos(person)[0]))
    check = watch(rendered(still, kind, seconds=3.0, seed=seed))
    verdict = check.final()
    assert verdict.live is False, verdict
    assert verdict.reason == "not live: the face moved like a flat picture"
    assert verdict.parallax < check.threshold


def test_a_frozen_camera_is_not_live_and_says_no_motion():
    frame = render(cv2.imread(str(face_photos("Tom_Daschle")[0])), "print", 0.04, 5)[0]
    check = watch([frame] * 125)
    verdict = check.final()
    assert check.faces == 125 and verdict.live is False
    assert verdict.reason.startswith("not live: no motion seen")
    # every frame counted; each one from the LAG-th on compared with LAG frames before: still
    assert (check.frames, check.still_frames, check.parallax) == (125, 125 - LAG, [])


def test_no_face_and_no_frames_are_not_live():
    blank = np.full((480, 640, 3), 100, np.uint8)
    assert watch([blank] * 30).final().reason == "not live: no face seen"
    assert MotionCheck().final().reason == "not live: no frames"


def test_too_few_frames_leave_it_undecided_and_the_end_makes_that_not_live(videos):
    check = watch(clip_frames(videos / "WDA_KatieHill_000.mp4"), seconds=0.4)
    assert check.verdict().live is None
    assert check.final().live is False and "motion" in check.final().reason


def test_the_end_keeps_what_was_measured_when_too_few_frames_moved():
    """A turning face seen for too few frames: undecided, and the final "not live" keeps the
    parallax and the count of moving frames measured so far (no ../shared needed)."""
    from liveness_material import TurningHead, swaying

    head = TurningHead(face_photos("Jennifer_Capriati")[4])
    check = watch(swaying(head, 30))
    verdict, final = check.verdict(), check.final()
    assert verdict.live is None and 0 < verdict.moving_frames < check.needed
    assert final.live is False and "too little motion seen" in final.reason
    assert (final.parallax, final.moving_frames) == (verdict.parallax, verdict.moving_frames)
    assert final.parallax is not None


class Verdicts:
    """A liveness check that says what it is told (for the decision rule's sake)."""

    def __init__(self, live):
        from faceapp.liveness.passive import Verdict

        self.answer = Verdict(
            live,
            {True: "live: ok", False: "not live: flat", None: "not live: no motion seen"}[live],
            None,
            0,
        )

    def verdict(self):
        return self.answer

    def final(self):
        from faceapp.liveness.passive import Verdict

        return (
            self.answer
            if self.answer.live is not None
            else Verdict(False, self.answer.reason, None, 0)
        )


def test_a_matching_face_that_is_not_live_is_unverified_and_says_why():
    match = decide([0.9, 0.9], Thresholds(0.5, 0.5))
    for live, verified in ((True, True), (False, False)):
        timed = TimedVerification(5.0, clock=lambda: 0.0, liveness=Verdicts(live))
        for _ in range(3):  # three frames fused decide who it is
            timed.add(match)
        assert timed.done
        outcome = timed.outcome()
        assert outcome.verified is verified and outcome.live is live
        assert outcome.summary().endswith(Verdicts(live).answer.reason)
    waiting = TimedVerification(5.0, clock=lambda: 0.0, liveness=Verdicts(None))
    for _ in range(3):
        waiting.add(match)
    assert (
        waiting.identity_decided and not waiting.done
    )  # identity known, liveness not yet: keep watching


def test_someone_else_is_refused_without_waiting_for_liveness():
    timed = TimedVerification(5.0, reject_after=1, clock=lambda: 0.0, liveness=Verdicts(None))
    timed.add(decide([0.1, 0.2], Thresholds(0.5, 0.5)))
    assert timed.done and timed.outcome().liveness == ""


def test_apcer_bpcer_and_the_threshold_chosen_on_tuning_material():
    from training.evaluation.liveness import Outcome, Trial, choose_threshold, rates

    def outcome(kind, score, decided=True):
        trial = Trial("v.avi", 0, False, kind == "live", kind, "clip")
        return Outcome(trial, score, decided, 2.0, "")

    tuning = [
        outcome("live", 0.08),
        outcome("live", 0.05),
        outcome("print", 0.012),
        outcome("screen", 0.016),
        outcome("print", None, decided=False),
    ]
    threshold = choose_threshold(tuning)
    assert threshold == pytest.approx(0.016 * 1.25)
    measured = [
        outcome("live", 0.09),
        outcome("live", 0.015),
        outcome("live", 0.3, False),
        outcome("print", 0.03),
        outcome("print", 0.01),
        outcome("screen", 0.001),
    ]
    report = rates(measured, threshold)
    assert report["bpcer"] == pytest.approx(2 / 3)  # too low, and undecided
    assert report["apcer_print"] == 0.5 and report["apcer_screen"] == 0.0
    assert report["apcer"] == 0.5 and report["attacks_print"] == 2


def test_the_final_material_holds_both_kinds_of_lfw_attack_and_whole_clips():
    from training.evaluation.liveness import Trial, held_for_measuring

    kinds = ["print", "screen"] * 4  # as training.attacks writes them: alternating
    trials = [Trial(f"a{i}.avi", 0, False, False, kind, "lfw") for i, kind in enumerate(kinds)]
    trials += [
        Trial("k.mp4", 0, False, True, "live", "Katie"),
        Trial("k1.avi", 0, False, False, "print", "Katie"),
        Trial("b.mp4", 0, False, True, "live", "Bob"),
        Trial("b1.avi", 0, False, False, "screen", "Bob"),
    ]

    held = held_for_measuring(trials, {"Katie"})

    measured = [t for t, kept in zip(trials, held) if kept]
    lfw = [t.kind for t in measured if t.source == "lfw"]
    assert sorted(lfw) == ["print", "print", "screen", "screen"]
    assert {t.video for t in measured if t.source != "lfw"} == {"k.mp4", "k1.avi"}


def stripes(along: str, period: float, shape=(120, 200)) -> np.ndarray:
    """A grey image whose brightness is a sine of ``period`` px along x or y (amplitude 50)."""
    y, x = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    phase = 2 * np.pi * (x if along == "x" else y) / period
    return np.clip(128 + 50 * np.sin(phase), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("along", ["x", "y"])
def test_the_detail_image_keeps_fine_texture_and_drops_slow_light(along):
    """What the points are followed on: even light is 128 everywhere; texture 8 px across
    keeps its contrast (doubled, less the 0.8 px blur: a Gaussian of sigma s scales a sine
    of period P by exp(-2 pi^2 s^2 / P^2)), whichever way it runs; the image keeps its size."""
    from faceapp.liveness.passive import detail

    for level in (30, 128, 220):
        assert (detail(np.full((90, 130), level, np.uint8)) == 128).all()
    out = detail(stripes(along, 8.0)).astype(np.float64)
    assert out.shape == (120, 200)
    inner = out[16:-16, 16:-16] - 128
    expected = 2 * 50 * np.exp(-2 * np.pi**2 * 0.8**2 / 8.0**2)  # 82: the fine blur's share
    assert np.abs(inner).max() == pytest.approx(expected, rel=0.08)
    assert detail(stripes(along, 8.0), scale=0.5).shape == (60, 100)
    # light that changes over 160 px (a shadow's edge) is cut to under a tenth of its
    # doubled 100; at 32 px the coarse layer takes about half: the band-pass's knee, which a
    # narrower or wider coarse blur, or one along a single axis, would move (to 32 or 76)
    big = (240, 320)
    slow = np.abs(detail(stripes(along, 160.0, big)).astype(np.float64)[32:-32, 32:-32] - 128)
    knee = np.abs(detail(stripes(along, 32.0, big)).astype(np.float64)[32:-32, 32:-32] - 128)
    assert slow.max() <= 10 and 36 <= knee.max() <= 48


def test_a_face_is_inside_the_window_up_to_and_on_its_edges_and_not_a_pixel_beyond():
    from faceapp.vision.geometry import Box

    window = Box(100, 50, 200, 150)
    assert _inside(Box(100, 50, 200, 150), window)  # the window itself
    assert _inside(Box(150, 100, 20, 20), window)
    for outside in (
        Box(99, 60, 50, 50),  # a pixel left
        Box(110, 49, 50, 50),  # above
        Box(251, 60, 50, 50),  # a pixel right of the right edge
        Box(110, 151, 50, 50),  # below
        Box(0, 0, 20, 20),  # wholly outside, up and left
        Box(120, 60, 20, 200),  # taller than what is left below it
    ):
        assert not _inside(outside, window), outside
    assert not _inside(Box(150, 100, 20, 20), None)


def test_the_verdict_comes_at_the_needed_moving_frames_and_above_the_threshold_only():
    from faceapp.liveness.passive import Verdict

    check = MotionCheck(threshold=0.05, needed=4)
    check.faces = check.frames = 30
    assert check.verdict() == Verdict(
        None,
        "not live: no motion seen (a frozen camera, or a face held still: move your head a little)",
        None,
        0,
    )
    check.parallax = [0.09, 0.07, 0.08]
    assert check.verdict().live is None
    check.parallax.append(0.06)
    live = "live: the face moved in three dimensions"
    assert check.verdict() == Verdict(True, live, pytest.approx(0.075), 4)
    check.parallax = [0.05] * 4  # on the threshold: a flat picture's
    flat = "not live: the face moved like a flat picture"
    assert check.verdict() == Verdict(False, flat, pytest.approx(0.05), 4)


def test_points_lost_mid_clip_are_replaced_on_the_face_away_from_those_still_followed():
    """When fewer than MIN_POINTS points are left, new ones are seeded on the face, none on
    top of a point still followed (each keeps a 3 px circle to itself)."""
    from liveness_material import TurningHead, swaying

    from faceapp.liveness.passive import MAX_POINTS, MIN_POINTS

    frames = swaying(TurningHead(face_photos("Jennifer_Capriati")[4]), 6)
    finder, check = FaceFinder(track=True), MotionCheck()
    for frame in frames[:5]:
        check.add(frame, finder.find(frame))
    assert len(check._tracks) >= MIN_POINTS
    check._tracks = check._tracks[:12]  # as if the rest were lost: under MIN_POINTS remain
    check.add(frames[5], finder.find(frames[5]))
    after = check._tracks
    followed, new = after.last[after.length > 1], after.last[after.length == 1]  # seeded now
    assert len(followed) >= 8 and MIN_POINTS <= len(after) <= MAX_POINTS
    gaps = [np.hypot(x - a, y - b) for x, y in new for a, b in followed]
    assert min(gaps) > 2.5, min(gaps)


def test_the_median_and_percentile_taken_every_frame_are_numpys_to_the_last_bit():
    """The passive check takes them without numpy's wrappers (a tenth of the time on ~80
    values): the numbers must be exactly numpy's, or a verdict could move at its bar."""
    from faceapp.liveness.passive import _median, _percentile

    rng = np.random.default_rng(3)
    for _ in range(3000):
        values = (rng.random(int(rng.integers(1, 150))) * rng.random() * 3).astype(np.float32)
        assert _median(values) == float(np.median(values))
        assert _percentile(values, 90) == float(np.percentile(values, 90))
        assert _percentile(values, 25) == float(np.percentile(values, 25))


def test_tracks_keep_their_order_their_last_positions_and_only_full_ones_span():
    from faceapp.liveness.points import LAG, Tracks, spans

    old = Tracks.of([[(float(k), 0.0) for k in range(LAG + 3)]])  # longer than kept
    young = Tracks.of([[(5.0, 5.0), (6.0, 5.0)]])
    tracks = old + young + Tracks.at(np.array([[9.0, 9.0]], np.float32))
    assert len(tracks) == 3 and tracks.length.tolist() == [LAG + 1, 2, 1]
    then, now = spans(tracks)
    assert then.tolist() == [[2.0, 0.0]] and now.tolist() == [[LAG + 2.0, 0.0]]
    moved = tracks.moved(np.array([[1, 1], [2, 2], [3, 3]], np.float32), np.array([1, 0, 1], bool))
    assert moved.last.tolist() == [[1.0, 1.0], [3.0, 3.0]]  # the second dropped, order kept
    assert moved.length.tolist() == [LAG + 1, 2]
    assert spans(moved)[0].tolist() == [[3.0, 0.0]]  # the oldest position moved on by one
    assert tracks.history.dtype == moved.history.dtype == np.float32  # as OpenCV returns them


def test_groups_of_tracks_are_followed_together_and_an_empty_group_stays_empty():
    from faceapp.liveness.points import Tracks, follow_groups

    rng = np.random.default_rng(4)
    before = cv2.GaussianBlur(rng.integers(0, 255, (120, 120), np.uint8), (0, 0), 2.0)
    after = np.roll(before, 2, axis=1)  # everything 2 px to the right
    face = Tracks.at(np.array([[40.0, 40.0], [60.0, 50.0]], np.float32))
    room = Tracks.at(np.array([[80.0, 70.0]], np.float32))
    followed_face, nothing, followed_room = follow_groups(before, after, face, Tracks(), room)
    assert len(nothing) == 0 and len(followed_face) == 2 and len(followed_room) == 1
    assert np.allclose(followed_face.last, face.last + [2.0, 0.0], atol=0.1)
    assert np.allclose(followed_room.last, room.last + [2.0, 0.0], atol=0.1)
    assert followed_face.length.tolist() == [2, 2]
    empty = follow_groups(before, after, Tracks(), Tracks())
    assert [len(group) for group in empty] == [0, 0]


def test_the_clips_of_a_folder_are_listed_by_name_and_too_few_is_one_line(tmp_path):
    from faceapp.errors import FaceappError
    from training.attacks import clips_in

    with pytest.raises(
        FaceappError, match=rf"^no \.mp4 clips in {tmp_path} \(give --videos DIR\)$"
    ):
        clips_in(tmp_path)
    (tmp_path / "b.mp4").write_bytes(b"")
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    assert clips_in(tmp_path) == [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    with pytest.raises(FaceappError, match=r"^need 3 or more \.mp4 clips in "):
        clips_in(tmp_path, at_least=3)
