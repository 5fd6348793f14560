"""The liveness challenge: head movements in a random order, which a recording cannot follow.

Live material is made here from a real photo (tests/liveness_material.py: the face turned in
three dimensions by its own mesh), answering the prompts as a person would (a scripted
responder, closed loop: it sees each prompt, waits, turns); attacks are recordings — the same
turning face on a hand-held phone, and the shared clips replayed — that play on whatever is
asked. These run without ``../shared`` except where a test says it needs the clips.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import FACES, PROJECT_ROOT, face_photos
from liveness_material import TurningHead, swaying

from faceapp.liveness import make_check
from faceapp.liveness.challenge import ANSWER_SECONDS, MOVES, ChallengeCheck
from faceapp.liveness.passive import CARRIED, MotionCheck
from faceapp.paths import DataRoot
from faceapp.verification.enrolment import enrol
from faceapp.verification.frames import verify_frames
from faceapp.verification.verifier import Verifier
from faceapp.vision.finder import FaceFinder
from training.evaluation.challenge import ScriptedSource

PERSON = "Jennifer_Capriati"
FPS = 25.0


@pytest.fixture(scope="module")
def head() -> TurningHead:
    return TurningHead(FACES / PERSON / f"{PERSON}_0005.jpg")


class HeadResponder(ScriptedSource):
    """A frame source of the turning face that answers prompts (closed loop), or turns the
    wrong way (``contrary``), or not at all (``deaf``)."""

    def __init__(self, head: TurningHead, behaviour: str = "follow", seconds: float = 14.0):
        super().__init__(int(seconds * FPS), FPS)
        self.head, self.behaviour = head, behaviour
        self.plan: list[tuple[float, float]] = []
        self.prompts: list[tuple[str, float]] = []

    def hear(self, prompt: str) -> None:
        self.prompts.append((prompt, self.video_seconds()))
        move = next((m for m, (text, _, _) in MOVES.items() if text == prompt), None)
        if move is None or self.behaviour == "deaf":
            return
        _, axis, sign = MOVES[move]
        sign = -sign if self.behaviour == "contrary" else sign
        size = 25.0 if axis == 0 else 16.0
        path = [size * sign * k / 8 for k in range(1, 9)] + [size * sign] * 3
        path += path[-2::-1] + [0.0] * 2
        react = [(0.0, 0.0)] * 8  # 0.32 s to react
        self.plan = react + [(a, 0.0) if axis == 0 else (0.0, a) for a in path]

    def next_frame(self):
        t = self.frames_read / FPS
        big = self.behaviour == "deaf"  # it sways as a recording does, enough to look live
        sway = ((9 if big else 3) * np.sin(1.3 * t), (5 if big else 2) * np.sin(0.9 * t + 1))
        yaw, pitch = self.plan.pop(0) if self.plan else (0.0, 0.0)
        return self.head.frame(yaw + sway[0], pitch + sway[1])


@pytest.fixture(scope="module")
def verifier(tmp_path_factory) -> Verifier:
    root = DataRoot(tmp_path_factory.mktemp("owner")).ensure()
    enrol(*face_photos(PERSON)[:4], data_root=root)
    return Verifier.open(root)


def run(verifier, source, seed: int, mode: str = "challenge"):
    def seeded(mode, on_prompt, clock):
        return make_check(mode, rng=np.random.default_rng(seed), on_prompt=on_prompt, clock=clock)

    return verify_frames(verifier, source, 5.0, liveness=mode, on_prompt=source.hear, check=seeded)


def test_a_turning_real_face_is_live_but_not_before_enough_frames(head):
    frames, finder, check = swaying(head, 80), FaceFinder(track=True), MotionCheck()
    for k, frame in enumerate(frames):
        check.add(frame, finder.find(frame))
        if k == 25:  # 10 frames past the first comparison (16 apart): too soon to say
            assert check.verdict().live is None
    assert check.verdict().live is True, check.verdict()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_person_who_follows_the_prompts_passes_the_challenge(verifier, head, seed):
    source = HeadResponder(head)
    watched = run(verifier, source, seed)
    decision = watched.decision
    assert decision is not None and decision.verified, watched.story
    assert decision.live and "followed the challenge" in decision.liveness
    moves = [p for p, _ in source.prompts if p in {text for text, _, _ in MOVES.values()}]
    assert len(moves) == 2 and moves[0] != moves[1]  # two different movements, asked in turn
    assert source.prompts[0][0] == "hold still, facing the camera"


def test_a_face_that_matched_cannot_hand_over_to_another_for_the_movements(verifier, head):
    """The owner's face matches (a video of them, say); as soon as the challenge begins
    ("hold still") another person's face, in the same place, takes over and follows every
    prompt: the movements are right, the face is not, and it is refused, saying why."""
    source = HeadResponder(head)
    stranger = TurningHead(face_photos("Tom_Daschle")[0])
    hear = source.hear

    def swap_then_follow(prompt: str) -> None:
        source.head = stranger
        hear(prompt)

    source.hear = swap_then_follow  # type: ignore[method-assign]
    watched = run(verifier, source, 0)
    decision = watched.decision
    assert decision is not None and not decision.verified, watched.story
    assert "the face that answered the challenge is not the one that matched" in (decision.liveness)


def test_a_recording_that_cannot_hear_fails_and_says_why(verifier, head):
    watched = run(verifier, HeadResponder(head, "deaf"), 5)
    assert not watched.decision.verified
    assert f"no answer in {ANSWER_SECONDS:g} s" in watched.decision.liveness
    contrary = run(verifier, HeadResponder(head, "contrary"), 6)
    assert not contrary.decision.verified and "moved another way" in contrary.decision.liveness


def test_the_same_live_face_replayed_on_a_phone_is_refused_by_both_modes(verifier, head):
    from training.attacks import render
    from training.evaluation.challenge import Recording

    live = swaying(head, 150)  # a person swaying, filmed: then played on a phone
    replay = render(live, "phone", 6.0, seed=11)
    passive = run(verifier, Recording(replay), 3, "passive")
    challenge = run(verifier, Recording(replay), 3, "challenge")
    assert challenge.decision is not None and not challenge.decision.verified
    assert challenge.decision.live is False
    # a video of a head moves like a head: passive refuses it by its surroundings
    assert passive.decision is not None and not passive.decision.verified
    assert passive.decision.liveness == CARRIED, passive.story


def test_the_challenge_fails_when_the_face_is_lost_or_jumps():
    check = ChallengeCheck(rng=np.random.default_rng(0), clock=lambda: 0.0)
    check.start()
    for _ in range(5):
        check.add(np.zeros((10, 10, 3), np.uint8), None)
    assert check.verdict().live is False and "lost" in check.verdict().reason
    assert check.extra_seconds == 2 * ANSWER_SECONDS * 2 + 1.0


def test_headless_verify_refuses_a_photo_replay_and_a_video_replay(tmp_path, head):
    """faceapp-verify as a user runs it: a held-up photo under passive, a phone playing a
    video under challenge: both exit 1, saying why."""
    from training.attacks import render, write_video

    root = DataRoot(tmp_path / "data").ensure()
    enrol(*face_photos(PERSON)[:4], data_root=root)
    still = write_video(tmp_path / "still.avi", render(head.frame(0, 0), "print", 4.0, seed=2))
    video = write_video(tmp_path / "phone.avi", render(swaying(head, 150), "phone", 6.0, seed=4))
    for clip, mode, said in ((still, "passive", "not live"), (video, "challenge", "not live")):
        done = subprocess.run(
            [sys.executable, "-m", "faceapp.verify", str(clip), "--data-root", str(root.root),
             "--timeout", "5", "--liveness", mode],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 1, done.stdout + done.stderr
        assert said in done.stdout and "Traceback" not in done.stderr


def test_a_phone_replay_of_the_owners_clip_is_refused_under_challenge(videos, tmp_path):
    """The issue's own case: the owner's clip (WDA_KatieHill_000) played on a hand-held
    phone: passive may say live, the challenge must not."""
    from training.attacks import clip_frames, render, write_video

    clip = videos / "WDA_KatieHill_000.mp4"
    root = DataRoot(tmp_path / "data").ensure()
    enrol(*clip_frames(clip, 0, 50)[::10], data_root=root)
    replay = write_video(
        tmp_path / "phone.avi", render(clip_frames(clip, 40, 160), "phone", 6.0, 9)
    )
    done = subprocess.run(
        [sys.executable, "-m", "faceapp.verify", str(replay), "--data-root", str(root.root),
         "--liveness", "challenge"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "not live" in done.stdout, done.stdout
    assert "> turn your head" in done.stderr or "> look " in done.stderr  # the prompts shown


def test_a_killed_challenge_evaluation_resumes_from_its_journal(videos, tmp_path, monkeypatch):
    """Every trial is journalled as it ends; a run started again skips what the journal
    holds (a torn last line is run again), and a run over one clip draws the same replays
    as a run over all of them."""
    from training.evaluation import challenge as evaluation

    ran: list[tuple] = []

    def trial(verifier, source, mode, seed, steps=2):
        ran.append((type(source).__name__, mode, seed))
        return {"accepted": False, "reason": "not live: test", "drawn": seed}

    monkeypatch.setattr(evaluation, "trial", trial)
    monkeypatch.setattr(evaluation, "PoseLibrary", type("Lib", (), {"of": staticmethod(str)}))
    monkeypatch.setattr(evaluation, "Responder", lambda library: ScriptedSource(1, FPS))
    monkeypatch.setattr("training.attacks.render", lambda content, kind, seconds, seed: [])
    clips = sorted(videos.glob("*.mp4"))
    journal = tmp_path / "trials.jsonl"

    def measure(which):
        return evaluation.measure(
            which, clips[-1], tmp_path / f"enrolled-{len(ran)}", live_trials=1,
            replays_per_kind=1, stills_per_kind=1, steps=(2,), journal=journal,
        )  # fmt: skip

    first = measure(clips)
    assert len(ran) == 2 + 2 * 4 * len(clips)  # live and 4 kinds per clip, passive and 2 steps
    assert len(journal.read_text().splitlines()) == len(ran)
    again = measure(clips)
    assert len(ran) == 2 + 8 * len(clips) and again["trials"] == first["trials"]
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])  # killed mid-write
    measure(clips)
    assert len(ran) == 2 + 8 * len(clips) + 1 and ran[-1] == ran[2 + 8 * len(clips) - 1]
    alone = [row for row in first["trials"] if row.get("clip") == clips[0].stem]
    ran.clear()
    journal.unlink()
    by_itself = measure(clips[:1])
    assert [r for r in by_itself["trials"] if r.get("clip")] == alone


def test_every_prompt_order_is_tried_on_a_recording_and_only_the_one_it_plays_passes(
    verifier, head
):
    """A recording that turns left, comes back, then looks up passes a challenge that asks
    exactly that (1 of the 12 orders of two movements): asked anything else first, it moves
    the wrong way or along the other axis; asked left then anything but up, likewise."""
    from training.evaluation.challenge_odds import Remembered, odds, passes

    def ramp(to: float, frames: int = 8) -> list[float]:
        return [to * k / frames for k in range(1, frames + 1)]

    yaw = [0.0] * 14 + ramp(25) + [25.0] * 3 + ramp(25)[::-1] + [0.0] * 10
    pitch = [0.0] * len(yaw) + ramp(16) + [16.0] * 3 + ramp(16)[::-1] + [0.0] * 20
    yaw += [0.0] * (len(pitch) - len(yaw))
    t = np.arange(len(yaw)) / FPS
    sway = 3 * np.sin(1.3 * t)  # a little motion all along: the passive check must say live
    frames = [head.frame(y + s, p + s / 2) for y, p, s in zip(yaw, pitch, sway)]

    remembered = Remembered(verifier, frames)
    assert passes(remembered, frames, ("left", "up"), timeout=5.0)
    assert not passes(remembered, frames, ("up", "left"), timeout=5.0)
    # the turn reaches 15 degrees about 0.5 s after the prompt: an answer, unless answers
    # must wait a whole second
    variants = {"2 moves, 3 s": (2, 3.0, 0.0), "none before 1 s": (2, 3.0, 1.0)}
    assert odds(verifier, frames, variants=variants) == {
        "2 moves, 3 s": {"orders": 12, "passed": 1},
        "none before 1 s": {"orders": 12, "passed": 0},
    }


def test_the_odds_summary_is_the_mean_chance_over_replays():
    from training.evaluation.challenge_odds import summary

    rows = [
        {"material": "monitor", "2 moves, 3 s": {"orders": 12, "passed": 3}},
        {"material": "monitor", "2 moves, 3 s": {"orders": 12, "passed": 0}},
        {"material": "phone", "2 moves, 3 s": {"orders": 12, "passed": 0}},
    ]
    table = summary(rows)
    assert table["monitor / 2 moves, 3 s"] == {"any": 1, "replays": 2, "apcer": 0.125}
    assert table["phone / 2 moves, 3 s"]["apcer"] == 0.0
