"""The app's detection threshold, chosen the way the app decides, on people never trained on.

The app verifies a face when more than half of its ~50 verification images score above the
detection threshold (:func:`faceapp.verification.rule.decide`). A threshold that is best for single
pairs is not best for that vote, so the recipes hold a few *calibration owners* out of
training (the people with the most photos, so that each can enrol 50 and still have genuine
probes) and a few hundred single-photo *calibration impostors*, replay the app's rule on
them (:mod:`training.evaluation.owner`) and keep the most lenient detection threshold whose
false-accept rate stays within ``max_far``. Nobody used here is trained on, nor in the
held-out evaluation folds (they are removed from the tree before this runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.evaluation.owner import (
    OwnerScenario,
    enrolment,
    lowest_threshold_within,
    probe_scores,
    sweep,
)

CALIBRATION_MAX_FAR = 0.005  # half the 1% target: 1,500 impostor decisions are a small sample


@dataclass
class Calibration:
    scenarios: list[OwnerScenario]

    @property
    def paths(self) -> list[Path]:
        return [p for s in self.scenarios for p in s.verification + s.genuine + s.impostors]


def hold_out(
    people: dict[str, list[Path]], owners: int, impostors: int, enroll: int = 50, seed: int = 0
) -> tuple[Calibration | None, dict[str, list[Path]]]:
    """Take ``owners`` (most photos first; more than ``enroll`` each) and ``impostors``
    single-photo people out of ``people``. Returns ``(calibration, the other people)``;
    ``calibration`` is None when ``owners`` is 0 or nobody qualifies."""
    if owners <= 0:
        return None, people
    rng = np.random.default_rng(seed)
    ranked = sorted(
        (n for n in people if len(people[n]) > enroll), key=lambda n: (-len(people[n]), n)
    )[:owners]
    singles = sorted(n for n in people if len(people[n]) == 1)
    strangers = [singles[k] for k in sorted(rng.permutation(len(singles))[:impostors])]
    if not ranked or not strangers:
        return None, people
    probes = [people[n][0] for n in strangers]
    scenarios = []
    for name in ranked:
        verification, genuine = enrolment(sorted(people[name]), enroll, rng)
        scenarios.append(OwnerScenario(name, verification, genuine, probes))
    taken = set(ranked) | set(strangers)
    return Calibration(scenarios), {n: v for n, v in people.items() if n not in taken}


def detection_threshold(
    calibration: Calibration, scorer, verification: float, max_far: float = CALIBRATION_MAX_FAR
) -> dict | None:
    """The lowest detection threshold whose pooled false-accept rate over the calibration
    owners is at most ``max_far`` under the app's rule, with its rates; None if none."""
    scores, labels = [], []
    for scenario in calibration.scenarios:
        s, y = probe_scores(scorer, scenario)
        scores.append(s)
        labels.append(y)
    width = min(s.shape[1] for s in scores)  # same gallery size for pooling
    pooled = np.concatenate([s[:, :width] for s in scores])
    row = lowest_threshold_within(sweep(pooled, np.concatenate(labels), verification), max_far)
    if row is None:
        return None
    return {
        **row,
        "max_far": max_far,
        "owners": [s.owner for s in calibration.scenarios],
        "genuine_probes": int(sum(np.sum(y == 1) for y in labels)),
        "impostor_decisions": int(sum(np.sum(y == 0) for y in labels)),
    }
