"""Error rates of a verifier from labels (1 = same person) and scores (P(same)).

A pair is *accepted* when its score is strictly above the threshold, the app's rule
(``score > detection_threshold``). Everything here is plain NumPy: ROC curve, ROC AUC,
equal error rate, the threshold for a target false-accept rate, the threshold of best
accuracy, and precision/recall/accuracy at a threshold.

Vocabulary: FAR (false-accept rate) = impostor pairs accepted / impostor pairs = FPR;
TAR (true-accept rate) = genuine pairs accepted / genuine pairs = TPR = recall;
FRR = 1 - TAR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceapp.errors import FaceappError


def _check(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if labels.shape != scores.shape:
        raise FaceappError(f"{labels.size} labels but {scores.size} scores")
    if not np.isin(labels, (0, 1)).all():
        raise FaceappError("labels must be 0 or 1")
    if labels.sum() == 0 or labels.sum() == labels.size:
        raise FaceappError("need both genuine (1) and impostor (0) pairs to measure error rates")
    return labels, scores


@dataclass(frozen=True)
class Roc:
    """ROC points from accepting nothing (first) to accepting everything (last).

    ``thresholds[k]`` accepts exactly the pairs counted in ``fpr[k]``/``tpr[k]``
    (scores strictly above it); thresholds lie midway between distinct scores.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    positives: int
    negatives: int


def roc_curve(labels, scores) -> Roc:
    labels, scores = _check(labels, scores)
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    ends = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # last index of each distinct score
    tps = np.cumsum(y)[ends]
    fps = (ends + 1) - tps
    below = np.r_[s[ends[1:]], s[-1] - 1e-6]  # the next lower distinct score
    thresholds = np.r_[s[0], (s[ends] + below) / 2]
    thresholds[-1] = below[-1]
    positives, negatives = int(y.sum()), int(y.size - y.sum())
    return Roc(
        fpr=np.r_[0.0, fps / negatives],
        tpr=np.r_[0.0, tps / positives],
        thresholds=thresholds,
        positives=positives,
        negatives=negatives,
    )


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve (trapezoids: ties count half)."""
    roc = roc_curve(labels, scores)
    return float(np.trapezoid(roc.tpr, roc.fpr))


def equal_error_rate(labels, scores) -> tuple[float, float]:
    """``(eer, threshold)``: where the false-accept and false-reject rates meet."""
    roc = roc_curve(labels, scores)
    frr = 1.0 - roc.tpr
    k = int(np.argmin(np.abs(frr - roc.fpr)))
    return float((frr[k] + roc.fpr[k]) / 2), float(roc.thresholds[k])


def threshold_at_far(labels, scores, target_far: float) -> tuple[float, float, float]:
    """``(threshold, tar, far)``: the most accepting threshold whose FAR <= ``target_far``."""
    roc = roc_curve(labels, scores)
    allowed = np.nonzero(roc.fpr <= target_far + 1e-12)[0]
    k = int(allowed[np.argmax(roc.tpr[allowed])])
    return float(roc.thresholds[k]), float(roc.tpr[k]), float(roc.fpr[k])


def best_accuracy_threshold(labels, scores) -> tuple[float, float]:
    """``(threshold, accuracy)`` of the threshold with the highest accuracy on these pairs."""
    roc = roc_curve(labels, scores)
    correct = roc.tpr * roc.positives + (1.0 - roc.fpr) * roc.negatives
    k = int(np.argmax(correct))
    return float(roc.thresholds[k]), float(correct[k] / (roc.positives + roc.negatives))


def rates_at(labels, scores, threshold: float) -> dict[str, float]:
    """Accuracy, precision, recall (= TAR), FAR and FRR when accepting ``score > threshold``."""
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    accepted = np.asarray(scores).reshape(-1) > threshold
    tp = int(np.sum(accepted & (labels == 1)))
    fp = int(np.sum(accepted & (labels == 0)))
    positives, negatives = int(np.sum(labels == 1)), int(np.sum(labels == 0))
    recall = tp / positives if positives else 0.0
    return {
        "threshold": float(threshold),
        "accuracy": float(np.mean(accepted == (labels == 1))) if labels.size else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": recall,
        "far": fp / negatives if negatives else 0.0,
        "frr": 1.0 - recall if positives else 0.0,
    }


def summary(labels, scores, threshold: float = 0.5, target_far: float = 0.01) -> dict:
    """Everything worth reporting about one set of scored pairs, as plain floats."""
    labels, scores = _check(labels, scores)
    eer, eer_threshold = equal_error_rate(labels, scores)
    far_threshold, tar, far = threshold_at_far(labels, scores, target_far)
    best_threshold, best_accuracy = best_accuracy_threshold(labels, scores)
    return {
        "pairs": int(labels.size),
        "genuine_pairs": int(labels.sum()),
        "impostor_pairs": int(labels.size - labels.sum()),
        "at_threshold": rates_at(labels, scores, threshold),
        "roc_auc": roc_auc(labels, scores),
        "eer": eer,
        "eer_threshold": eer_threshold,
        "target_far": target_far,
        "threshold_at_target_far": far_threshold,
        "tar_at_target_far": tar,
        "best_accuracy": best_accuracy,
        "best_accuracy_threshold": best_threshold,
    }
