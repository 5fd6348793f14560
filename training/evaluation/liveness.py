"""How often the liveness check is wrong, in the terms of ISO/IEC 30107-3.

* **APCER**: the share of presentation attacks (replayed photos: training.attacks) accepted as
  live, per kind of attack (print, screen);
* **BPCER**: the share of live presentations (the real talking-head clips) rejected, where a
  presentation is ``seconds`` of a clip from a starting point, as the app's multi-frame mode
  sees it, and mirrored too (a webcam may or may not mirror).

Every trial runs what the app runs: :class:`faceapp.vision.finder.FaceFinder` in video mode and
:class:`faceapp.liveness.passive.MotionCheck` on each frame, until it decides or the frames end.

Tuning and measuring use different material: the check's threshold is chosen on one set of
clips and attacks (:func:`choose_threshold`) and measured on another; the attacks made from a
clip's frames go with that clip.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from faceapp.errors import FaceappError


@dataclass(frozen=True)
class Trial:
    """One presentation: its video, where it starts, whether it is live, its kind and the
    clip (or photo) its picture comes from."""

    video: str
    start: int
    mirrored: bool
    live: bool
    kind: str  # "live", "print" or "screen"
    source: str  # the clip's stem, or "lfw" for attacks made from LFW photos


@dataclass(frozen=True)
class Outcome:
    """What the check saw in one trial. The score does not depend on the threshold (the
    check decides once it has seen enough moving frames, whatever the threshold), so any
    threshold can be applied afterwards (:meth:`live_at`)."""

    trial: Trial
    score: float | None  # the median parallax when it decided (or at the end)
    decided: bool  # it saw enough moving frames to decide
    seconds: float  # video time until it decided (or the end)
    reason: str  # why, when it did not decide

    def live_at(self, threshold: float) -> bool:
        return self.decided and self.score is not None and self.score > threshold


def live_trials(clips: list[Path], seconds: float, fps: float, step: float) -> list[Trial]:
    """Every ``step`` seconds of each clip a presentation of ``seconds``, as is and mirrored."""
    trials = []
    for clip in clips:
        frames = int(cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FRAME_COUNT))
        last = max(0, frames - int(round(seconds * fps)))
        starts = sorted({int(round(k * step * fps)) for k in range(int(last / (step * fps)) + 1)})
        for start in starts:
            for mirrored in (False, True):
                trials.append(Trial(str(clip), start, mirrored, True, "live", clip.stem))
    return trials


def attack_trials(folder: Path) -> list[Trial]:
    """The attacks described by ``folder/manifest.json`` (training.attacks)."""
    manifest = folder / "manifest.json"
    try:
        entries = json.loads(manifest.read_text())
    except (OSError, ValueError) as error:
        raise FaceappError(f"cannot read {manifest}: {error}") from None
    return [
        Trial(
            str(folder / entry["file"]),
            0,
            False,
            False,
            entry["kind"],
            entry["source"].split("@")[0] if "@" in entry["source"] else "lfw",
        )
        for entry in entries
    ]


def held_for_measuring(trials: list[Trial], final_clips: set[str]) -> list[bool]:
    """Which trials are kept out of tuning, for the final figures: every trial of the final
    clips (their live presentations and the attacks made from their frames) and every second
    LFW attack *of each kind*, so both kinds are measured on photos never tuned on."""
    held = [t.source in final_clips for t in trials]
    for kind in {t.kind for t in trials if t.source == "lfw"}:
        lfw = [i for i, t in enumerate(trials) if t.source == "lfw" and t.kind == kind]
        for index in lfw[1::2]:
            held[index] = True
    return held


def run_trial(trial: Trial, seconds: float, fps: float) -> Outcome:
    """The check on one presentation, frame by frame, until it has seen enough."""
    from faceapp.liveness.passive import MotionCheck
    from faceapp.vision.finder import FaceFinder

    finder, check = FaceFinder(track=True), MotionCheck()
    from training.attacks import clip_frames

    frames = clip_frames(Path(trial.video), trial.start, int(round(seconds * fps)))
    if trial.mirrored:
        frames = [frame[:, ::-1].copy() for frame in frames]
    for count, frame in enumerate(frames, start=1):
        check.add(frame, finder.find(frame))
        if len(check.parallax) >= check.needed:
            return Outcome(trial, check.verdict().parallax, True, count / fps, "")
    verdict = check.final()
    return Outcome(trial, verdict.parallax, False, len(frames) / fps, verdict.reason)


def rates(outcomes: list[Outcome], threshold: float) -> dict:
    """APCER per attack kind (and the worst), BPCER, and the counts behind them."""
    live = [o for o in outcomes if o.trial.live]
    accepted = [o for o in live if o.live_at(threshold)]
    report = {
        "threshold": threshold,
        "live_presentations": len(live),
        "bpcer": float(1 - len(accepted) / len(live)) if live else None,
        "seconds_to_live_median": (
            float(np.median([o.seconds for o in accepted])) if accepted else None
        ),
    }
    kinds = sorted({o.trial.kind for o in outcomes if not o.trial.live})
    for kind in kinds:
        attacks = [o for o in outcomes if o.trial.kind == kind]
        report[f"apcer_{kind}"] = float(np.mean([o.live_at(threshold) for o in attacks]))
        report[f"attacks_{kind}"] = len(attacks)
    report["apcer"] = max(
        (
            float(np.mean([o.live_at(threshold) for o in outcomes if o.trial.kind == k]))
            for k in kinds
        ),
        default=None,
    )
    return report


def choose_threshold(outcomes: list[Outcome], margin: float = 1.25) -> float:
    """A threshold from tuning outcomes: ``margin`` times the highest parallax any tuning
    attack reached (so none of them passes) or, if a live presentation scored below that,
    halfway between the highest attack and the lowest live score."""
    attacks = [o.score for o in outcomes if not o.trial.live and o.score is not None]
    lives = [o.score for o in outcomes if o.trial.live and o.decided and o.score is not None]
    if not attacks:
        raise FaceappError("no attack reached a score: nothing to choose a threshold from")
    highest = max(attacks)
    if not lives or min(lives) > highest * margin:
        return float(highest * margin)
    return float((highest + min(lives)) / 2)


def describe(outcome: Outcome) -> dict:
    return {
        **asdict(outcome.trial),
        "score": outcome.score,
        "decided": outcome.decided,
        "seconds": outcome.seconds,
        "reason": outcome.reason,
    }
