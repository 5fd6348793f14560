"""Many owners, as users set faceapp up: how often a stranger is let in, how often the owner
is refused, with the number of faces a user enrols.

Every person of a group with enough photos is an owner in turn: ``enrol`` of their photos
(a seeded choice) are the enrolled faces, their other photos the owner's own attempts, and
every photo of everyone else in the group a stranger's attempt. Each attempt gets the rule's
*decisive score* — accepted exactly when it is above the rule's threshold — so one set of
scores gives both the error rates at the model's own thresholds and the whole trade-off:

* centroid rule: the face's score against the enrolled faces' mean
  (:func:`faceapp.verification.rule.face_scores`);
* vote (older models, and face_recognition's way): more than a fraction ``v`` of the ``n``
  enrolled faces must match, so the decisive score is the ``floor(v * n) + 1``-th best score
  among them.

Rates come with their counts and a 95% upper bound (Clopper-Pearson), so a "0 of 300,000" is
read as what it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.verification.rule import centroid_scores

# (enrolled vectors (n, D), attempts (m, D)) -> decisive scores (m,)
Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class OwnerTrials:
    """The decisive scores of owners' own attempts and of strangers' attempts."""

    owners: int
    genuine: np.ndarray
    impostor: np.ndarray


def centroid_scorer(head) -> Scorer:
    """The centroid rule's decisive score under ``head``."""
    return lambda gallery, probes: centroid_scores(head, probes, gallery)


def vote_scorer(pair_scores: Callable[[np.ndarray, np.ndarray], np.ndarray], fraction: float):
    """The vote's decisive score: the ``floor(fraction * n) + 1``-th best of the attempt's
    scores against the ``n`` enrolled faces (``pair_scores(probes, gallery)`` -> (m, n))."""

    def score(gallery: np.ndarray, probes: np.ndarray) -> np.ndarray:
        scores = np.sort(pair_scores(probes, gallery), axis=1)[:, ::-1]
        needed = min(int(math.floor(fraction * gallery.shape[0])) + 1, gallery.shape[0])
        return scores[:, needed - 1]

    return score


def owner_trials(
    vectors: Callable[[list[Path]], np.ndarray],
    people: dict[str, list[Path]],
    enrol: int,
    scorer: Scorer,
    min_photos: int,
    seed: int,
    genuine: bool = True,
) -> OwnerTrials:
    """Every person with ``min_photos`` or more as the owner once (``enrol`` photos
    enrolled, a seeded choice); everyone else's photos as strangers. ``genuine=False``
    skips the owners' own attempts (calibrating a false-accept rate needs none)."""
    rng = np.random.default_rng(seed)
    names = sorted(people)
    everyone = [p for name in names for p in people[name]]
    whose = np.array([name for name in names for _ in people[name]])
    every_vector = vectors(everyone)
    owners = [name for name in names if len(people[name]) >= min_photos]
    own, strange = [], []
    for owner in owners:
        photos = list(people[owner])
        rng.shuffle(photos)
        gallery = vectors(photos[:enrol])
        if genuine and len(photos) > enrol:
            own.append(scorer(gallery, vectors(photos[enrol:])))
        strange.append(scorer(gallery, every_vector[whose != owner]))
    return OwnerTrials(
        len(owners),
        np.concatenate(own) if own else np.zeros(0),
        np.concatenate(strange) if strange else np.zeros(0),
    )


def upper_bound(errors: int, trials: int, confidence: float = 0.95) -> float:
    """The one-sided Clopper-Pearson upper bound of a rate seen as ``errors`` of ``trials``:
    the rate ``p`` at which seeing ``errors`` or fewer has probability ``1 - confidence``
    (for 0 errors, ``1 - 0.05 ** (1 / trials)``, about 3 / trials)."""
    if trials == 0 or errors >= trials:
        return 1.0

    def at_most(p: float) -> float:  # P(X <= errors) for X ~ Binomial(trials, p)
        if p <= 0.0:
            return 1.0
        if p >= 1.0:
            return 0.0
        terms = [
            math.lgamma(trials + 1)
            - math.lgamma(k + 1)
            - math.lgamma(trials - k + 1)
            + k * math.log(p)
            + (trials - k) * math.log1p(-p)
            for k in range(errors + 1)
        ]
        top = max(terms)
        return math.exp(top) * sum(math.exp(term - top) for term in terms)

    low, high = errors / trials, 1.0
    for _ in range(100):  # bisection: at_most falls as p grows
        middle = (low + high) / 2
        low, high = (middle, high) if at_most(middle) > 1 - confidence else (low, middle)
    return high


def rate(accepted: np.ndarray) -> dict:
    """A rate with its count, trials and 95% upper bound."""
    count, trials = int(np.sum(accepted)), int(accepted.size)
    return {
        "rate": count / trials if trials else None,
        "count": count,
        "of": trials,
        "upper_95": upper_bound(count, trials),
    }


def threshold_at_far(impostor: np.ndarray, far: float) -> float:
    """The lowest threshold at which at most ``far`` of the strangers' scores are above."""
    ordered = np.sort(impostor)[::-1]
    allowed = int(math.floor(far * len(ordered)))
    return float(ordered[allowed]) if allowed < len(ordered) else float(ordered[-1])


