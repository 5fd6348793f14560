"""PNG plots a person would rather look at than read: training curves, ROC, score histograms.

Matplotlib runs headless (Agg). Each function writes one file atomically and returns its path.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from faceapp.storage import write_bytes_atomic


def _figure(ncols: int = 1, width: float = 5.0, height: float = 4.0):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)


def _save(plt, fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return write_bytes_atomic(path, buffer.getvalue(), overwrite=True)


def plot_history(history: Mapping[str, Sequence[float]], path: Path) -> Path:
    """Loss and every other metric per epoch, training solid and validation dashed."""
    names = [k for k in history if k != "epoch" and not k.startswith("val_")]
    names = sorted(names, key=lambda k: (k != "loss", k))
    plt, fig, axes = _figure(ncols=max(1, len(names)), width=4.0, height=3.2)
    epochs = np.asarray(history.get("epoch", range(len(next(iter(history.values()))))))
    for ax, name in zip(axes[0], names):
        ax.plot(epochs + 1, history[name], label="train")
        if f"val_{name}" in history:
            ax.plot(epochs + 1, history[f"val_{name}"], "--", label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend()
    return _save(plt, fig, path)


def plot_roc(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: Path) -> Path:
    """ROC curves (TAR against FAR), linear and with a log FAR axis side by side."""
    plt, fig, axes = _figure(ncols=2)
    for ax, log in zip(axes[0], (False, True)):
        for label, (fpr, tpr) in curves.items():
            ax.plot(fpr, tpr, label=label)
        if log:
            ax.set_xscale("log")
            ax.set_xlim(1e-3, 1)
        else:
            ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set_xlabel("false-accept rate")
        ax.set_ylabel("true-accept rate")
        ax.set_title("ROC (log FAR)" if log else "ROC")
        ax.legend(loc="lower right")
    return _save(plt, fig, path)


def plot_score_histograms(labels, scores, path: Path, threshold: float | None = None) -> Path:
    """Genuine and impostor score histograms, with the chosen threshold as a line."""
    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(scores).reshape(-1)
    plt, fig, axes = _figure()
    ax = axes[0][0]
    bins = np.linspace(0, 1, 41)
    ax.hist(scores[labels == 1], bins=bins, alpha=0.6, label="same person (genuine)")
    ax.hist(scores[labels == 0], bins=bins, alpha=0.6, label="different people (impostor)")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3f}")
    ax.set_xlabel("score P(same)")
    ax.set_ylabel("pairs")
    ax.legend()
    return _save(plt, fig, path)


def plot_tradeoff(thresholds, far, frr, path: Path, chosen: float | None = None) -> Path:
    """False-accept and false-reject rates as the detection threshold sweeps."""
    plt, fig, axes = _figure()
    ax = axes[0][0]
    ax.plot(thresholds, far, label="false-accept rate")
    ax.plot(thresholds, frr, label="false-reject rate")
    if chosen is not None:
        ax.axvline(chosen, color="black", linestyle="--", label=f"configured {chosen:.2f}")
    ax.set_xlabel("detection threshold")
    ax.set_ylabel("rate")
    ax.set_ylim(0, 1)
    ax.legend()
    return _save(plt, fig, path)
