"""The decision rule and its thresholds: from a face's scores against the enrolled images to
Verified or not.

No TensorFlow here: the window's process uses this module too.

Rule (the original tutorial's): each verification image's score is P(same person) for it and the
input face. A score above the *detection threshold* is a match; the person is verified when
the fraction of matches is above the *verification threshold*. The thresholds come from a
command-line flag, else the model's metadata, else the tutorial's defaults (0.5 / 0.5).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from faceapp.errors import FaceappError

DEFAULT_DETECTION_THRESHOLD = 0.5
DEFAULT_VERIFICATION_THRESHOLD = 0.5


def parse_threshold(value: Any, setting: str) -> float:
    """A threshold as a float in [0, 1]; otherwise a clear error naming ``setting``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FaceappError(f"{setting} must be a number between 0 and 1, got {value!r}") from None
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise FaceappError(f"{setting} must be between 0 and 1, got {value!r}")
    return number


@dataclass(frozen=True)
class Thresholds:
    """The decision rule's two numbers.

    detection: a verification image matches when its score is above this.
    verification: the person is verified when the fraction of matches is above this.
    """

    detection: float = DEFAULT_DETECTION_THRESHOLD
    verification: float = DEFAULT_VERIFICATION_THRESHOLD

    @classmethod
    def resolve(
        cls,
        detection: Any = None,
        verification: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> Thresholds:
        """Flag if given, else the model's metadata, else the defaults."""
        metadata = metadata or {}

        def pick(flag: Any, key: str, default: float, setting: str) -> float:
            if flag is not None:
                return parse_threshold(flag, setting)
            if metadata.get(key) is not None:
                return parse_threshold(metadata[key], f"{key} in model metadata")
            return default

        return cls(
            detection=pick(
                detection,
                "detection_threshold",
                DEFAULT_DETECTION_THRESHOLD,
                "--detection-threshold",
            ),
            verification=pick(
                verification,
                "verification_threshold",
                DEFAULT_VERIFICATION_THRESHOLD,
                "--verification-threshold",
            ),
        )


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

    def __str__(self) -> str:
        return self.summary()

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
