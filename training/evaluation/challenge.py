"""The challenge measured: live people who follow the prompts, and recordings that cannot.

**Live material** is a scripted responder (:class:`Responder`): real frames of a real
talking-head clip, re-ordered to answer each prompt as it is asked — it sees the prompt
(through the same ``on_prompt`` a user's screen shows), waits a human reaction time, then
plays the clip's frames whose head pose goes the asked way, from neutral to past the answer
and back, at the clip's frame rate. How far this is from a person: the poses are the
clip's own (a person asked to turn turns further, and smoothly), the re-ordered frames make
the head jump a little between poses, and one clip holds all four movements (Katie Hill's:
yaw -26 to +16 degrees, pitch -12 to +18). A smoother one, whose head turns as a person's
does, is :class:`training.evaluation.turning_responder.TurningResponder` (``turning_trials``).

**Attacks** are recordings played to the camera (:func:`training.attacks.render`): the
clips on a hand-held phone (``phone``) or on a monitor standing still at an angle
(``monitor``), starting at random points, and still photos held up (``print``, ``screen``).
A recording does not listen: it plays on whatever is asked. Each trial draws its own prompts.

Every trial runs what the app runs (:func:`faceapp.verification.frames.verify_frames`): face
search and tracking, the owner's enrolled faces, the identity rule, and the liveness mode.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceapp.liveness.challenge import MOVES

REACTION = 10  # frames (0.4 s at 25 fps) between a prompt and the first movement
HOLD = 4  # frames held at the end of a movement


@dataclass
class PoseLibrary:
    """A clip's frames with a face, the head pose in each, its landmarks, and which frame of
    the clip each is."""

    frames: list[np.ndarray]
    yaw: np.ndarray
    pitch: np.ndarray
    fps: float
    landmarks: list = field(default_factory=list)
    numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, int))

    @classmethod
    def of(cls, clip: Path) -> PoseLibrary:
        import cv2

        from faceapp.vision.finder import FaceFinder
        from faceapp.vision.pose import head_pose

        capture, finder = cv2.VideoCapture(str(clip)), FaceFinder(track=True)
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        frames, yaw, pitch, landmarks, numbers = [], [], [], [], []
        number = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            face = finder.find(frame)
            if face is not None and face.landmarks is not None:
                pose = head_pose(face.landmarks)
                frames.append(frame)
                yaw.append(pose.yaw)
                pitch.append(pose.pitch)
                landmarks.append(face.landmarks)
                numbers.append(number)
            number += 1
        capture.release()
        return cls(frames, np.array(yaw), np.array(pitch), fps, landmarks, np.array(numbers))

    def neutral(self) -> np.ndarray:
        """Indices of the frames nearest the clip's usual pose, in time order."""
        distance = np.hypot(self.yaw - np.median(self.yaw), self.pitch - np.median(self.pitch))
        return np.sort(np.argsort(distance)[: max(8, len(distance) // 6)])

    def movement(self, move: str) -> list[int]:
        """Frames from the usual pose to the farthest the clip goes ``move``'s way, ordered
        by how far they have gone (a head turning), then back."""
        _, axis, sign = MOVES[move]
        values = (self.yaw, self.pitch)[axis] * sign
        base = float(np.median(values))
        order = np.argsort(values)
        going = [int(k) for k in order if values[k] > base][:: max(1, len(order) // 60)]
        going = sorted(going, key=lambda k: values[k])[-12:]
        return going + [going[-1]] * HOLD + going[::-1]


class ScriptedSource:
    """A frame source the trials feed :func:`verify_frames` (the protocol of
    :mod:`faceapp.vision.camera`'s sources): ``limit`` frames at ``fps``, counted in
    ``frames_read``; :meth:`hear` is told each prompt (a recording ignores it)."""

    is_webcam = False
    opened = True
    paced = False
    message: str | None = None

    def __init__(self, limit: int, fps: float):
        self.limit, self.fps, self.frames_read = limit, fps, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    @property
    def finished(self) -> bool:
        return self.frames_read >= self.limit

    def video_seconds(self) -> float:
        return self.frames_read / self.fps

    def hear(self, prompt: str) -> None:
        return None

    def read(self) -> np.ndarray | None:
        if self.finished:
            return None
        self.frames_read += 1
        return self.next_frame()

    def next_frame(self) -> np.ndarray:
        raise NotImplementedError


class Responder(ScriptedSource):
    """A person answering the challenge's prompts, made of a clip's frames (give :meth:`hear`
    as ``on_prompt``)."""

    def __init__(self, library: PoseLibrary, seconds: float = 12.0, follow: bool = True):
        """``follow=False``: deaf, it plays only neutral frames (a person who does not move)."""
        super().__init__(int(seconds * library.fps), library.fps)
        self.library = library
        self.follow = follow
        self.neutral = library.neutral()
        self.queue: list[int] = []
        self.prompted_at: list[float] = []

    def hear(self, prompt: str) -> None:
        """What the screen shows now: a movement to make, or to face the camera again."""
        move = next((m for m, (text, _, _) in MOVES.items() if text == prompt), None)
        if move is not None:
            self.prompted_at.append(self.video_seconds())
            if self.follow:
                rest = [int(k) for k in self.neutral[:REACTION]]
                self.queue = rest + self.library.movement(move)

    def next_frame(self) -> np.ndarray:
        if not self.queue:  # the usual pose, frames in turn
            self.queue = [int(k) for k in self.neutral]
        return self.library.frames[self.queue.pop(0)]


class Recording(ScriptedSource):
    """A replay attack's frames as a source (it plays on whatever is asked)."""

    def __init__(self, frames: list[np.ndarray], fps: float = 25.0):
        super().__init__(len(frames), fps)
        self.frames = frames

    def next_frame(self) -> np.ndarray:
        return self.frames[self.frames_read - 1]


def trial(verifier, source, mode: str, seed: int, timeout: float = 5.0, steps: int = 2) -> dict:
    """One presentation under ``mode``: accepted (verified and live), why, and for a
    responder the time from its first movement prompt to the verdict, and to the challenge's
    last answer (the challenge's own part, without the checks that run beside it)."""
    from faceapp.liveness import make_check
    from faceapp.verification import frames as watching

    started = time.perf_counter()
    made: list = []

    def seeded(mode, on_prompt, clock):
        rng = np.random.default_rng(seed)
        check = make_check(mode, rng=rng, on_prompt=on_prompt, clock=clock, steps=steps)
        made.append(check)
        return check

    watched = watching.verify_frames(
        verifier, source, timeout, liveness=mode, on_prompt=source.hear, check=seeded
    )
    decision = watched.decision
    accepted = bool(decision is not None and decision.verified)
    prompted = getattr(source, "prompted_at", [])
    asked = [c for m in made for c in getattr(m, "checks", []) if hasattr(c, "answered_at")]
    answered = (
        asked[0].answered_at - asked[0].asked_at
        if asked and asked[0].answered_at is not None and asked[0].asked_at is not None
        else None
    )
    return {
        "accepted": accepted,
        "reason": decision.liveness if decision is not None else watched.story,
        "prompt_to_verdict": (source.video_seconds() - prompted[0]) if prompted else None,
        "prompt_to_last_answer": answered,
        "seconds": time.perf_counter() - started,
    }


@dataclass(frozen=True)
class Replay:
    """One replay drawn for a clip: its kind, its number among that kind's, where in the
    clip it starts, and the seed it is rendered with."""

    kind: str
    number: int
    start: int
    seed: int


def replays_of(clip: Path, seed: int, per_kind: int, stills_per_kind: int):
    """The replays drawn for ``clip``, kind by kind (phone, monitor, print, screen). Each
    clip draws its own: a run over some of the clips (several run side by side, sharing one
    journal) makes the same replays as a run over all of them, and so does
    :mod:`training.evaluation.challenge_odds`."""
    from training.attacks import KINDS, VIDEO_KINDS

    rng = np.random.default_rng([seed, zlib.crc32(clip.stem.encode())])
    count = frame_count(clip)
    for kind in VIDEO_KINDS + KINDS:
        for number in range(per_kind if kind in VIDEO_KINDS else stills_per_kind):
            start, attack_seed = int(rng.integers(0, count)), int(rng.integers(0, 2**31))
            yield Replay(kind, number, start, attack_seed)


def replay_frames(clip: Path, replay: Replay, seconds: float) -> list[np.ndarray]:
    """The replay rendered: ``seconds`` of the clip from its start (then from the clip's
    beginning again) on a phone or a monitor, or its start frame held up as a still."""
    from training.attacks import FPS, VIDEO_KINDS, clip_frames, clip_still, render

    length = int(seconds * FPS)
    content = (
        clip_frames(clip, replay.start, length) + clip_frames(clip, 0, length)
        if replay.kind in VIDEO_KINDS
        else clip_still(clip, replay.start)
    )
    return render(content, replay.kind, seconds, replay.seed)


def owner_of(clip: Path, root_folder: Path):
    """A verifier with the clip's person enrolled from five frames of its first two seconds
    (in ``root_folder/<clip name>``)."""
    from faceapp.paths import DataRoot
    from faceapp.verification.enrolment import enrol
    from faceapp.verification.verifier import Verifier
    from training.attacks import clip_frames

    root = DataRoot(root_folder / clip.stem).ensure()
    enrol(*clip_frames(clip, 0, 50)[::10], data_root=root)
    return Verifier.open(root)


def measure(
    clips: list[Path],
    live_clip: Path,
    root_folder: Path,
    live_trials: int = 40,
    replays_per_kind: int = 7,
    stills_per_kind: int = 5,
    seconds: float = 6.0,
    seed: int = 7,
    steps: tuple[int, ...] = (1, 2),
    journal: Path | None = None,
    kinds: tuple[str, ...] | None = None,
    turning_trials: int = 0,
    log=print,
) -> dict:
    """The challenge's figures: live trials (scripted responders of ``live_clip``), video
    replays of every clip (phone, monitor) and still replays (print, screen), each under
    ``passive`` and ``challenge`` with each number of movements in ``steps``; ``kinds``: only
    those replay kinds (the others' replays are still drawn, so the same ones come out).
    ``turning_trials``: smooth responders too
    (:class:`~training.evaluation.turning_responder.TurningResponder`, material
    ``live-turning``, the clips in turn), under the challenge only: they move only when asked,
    as a person sitting still would, which ``passive`` rightly refuses.

    Every trial is appended to ``journal`` (JSON lines) as it ends, and a run started again
    with the same journal skips the trials already in it: a long run that is killed resumes.
    """
    from itertools import groupby

    modes = [("passive", 2)] + [("challenge", n) for n in steps]
    done = journal_rows(journal)
    people = clips + [live_clip] * (live_clip not in clips)
    verifiers = {clip.stem: owner_of(clip, root_folder) for clip in people}
    rows: list[dict] = []

    def run(key: dict, verifier, make_source, mode: str, steps_: int, trial_seed: int):
        key = {**key, "mode": mode, "steps": steps_}
        name = trial_key(key)
        if name in done:
            rows.append(done[name])
            return
        row = {**key, **trial(verifier, make_source(), mode, trial_seed, steps=steps_)}
        rows.append(row)
        journal_append(journal, row)

    library = None
    for k in range(live_trials):
        for mode, n in modes:
            if trial_key({"material": "live", "trial": k, "mode": mode, "steps": n}) not in done:
                library = library or PoseLibrary.of(live_clip)
            run(
                {"material": "live", "trial": k},
                verifiers[live_clip.stem],
                lambda library=library: Responder(library),
                mode,
                n,
                1000 + k,
            )
    log(f"live: {live_trials} trials")
    run_turning(turning_trials, people, verifiers, steps, done, run)
    for clip in clips:
        drawn = replays_of(clip, seed, replays_per_kind, stills_per_kind)
        for kind, of_kind in groupby(drawn, key=lambda replay: replay.kind):
            for replay in of_kind if kinds is None or kind in kinds else ():
                key = {"material": kind, "clip": clip.stem, "trial": replay.number}
                if all(trial_key({**key, "mode": m, "steps": n}) in done for m, n in modes):
                    rows += [done[trial_key({**key, "mode": m, "steps": n})] for m, n in modes]
                    continue  # nothing left to run: not even rendered
                frames = replay_frames(clip, replay, seconds)
                for mode, n in modes:
                    run(
                        key, verifiers[clip.stem], lambda f=frames: Recording(f), mode, n,
                        replay.seed,
                    )  # fmt: skip
            log(f"{clip.stem} {kind}: done")
    return {"trials": rows, "summary": summary(rows)}


def run_turning(trials: int, people: list[Path], verifiers: dict, steps, done: dict, run) -> None:
    """The smooth responders' trials: trial ``k`` turns the head of clip ``k`` (in turn), its
    person's movements drawn from seed ``3000 + k``."""
    from training.evaluation.turning_responder import TurningResponder, stillest_stretch

    stretches: dict = {}
    for k in range(trials):
        clip = people[k % len(people)]
        key = {"material": "live-turning", "clip": clip.stem, "trial": k}
        for n in steps:
            wanted = trial_key({**key, "mode": "challenge", "steps": n}) not in done
            if wanted and clip.stem not in stretches:
                stretches[clip.stem] = stillest_stretch(clip)
            run(
                key, verifiers[clip.stem],
                lambda clip=clip, k=k: TurningResponder(
                    stretches[clip.stem], np.random.default_rng(3000 + k)
                ),
                "challenge", n, 1000 + k,
            )  # fmt: skip


def trial_key(row: dict) -> str:
    """What names a trial in a journal: its material, clip, number, mode and movements."""
    return "/".join(str(row.get(k, "")) for k in ("material", "clip", "trial", "mode", "steps"))


def journal_rows(journal: Path | None) -> dict[str, dict]:
    """The trials a journal already holds, by key (a torn last line is ignored)."""
    import json

    if journal is None or not journal.exists():
        return {}
    rows = {}
    for line in journal.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        rows[trial_key(row)] = row
    return rows


def journal_append(journal: Path | None, row: dict) -> None:
    import json

    if journal is not None:
        with open(journal, "a") as out:
            out.write(json.dumps(row) + "\n")


def frame_count(clip: Path) -> int:
    """The frames in a clip, from its header (decoded and counted when it has none)."""
    import cv2

    from training.attacks import clip_frames

    capture = cv2.VideoCapture(str(clip))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    return count if count > 0 else len(clip_frames(clip, 0, 100_000))


def summary(rows: list[dict]) -> dict:
    """Accepted counts per material and mode: APCER for attacks, BPCER for live, with the
    count, the trials and the 95% upper bound; and the median prompt-to-live time."""
    from training.evaluation.owners import upper_bound

    out: dict = {}
    for row in rows:
        key = f"{row['material']} / {row['mode']}" + (
            f" {row['steps']}" if row["mode"] == "challenge" else ""
        )
        cell = out.setdefault(key, {"trials": 0, "accepted": 0, "times": [], "answers": []})
        cell["trials"] += 1
        cell["accepted"] += int(row["accepted"])
        live = row["material"].startswith("live")
        if live and row["accepted"] and row["prompt_to_verdict"] is not None:
            cell["times"].append(row["prompt_to_verdict"])
            if row.get("prompt_to_last_answer") is not None:
                cell["answers"].append(row["prompt_to_last_answer"])
    for key, cell in out.items():
        errors = cell["trials"] - cell["accepted"] if key.startswith("live") else cell["accepted"]
        cell["error_rate"] = errors / cell["trials"]
        cell["errors"] = errors
        cell["upper_95"] = upper_bound(errors, cell["trials"])
        times, answers = cell.pop("times"), cell.pop("answers")
        cell["median_prompt_to_live"] = float(np.median(times)) if times else None
        cell["median_prompt_to_last_answer"] = float(np.median(answers)) if answers else None
    return out
