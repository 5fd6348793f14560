"""The decision rule, frame quality checks, and deciding over several frames.

No TensorFlow here: the GUI process uses this module too.

Rule (the original tutorial's): each verification image's score is P(same person) for it and the
input face. A score above the *detection threshold* is a match; the person is verified when
the fraction of matches is above the *verification threshold*.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import cv2
import numpy as np

from faceapp.errors import FaceappError
from faceapp.metadata import Thresholds

MIN_BRIGHTNESS = 40.0  # mean grey level (0-255) below which a face is too dark to judge
MIN_SHARPNESS = 15.0  # variance of the Laplacian at 100x100 below which it is too blurred


@dataclass(frozen=True)
class Decision:
    """The outcome of comparing one face with the verification images."""

    verified: bool
    matches: int
    total: int
    detection_threshold: float
    verification_threshold: float
    score_min: float
    score_mean: float
    score_max: float
    live: bool | None = None  # the liveness check's verdict; None: not checked
    liveness: str = ""  # its reason, in words

    @property
    def fraction(self) -> float:
        return self.matches / self.total if self.total else 0.0

    @property
    def label(self) -> str:
        return "Verified" if self.verified else "Unverified"

    def summary(self) -> str:
        """E.g. ``Verified: 42/50 matches (84%), scores 0.12-0.99 (mean 0.81)``, and why a
        face that matched was still refused: ``...; not live: no motion seen``."""
        text = (
            f"{self.label}: {self.matches}/{self.total} matches ({self.fraction:.0%}), "
            f"scores {self.score_min:.2f}-{self.score_max:.2f} (mean {self.score_mean:.2f})"
        )
        return text + (f"; {self.liveness}" if self.liveness else "")

    def with_liveness(self, verdict) -> Decision:
        """This decision with a liveness verdict: verified only if the face is live too."""
        return replace(
            self,
            verified=self.verified and bool(verdict.live),
            live=bool(verdict.live),
            liveness=verdict.reason,
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "fraction": self.fraction}

    @classmethod
    def from_dict(cls, values: dict) -> Decision:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in fields})


def verified(scores: np.ndarray, detection: float, verification: float) -> np.ndarray:
    """The rule, for many faces at once: ``scores`` (faces, verification images) -> one
    bool per face (the one copy of the rule; evaluation sweeps thresholds with it)."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.mean(scores > detection, axis=-1) > verification


def decide(scores: np.ndarray, thresholds: Thresholds) -> Decision:
    """Apply the decision rule to the scores against every verification image."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        raise FaceappError("no verification images to compare with (press 'e' to enrol)")
    matches = int(np.sum(scores > thresholds.detection))
    return Decision(
        verified=bool(verified(scores, thresholds.detection, thresholds.verification)),
        matches=matches,
        total=int(scores.size),
        detection_threshold=thresholds.detection,
        verification_threshold=thresholds.verification,
        score_min=float(scores.min()),
        score_mean=float(scores.mean()),
        score_max=float(scores.max()),
    )


def frame_problem(face_bgr: np.ndarray) -> str | None:
    """Why a face crop is too poor to judge ("too dark", "too blurred"), or None."""
    grey = cv2.cvtColor(face_bgr, cv2.COLOR_BGR2GRAY) if face_bgr.ndim == 3 else face_bgr
    if float(grey.mean()) < MIN_BRIGHTNESS:
        return "too dark"
    small = cv2.resize(grey, (100, 100), interpolation=cv2.INTER_AREA)
    if float(cv2.Laplacian(small, cv2.CV_64F).var()) < MIN_SHARPNESS:
        return "too blurred"
    return None


class TimedVerification:
    """Decide over several frames for up to ``timeout`` seconds (like Howdy).

    Feed it one :class:`Decision` per judged frame (frames with no face, too dark or too
    blurred are reported with :meth:`skip`). It stops at the first confident decision:
    verified as soon as one frame verifies; unverified once ``reject_after`` judged
    frames in a row did not, or when time runs out.

    With a ``liveness`` check (:class:`faceapp.liveness.MotionCheck`, fed every frame by the
    caller), a verified face must also be found live: it waits for the check's verdict, and
    stops at once when the check finds the face is not live.
    """

    def __init__(self, timeout: float, reject_after: int = 5, clock=time.monotonic, liveness=None):
        if timeout <= 0:
            raise FaceappError(f"--timeout must be a positive number of seconds, got {timeout}")
        self.timeout = timeout
        self.reject_after = reject_after
        self.clock = clock
        self.liveness = liveness
        self.started = clock()
        self.judged: list[Decision] = []
        self.skipped: dict[str, int] = {}
        self.result: Decision | None = None

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def done(self) -> bool:
        if self.elapsed >= self.timeout:
            return True
        if self.liveness is None:
            return self.result is not None
        live = self.liveness.verdict().live
        if live is False:
            return True
        return self.result is not None and (live is True or not self.result.verified)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def add(self, decision: Decision) -> None:
        """One judged frame. The first verified one, or the ``reject_after``-th, decides
        who it is; frames judged after that do not change it."""
        self.judged.append(decision)
        if self.result is None and (decision.verified or len(self.judged) >= self.reject_after):
            self.result = decision

    @property
    def identity_decided(self) -> bool:
        """Whether frames still need to be judged (the liveness check may need more)."""
        return self.result is not None

    def outcome(self) -> Decision | None:
        """The decision: the deciding frame's, else the best judged frame's; None if none.
        With a liveness check, its verdict (undecided counts as not live) is part of it."""
        if self.result is not None:
            decision = self.result
        elif self.judged:
            decision = max(self.judged, key=lambda d: d.fraction)
        else:
            return None
        if self.liveness is None or not decision.verified:
            return decision  # refused as someone else: whether live does not matter
        return decision.with_liveness(self.liveness.final())

    def explain(self) -> str:
        judged = len(self.judged)
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
        text = f"{judged} frame(s) judged in {self.elapsed:.1f} s" + (
            f"; skipped: {skipped}" if skipped else ""
        )
        if self.liveness is not None and not judged:
            text += f"; {self.liveness.final().reason}"
        return text
