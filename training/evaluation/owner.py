"""The enrolled-owner scenario, judged with the app's own decision rule.

One person of an identity tree is the "owner": ``enroll`` of their images (seeded choice)
are the verification images, their other images are genuine probes, and one image of each
of ``impostors`` other people are impostor probes. Each probe is scored against every
verification image and decided by :func:`faceapp.verification.rule.decide` (a match is a score
above the detection threshold; verified when the fraction of matches is above the
verification threshold). Reported: false-reject rate (owner probes refused) and
false-accept rate (strangers let in) at the configured thresholds, and a sweep of the
detection threshold showing the trade-off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError
from faceapp.verification.rule import Thresholds, verified
from faceapp.vision.imaging import is_image_file

SWEEP = np.round(np.arange(0.0, 1.0001, 0.01), 2)


@dataclass
class OwnerScenario:
    owner: str
    verification: list[Path]
    genuine: list[Path]
    impostors: list[Path]


def enrolment(images: list[Path], enroll: int, rng: np.random.Generator):
    """``(verification, genuine)``: ``enroll`` of one person's ``images`` drawn at random as
    the verification images (in their original order), the others as genuine probes."""
    chosen = set(rng.choice(len(images), size=enroll, replace=False).tolist())
    return (
        [p for k, p in enumerate(images) if k in chosen],
        [p for k, p in enumerate(images) if k not in chosen],
    )


def build_scenario(
    tree: Path,
    owner: str,
    enroll: int = 50,
    impostors: int = 500,
    seed: int = 0,
    exclude: Iterable[str] = (),
) -> OwnerScenario:
    """Pick the verification images, genuine probes and impostor probes from ``tree``."""
    tree = Path(tree)
    folder = tree / owner
    if not folder.is_dir():
        raise FaceappError(f"owner folder not found: {folder}")
    images = sorted(p for p in folder.iterdir() if is_image_file(p))
    if len(images) < enroll + 1:
        raise FaceappError(
            f"{folder} has {len(images)} images; need more than --enroll {enroll} "
            "(the rest are the genuine probes)"
        )
    rng = np.random.default_rng(seed)
    excluded = set(exclude)
    verification, genuine = enrolment(images, enroll, rng)
    others = sorted(
        p
        for p in tree.iterdir()
        if p.is_dir() and p.name != owner and p.name not in excluded and not p.name.startswith(".")
    )
    picked = rng.permutation(len(others))
    probes = []
    for k in picked:
        files = sorted(p for p in others[k].iterdir() if is_image_file(p))
        if files:
            probes.append(files[0])
        if len(probes) == impostors:
            break
    if not probes:
        raise FaceappError(f"no other people in {tree} to use as impostors")
    return OwnerScenario(owner, verification, genuine, probes)


def probe_scores(scorer, scenario: OwnerScenario) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, labels)``: each loaded probe's scores against the loaded verification images."""
    gallery = [p for p in scenario.verification if scorer.has(p)]
    if not gallery:
        raise FaceappError(f"no readable verification images for {scenario.owner}")
    rows, labels = [], []
    for label, probes in ((1, scenario.genuine), (0, scenario.impostors)):
        for probe in probes:
            if scorer.has(probe):
                rows.append(scorer.against(probe, gallery))
                labels.append(label)
    return np.stack(rows), np.asarray(labels)


def decision_rates(scores: np.ndarray, labels: np.ndarray, thresholds: Thresholds) -> dict:
    """FRR and FAR when each probe is decided by the app's rule at ``thresholds``."""
    return _rates(
        verified(scores, thresholds.detection, thresholds.verification),
        labels,
        thresholds.detection,
        thresholds.verification,
    )


def _rates(accepted: np.ndarray, labels: np.ndarray, detection: float, verification: float) -> dict:
    genuine, impostor = labels == 1, labels == 0
    return {
        "detection_threshold": float(detection),
        "verification_threshold": float(verification),
        "frr": float(np.mean(~accepted[genuine])) if genuine.any() else 0.0,
        "far": float(np.mean(accepted[impostor])) if impostor.any() else 0.0,
    }


def sweep(scores: np.ndarray, labels: np.ndarray, verification: float) -> list[dict]:
    """The same rule for every detection threshold in 0.00, 0.01, ..., 1.00 (vectorised)."""
    rows = []
    for detection in SWEEP:
        rows.append(
            _rates(verified(scores, detection, verification), labels, detection, verification)
        )
    return rows


def lowest_threshold_within(rows: list[dict], max_far: float) -> dict | None:
    """The sweep row with the lowest detection threshold whose FAR is at most ``max_far``
    (None if none): the most lenient setting that still keeps strangers out."""
    allowed = [row for row in rows if row["far"] <= max_far]
    return min(allowed, key=lambda row: row["detection_threshold"]) if allowed else None


def best_detection_threshold(rows: list[dict], max_far: float = 0.01) -> dict | None:
    """The sweep row with the lowest FRR among those with FAR <= ``max_far`` (None if none)."""
    allowed = [row for row in rows if row["far"] <= max_far]
    return (
        min(allowed, key=lambda row: (row["frr"], row["detection_threshold"])) if allowed else None
    )
