"""The decision rule and its thresholds: from a face's scores against the enrolled faces to
Verified or not.

No TensorFlow here: the window's process uses this module too.

Two rules, named by the model's metadata:

``centroid`` (models calibrated by ``training.calibrate``, the shipped one among them): the
face is compared with the *mean* of the enrolled faces' embeddings (each at unit length, the
mean brought back to unit length), and verified when that score is above a threshold. The
threshold comes from a **security level** — ``standard`` (at most 1 stranger in 1,000 let in)
or ``high`` (1 in 10,000) — calibrated for the number of faces enrolled, on people never
used for anything else (docs/accuracy.md), so the level holds whether 1, 5 or 50 faces are
enrolled. The mean uses every enrolled face at once; a vote wastes them (measured: at the
same false accepts, the vote refused the owner several times as often).

``vote`` (the original tutorial's, for models trained before): each enrolled face's score is
P(same person) for it and the face; a score above the *detection threshold* is a match; the
person is verified when the fraction of matches is above the *verification threshold*.

Thresholds come from a command-line flag (an expert's own number), else the security level
(centroid) or the model's metadata, else the tutorial's defaults (0.5 / 0.5).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from faceapp.errors import FaceappError
from faceapp.numeric import unit
from faceapp.verification import DEFAULT_LEVEL, SECURITY_LEVELS

RULES = ("centroid", "vote")
CUSTOM_LEVEL = "custom"  # an expert's own threshold, not a calibrated level

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
    """The rule and its numbers.

    ``rule``: ``centroid`` or ``vote`` (see the module doc). ``detection``: the score a match
    must be above (vote: per enrolled face; centroid: against the enrolled faces' mean) when
    no calibrated level applies. ``verification``: vote only, the fraction of matches a face
    needs. ``level``: the security level (``table``: its thresholds by the number of faces
    enrolled), or ``custom`` / ``""`` when the threshold was given by hand or by an older
    model.
    """

    detection: float = DEFAULT_DETECTION_THRESHOLD
    verification: float = DEFAULT_VERIFICATION_THRESHOLD
    rule: str = "vote"
    level: str = ""
    table: tuple[tuple[int, float], ...] = ()  # (faces enrolled, threshold), ascending

    def threshold_for(self, enrolled: int) -> float:
        """The threshold a face must beat with ``enrolled`` faces enrolled: the level's,
        interpolated between the sizes it was calibrated for (in log of the size), else
        :attr:`detection`."""
        if not self.table:
            return self.detection
        sizes = np.log([size for size, _ in self.table])
        values = [value for _, value in self.table]
        return float(np.interp(math.log(max(enrolled, 1)), sizes, values))

    @property
    def named(self) -> str:
        """How the window and the commands name it, e.g. ``security high``."""
        if self.rule == "vote":
            return f"vote: match above {self.detection:.2f}, verified above {self.verification:.0%}"
        if self.level in SECURITY_LEVELS:
            return f"security {self.level}"
        return f"custom threshold {self.detection:.2f}"

    @classmethod
    def resolve(
        cls,
        detection: Any = None,
        verification: Any = None,
        metadata: dict[str, Any] | None = None,
        level: str | None = None,
    ) -> Thresholds:
        """Flag if given, else the model's calibrated level (``level``, else the default
        one), else the model's metadata, else the defaults."""
        metadata = metadata or {}

        def pick(flag: Any, key: str, default: float, setting: str) -> float:
            if flag is not None:
                value = parse_threshold(flag, setting)
                if value >= 1.0:  # nothing scores above 1: the face could never be verified
                    raise FaceappError(f"{setting} must be below 1 (nothing is above 1), got 1")
                return value
            if metadata.get(key) is not None:
                return parse_threshold(metadata[key], f"{key} in model metadata")
            return default

        chosen = cls(
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
        rule = metadata.get("rule")
        if not rule:
            if level is not None:
                raise FaceappError(
                    "--security needs a model calibrated with security levels; this model "
                    "has none (use --detection-threshold)"
                )
            return chosen
        kind, levels = _check_rule(rule)
        if not levels:
            if level is not None:
                raise FaceappError("--security needs a model calibrated with security levels")
            return replace(chosen, rule=kind)
        if detection is not None:
            return replace(chosen, rule=kind, level=CUSTOM_LEVEL)
        name = level or DEFAULT_LEVEL
        if name not in levels:
            raise FaceappError(
                f"--security must be one of {', '.join(sorted(levels))}, got {name!r}"
            )
        table = levels[name]
        return replace(chosen, rule=kind, level=name, table=table, detection=table[0][1])


def _check_rule(rule: Any) -> tuple[str, dict[str, tuple[tuple[int, float], ...]]]:
    """The rule in a model's metadata: its kind and each level's threshold table."""
    where = "the rule in the model metadata"
    if not isinstance(rule, dict) or rule.get("kind") not in RULES:
        raise FaceappError(f'{where} must be {{"kind": "centroid" or "vote", ...}}')
    levels: dict[str, tuple[tuple[int, float], ...]] = {}
    for name, values in (rule.get("levels") or {}).items():
        try:
            table = sorted(
                (int(size), parse_threshold(value, f"{where}: level {name}"))
                for size, value in values["thresholds"].items()
            )
        except (TypeError, KeyError, ValueError, AttributeError):
            raise FaceappError(f"{where}: level {name!r} has no thresholds by size") from None
        if not table or table[0][0] < 1:
            raise FaceappError(f"{where}: level {name!r} has no thresholds by size")
        levels[name] = tuple(table)
    return rule["kind"], levels


@dataclass(frozen=True)
class Decision:
    """The outcome of comparing one face with the enrolled faces."""

    verified: bool
    matches: int  # enrolled faces that match one by one (above the threshold)
    total: int  # enrolled faces
    detection_threshold: float
    verification_threshold: float
    score_min: float
    score_mean: float
    score_max: float
    live: bool | None = None  # the liveness check's verdict; None: not checked
    liveness: str = ""  # its reason, in words
    rule: str = "vote"
    score: float = 0.0  # what decided: the score against the mean (centroid), the fraction (vote)
    level: str = ""
    frames: int = 1  # frames fused into this decision (the multi-frame mode)

    @property
    def fraction(self) -> float:
        return self.matches / self.total if self.total else 0.0

    @property
    def bar(self) -> float:
        """What :attr:`score` must be above to verify."""
        return self.verification_threshold if self.rule == "vote" else self.detection_threshold

    @property
    def label(self) -> str:
        return "Verified" if self.verified else "Unverified"

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """E.g. ``Verified: score 0.97 against 5 enrolled faces (needs 0.81, security
        standard)`` or, under the vote, ``Verified: 42/50 matches (84%), scores 0.12-0.99
        (mean 0.81)``; and why a face that matched was still refused: ``...; not live: ...``."""
        if self.rule == "vote" and self.frames > 1:
            text = (
                f"{self.label}: {self.score:.0%} of enrolled faces matched over {self.frames} "
                f"frames (needs more than {self.verification_threshold:.0%})"
            )
        elif self.rule == "vote":
            text = (
                f"{self.label}: {self.matches}/{self.total} matches ({self.fraction:.0%}), "
                f"scores {self.score_min:.2f}-{self.score_max:.2f} (mean {self.score_mean:.2f})"
            )
        else:
            level = f"security {self.level}" if self.level in SECURITY_LEVELS else "custom"
            over = f" over {self.frames} frames" if self.frames > 1 else ""
            text = (
                f"{self.label}: score {self.score:.2f}{over} against {self.total} enrolled "
                f"face(s) (needs {self.detection_threshold:.2f}, {level})"
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

    def fused(self, scores: list[float]) -> Decision:
        """This decision with the mean of several frames' scores deciding instead."""
        score = float(np.mean(scores))
        return replace(self, score=score, verified=score > self.bar, frames=len(scores))

    def to_dict(self) -> dict:
        return {**asdict(self), "fraction": self.fraction}

    @classmethod
    def from_dict(cls, values: dict) -> Decision:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in fields})


