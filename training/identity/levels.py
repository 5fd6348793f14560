"""Security levels for the centroid rule: the Siamese head and the thresholds that keep
strangers out at a chosen rate, calibrated on people used for nothing else.

The people of an identity tree are split once, by a seed: the held-out ones (the LFW pairs
folds kept for measuring) and half of the rest go to *evaluation*; the other half is the
*calibration* group, the only people these numbers are fitted on.

* The head (:class:`faceapp.models.head.Head`, form ``squared``): a logistic regression of
  "same person" on the squared distance between two unit-length embeddings, on the
  calibration group's pairs. Two numbers (one weight shared by every dimension, and a bias):
  it turns a distance into P(same person), and the rule's thresholds are on that score.
* The levels: for each number of enrolled faces in :data:`GALLERY_SIZES`, every calibration
  person with that many photos enrols them (a seeded choice) and every other calibration
  photo is a stranger's attempt; the level's threshold is the lowest that lets at most its
  share of those strangers in (:data:`LEVELS`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from faceapp.models.head import Head
from faceapp.numeric import unit
from training.evaluation.owners import centroid_scorer, owner_trials, threshold_at_far

GALLERY_SIZES = (1, 2, 3, 5, 10, 20)
LEVELS = {"standard": 1e-3, "high": 1e-4}  # the share of strangers each level lets in
GENUINE_PAIRS_PER_PERSON = 10
IMPOSTOR_PAIRS_PER_GENUINE = 4


def people_split(
    people: dict[str, list[Path]], held_out: set[str], seed: int
) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """``(calibration, evaluation)``: half of the people not held out (a seeded choice) to
    calibrate on; the other half and every held-out person to measure on."""
    free = sorted(set(people) - held_out)
    order = np.random.default_rng(seed).permutation(len(free))
    calibration = {free[k]: people[free[k]] for k in order[: len(free) // 2]}
    evaluation = {name: photos for name, photos in people.items() if name not in calibration}
    return calibration, evaluation


def head_pairs(
    people: dict[str, list[Path]], seed: int
) -> tuple[list[tuple[Path, Path]], np.ndarray]:
    """Same-person pairs (up to :data:`GENUINE_PAIRS_PER_PERSON` each) and four times as
    many different-person pairs, with their labels (1 = same)."""
    rng = np.random.default_rng(seed)
    genuine = []
    for name in sorted(people):
        photos = people[name]
        pairs = [(a, b) for i, a in enumerate(photos) for b in photos[i + 1 :]]
        for k in rng.permutation(len(pairs))[:GENUINE_PAIRS_PER_PERSON]:
            genuine.append(pairs[k])
    names = sorted(people)
    impostor: list[tuple[Path, Path]] = []
    while len(impostor) < IMPOSTOR_PAIRS_PER_GENUINE * len(genuine):
        first, second = rng.choice(len(names), 2, replace=False)
        impostor.append(
            (
                people[names[first]][rng.integers(len(people[names[first]]))],
                people[names[second]][rng.integers(len(people[names[second]]))],
            )
        )
    labels = np.array([1] * len(genuine) + [0] * len(impostor))
    return genuine + impostor, labels


def fit_unit_head(
    vectors: Callable[[list[Path]], np.ndarray], people: dict[str, list[Path]], seed: int
) -> Head:
    """The head fitted on the calibration group's pairs of unit-length embeddings."""
    from training.identity.classifier import fit_head

    pairs, labels = head_pairs(people, seed)
    first = unit(vectors([a for a, _ in pairs]))
    second = unit(vectors([b for _, b in pairs]))
    kernel, bias = fit_head((first - second) ** 2, labels, steps=2000, head="tied")
    return Head(kernel, bias, "squared")


def calibrate_levels(
    vectors: Callable[[list[Path]], np.ndarray],
    people: dict[str, list[Path]],
    head: Head,
    seed: int,
) -> dict:
    """The centroid rule with each level's thresholds by the number of faces enrolled, and
    how many owners and strangers' attempts each was set on."""
    levels: dict[str, dict] = {
        name: {"far": far, "thresholds": {}, "calibrated_on": {}} for name, far in LEVELS.items()
    }
    for size in GALLERY_SIZES:
        trials = owner_trials(
            vectors, people, size, centroid_scorer(head), size, seed, genuine=False
        )
        if len(trials.impostor) == 0:
            continue
        for name, far in LEVELS.items():
            levels[name]["thresholds"][str(size)] = round(threshold_at_far(trials.impostor, far), 6)
            levels[name]["calibrated_on"][str(size)] = {
                "owners": trials.owners,
                "stranger_attempts": int(len(trials.impostor)),
            }
    return {"kind": "centroid", "levels": levels}