@dataclass
class Contender:
    """One way of deciding, to measure beside the others: how it embeds a photo, its
    decisive score, and its operating thresholds by the number of faces enrolled."""

    name: str
    vectors: Callable[[list[Path]], np.ndarray]
    scorer: Scorer
    operating_points: Callable[[int], dict[str, float]]


def model_rule(model) -> tuple[Scorer, Callable[[int], dict[str, float]]]:
    """A faceapp model's decisive score and its operating thresholds by faces enrolled: the
    centroid rule at each security level, or the vote at its thresholds (models calibrated
    before the levels)."""
    from faceapp.verification.rule import SECURITY_LEVELS, Thresholds

    values = model.metadata.values
    if Thresholds.resolve(metadata=values).rule == "centroid":
        levels = [lv for lv in SECURITY_LEVELS if lv in values["rule"].get("levels", {})]
        return centroid_scorer(model.head), lambda size: {
            level: Thresholds.resolve(metadata=values, level=level).threshold_for(size)
            for level in levels
        }
    thresholds = Thresholds.resolve(metadata=values)
    scorer = vote_scorer(pair_matrix(model.head.pair_scores), thresholds.verification)
    return scorer, lambda size: {"its thresholds": thresholds.detection}


def model_contender(name: str, model, vectors: Callable[[list[Path]], np.ndarray]) -> Contender:
    """A faceapp model under its own rule (:func:`model_rule`)."""
    return Contender(name, vectors, *model_rule(model))


def dlib_way_contender(vectors: Callable[[list[Path]], np.ndarray]) -> Contender:
    """face_recognition's way: dlib's pipeline, a match within Euclidean distance 0.6, a
    majority of the enrolled faces (scores are minus the distance)."""
    from training.evaluation.dlib_way import TOLERANCE

    def minus_distance(first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return -np.linalg.norm(first - second, axis=-1)

    return Contender(
        "face_recognition's way (dlib, tolerance 0.6, vote)",
        vectors,
        vote_scorer(pair_matrix(minus_distance), 0.5),
        lambda size: {"tolerance 0.6": -TOLERANCE},
    )


def pair_matrix(pair_scores):
    """``pair_scores(rows, rows)`` turned into ``(probes (m, D), gallery (n, D)) -> (m, n)``."""

    def matrix(probes: np.ndarray, gallery: np.ndarray) -> np.ndarray:
        m, n = len(probes), len(gallery)
        return np.asarray(
            pair_scores(np.repeat(probes, n, axis=0), np.tile(gallery, (m, 1)))
        ).reshape(m, n)

    return matrix


def compare(
    contenders: list[Contender],
    people: dict[str, list[Path]],
    sizes=(5, 1, 10),
    seeds=(0, 1, 2, 3, 4),
    min_photos: int = 12,
    fars=(1e-2, 1e-3, 1e-4),
) -> dict:
    """Every contender on the same owners, strangers and enrolled photos: for each number of
    faces enrolled, the error rates at its operating points pooled over the ``seeds`` (which
    photos are enrolled), their spread from seed to seed, and the FRR at each FAR target."""
    results: dict = {}
    for contender in contenders:
        by_size = {}
        for size in sizes:
            runs = [
                owner_trials(
                    contender.vectors,
                    people,
                    size,
                    contender.scorer,
                    max(min_photos, size + 2),
                    seed,
                )
                for seed in seeds
            ]
            genuine = np.concatenate([r.genuine for r in runs])
            impostor = np.concatenate([r.impostor for r in runs])
            points = {}
            for point, threshold in contender.operating_points(size).items():
                per_seed = [
                    (float(np.mean(r.genuine <= threshold)), float(np.mean(r.impostor > threshold)))
                    for r in runs
                ]
                points[point] = {
                    "threshold": threshold,
                    "frr": rate(genuine <= threshold),
                    "far": rate(impostor > threshold),
                    "frr_range": [min(f for f, _ in per_seed), max(f for f, _ in per_seed)],
                    "far_range": [min(a for _, a in per_seed), max(a for _, a in per_seed)],
                }
            by_size[str(size)] = {
                "owners": runs[0].owners,
                "genuine_attempts": int(len(genuine)),
                "stranger_attempts": int(len(impostor)),
                "operating_points": points,
                "frr_at_far": {
                    f"{far:g}": float(np.mean(genuine <= threshold_at_far(impostor, far)))
                    for far in fars
                },
            }
        results[contender.name] = by_size
    return results


def markdown(results: dict, size: int = 5) -> str:
    """The comparison as a table, for ``size`` faces enrolled."""
    lines = [
        "| | operating point | FRR | FAR (95% upper bound) | FRR at FAR 1% | 0.1% | 0.01% |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, by_size in results.items():
        row = by_size[str(size)]
        tradeoff = " | ".join(f"{row['frr_at_far'][k]:.2%}" for k in ("0.01", "0.001", "0.0001"))
        for point, values in row["operating_points"].items():
            frr, far = values["frr"], values["far"]
            lines.append(
                f"| {name} | {point} | {frr['rate']:.2%} ({frr['count']}/{frr['of']}) | "
                f"{far['rate']:.4%} ({far['count']}/{far['of']}; <= {far['upper_95']:.4%}) | "
                f"{tradeoff} |"
            )
    return "\n".join(lines)