def verified(scores: np.ndarray, detection: float, verification: float) -> np.ndarray:
    """The vote, for many faces at once: ``scores`` (faces, enrolled faces) -> one bool per
    face (evaluation sweeps thresholds with it)."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.mean(scores > detection, axis=-1) > verification


def centroid(vectors: np.ndarray) -> np.ndarray:
    """The enrolled faces' mean direction: the mean of their unit-length embeddings, at unit
    length (the one copy: the verifier, calibration and evaluation all use it)."""
    return unit(unit(vectors).mean(axis=-2))


def centroid_scores(head, probes: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """The centroid rule's score of each face (M, D) against the enrolled faces (N, D): the
    head on unit-length embeddings, against their mean direction."""
    probes = unit(np.atleast_2d(probes))
    mean = centroid(gallery)
    return head.pair_scores(probes, np.broadcast_to(mean, probes.shape))


def face_scores(head, probe: np.ndarray, gallery: np.ndarray, rule: str):
    """The face's scores against each enrolled face and, for the centroid rule, against their
    mean: ``(scores (N,), centroid score or None)``. The centroid rule compares unit-length
    embeddings; the vote, the embeddings as they are."""
    if rule != "centroid":
        return head.scores(probe, gallery), None
    return head.scores(unit(probe), unit(gallery)), float(centroid_scores(head, probe, gallery)[0])


def decide(
    scores: np.ndarray, thresholds: Thresholds, centroid_score: float | None = None
) -> Decision:
    """The decision from the face's scores against every enrolled face (``scores``) and,
    for the centroid rule, against their mean (``centroid_score``)."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        raise FaceappError("no verification images to compare with (press 'e' to enrol)")
    if thresholds.rule == "centroid":
        if centroid_score is None:
            raise FaceappError("the centroid rule needs the score against the enrolled faces' mean")
        threshold = thresholds.threshold_for(scores.size)
        accepted, score = float(centroid_score) > threshold, float(centroid_score)
    else:
        threshold = thresholds.detection
        accepted = bool(verified(scores, thresholds.detection, thresholds.verification))
        score = float(np.mean(scores > threshold))
    return Decision(
        verified=bool(accepted),
        matches=int(np.sum(scores > threshold)),
        total=int(scores.size),
        detection_threshold=threshold,
        verification_threshold=thresholds.verification,
        score_min=float(scores.min()),
        score_mean=float(scores.mean()),
        score_max=float(scores.max()),
        rule=thresholds.rule,
        score=score,
        level=thresholds.level,
    )
