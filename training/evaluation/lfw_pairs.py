"""The LFW pairs protocol: per-fold accuracy with the threshold chosen on the other folds.

``pairs.txt`` (View 2): a header ``FOLDS<TAB>N``, then per fold N same-person lines
``Name<TAB>i<TAB>j`` and N different-person lines ``Name1<TAB>i<TAB>Name2<TAB>j``
(1-based image numbers, ``Name/Name_%04d.jpg``). ``pairsDevTrain.txt`` / ``pairsDevTest.txt``
(View 1) have a header ``N`` and are read as one fold.

For each chosen fold, the threshold of best accuracy on the *other* chosen folds is applied
to it (the LFW convention); the report gives mean and standard deviation of those
accuracies, plus ROC AUC, EER and TAR at 1% and 0.1% FAR over all chosen pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError
from training.evaluation import metrics


@dataclass(frozen=True)
class LfwPair:
    fold: int
    first_person: str
    first_number: int
    second_person: str
    second_number: int

    @property
    def same(self) -> int:
        return int(self.first_person == self.second_person)

    def paths(self, root: Path) -> tuple[Path, Path]:
        return (
            root / self.first_person / f"{self.first_person}_{self.first_number:04d}.jpg",
            root / self.second_person / f"{self.second_person}_{self.second_number:04d}.jpg",
        )


def parse_folds(text: str | None) -> list[int] | None:
    """``"1-3,7"`` -> ``[1, 2, 3, 7]``; None or ``"all"`` -> None (every fold)."""
    if text is None or text.strip().lower() in ("", "all"):
        return None
    folds: set[int] = set()
    try:
        for part in text.split(","):
            if "-" in part:
                low, high = part.split("-")
                folds.update(range(int(low), int(high) + 1))
            else:
                folds.add(int(part))
    except ValueError:
        raise FaceappError(f"--folds must look like 1-3,7 or all, got {text!r}") from None
    return sorted(folds)


def read_pairs_file(
    path: str | Path, folds: Sequence[int] | None = None, limit: int | None = None
) -> list[LfwPair]:
    """The pairs of ``path`` in the chosen folds (1-based); ``limit`` same+different per fold."""
    path = Path(path)
    try:
        lines = [line.rstrip("\r\n") for line in path.read_text(encoding="utf-8").splitlines()]
    except OSError as error:
        raise FaceappError(f"cannot read pairs file {path}: {error.strerror}") from None
    except UnicodeDecodeError:  # e.g. an archive or an image given by mistake
        raise FaceappError(f"cannot read pairs file {path}: not a text file") from None
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise FaceappError(f"pairs file is empty: {path}")
    header = lines[0].split()
    try:
        n_folds, per_fold = (
            (int(header[0]), int(header[1])) if len(header) == 2 else (1, int(header[0]))
        )
    except (ValueError, IndexError):
        raise FaceappError(f"{path}:1: header must be 'FOLDS<TAB>N' or 'N'") from None
    body = lines[1:]
    if len(body) != n_folds * 2 * per_fold:
        raise FaceappError(
            f"{path}: header promises {n_folds} folds of {per_fold}+{per_fold} pairs "
            f"but the file has {len(body)} pair lines"
        )
    wanted = set(folds) if folds else set(range(1, n_folds + 1))
    unknown = wanted - set(range(1, n_folds + 1))
    if unknown:
        raise FaceappError(f"{path} has folds 1-{n_folds}; no fold {sorted(unknown)[0]}")
    pairs = []
    for number, line in enumerate(body, start=2):
        offset = number - 2
        fold = offset // (2 * per_fold) + 1
        within = offset % (2 * per_fold)
        if fold not in wanted:
            continue
        if limit is not None and within % per_fold >= limit:
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        try:
            if len(fields) == 3:
                pair = LfwPair(fold, fields[0], int(fields[1]), fields[0], int(fields[2]))
            elif len(fields) == 4:
                pair = LfwPair(fold, fields[0], int(fields[1]), fields[2], int(fields[3]))
            else:
                raise ValueError
        except ValueError:
            raise FaceappError(f"{path}:{number}: not a pair line: {line!r}") from None
        pairs.append(pair)
    return pairs


def cross_fold(folds: np.ndarray, labels: np.ndarray, scores: np.ndarray) -> list[dict]:
    """Per fold: threshold of best accuracy on the other folds, and the accuracy it gets here.

    With a single fold there are no other folds: its own best threshold is used and the
    row says so (``threshold_from: "same fold"``), an optimistic number.
    """
    rows = []
    chosen = sorted(set(folds.tolist()))
    for fold in chosen:
        here = folds == fold
        others = ~here if len(chosen) > 1 else here
        threshold, _ = metrics.best_accuracy_threshold(labels[others], scores[others])
        rates = metrics.rates_at(labels[here], scores[here], threshold)
        rows.append(
            {
                "fold": int(fold),
                "pairs": int(here.sum()),
                "threshold": threshold,
                "accuracy": rates["accuracy"],
                "threshold_from": "other folds" if len(chosen) > 1 else "same fold",
            }
        )
    return rows


def protocol_report(folds, labels, scores) -> dict:
    """Per-fold rows, mean/std accuracy, AUC, EER, TAR at 1% and 0.1% FAR."""
    folds, labels, scores = np.asarray(folds), np.asarray(labels), np.asarray(scores)
    rows = cross_fold(folds, labels, scores)
    accuracies = np.array([row["accuracy"] for row in rows])
    eer, eer_threshold = metrics.equal_error_rate(labels, scores)
    report = {
        "folds": rows,
        "mean_accuracy": float(accuracies.mean()),
        "std_accuracy": float(accuracies.std()),
        "roc_auc": metrics.roc_auc(labels, scores),
        "eer": eer,
        "eer_threshold": eer_threshold,
        "pairs": int(labels.size),
    }
    for far, key in ((0.01, "tar_at_far_1e-2"), (0.001, "tar_at_far_1e-3")):
        threshold, tar, _ = metrics.threshold_at_far(labels, scores, far)
        report[key] = tar
        report[key.replace("tar", "threshold")] = threshold
    return report
