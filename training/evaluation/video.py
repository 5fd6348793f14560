"""Real video, not only LFW photos: each talking-head clip as the owner, the others as
strangers, decided by the app's own rule.

For each clip in turn: the faces of ``enrol`` frames from its first seconds are the enrolled
faces (as pressing ``e`` a few times would make them); its frames after ``probe_from``
seconds are the owner's, every frame of each other clip a stranger's. Each is scored by the
model's rule (:func:`training.evaluation.owners.model_contender`), with the face found,
tracked and cut as the app does; single frames and timed attempts (frames fused as the
multi-frame mode fuses them) are both counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceapp.vision.finder import FaceFinder


@dataclass(frozen=True)
class ClipFaces:
    """One clip's frames as the model embeds them, with their frame numbers."""

    name: str
    numbers: list[int]
    vectors: np.ndarray  # (N, D)


def clip_faces(clip: Path, model, every: int = 1) -> ClipFaces:
    """Every ``every``-th frame's face, found and tracked as in the app's video mode, cut
    and embedded by ``model``."""
    capture, finder = cv2.VideoCapture(str(clip)), FaceFinder(track=True)
    numbers, pictures, number = [], [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        face = finder.find(frame)  # every frame, so the tracking is the app's
        if number % every == 0 and face is not None:
            numbers.append(number)
            pictures.append(model.picture(frame, face, searched=True))
        number += 1
    capture.release()
    return ClipFaces(clip.stem, numbers, model.embed_pictures(pictures))


def evaluate(
    model,
    clips: list[Path],
    enrol: int = 5,
    enrol_seconds: float = 2.0,
    probe_from: float = 3.0,
    step: int = 5,
    fps: float = 25.0,
) -> dict:
    """FRR (the owner's later frames refused) and FAR (other clips' frames accepted) at each
    of the model's operating points, for single frames and for timed attempts (the multi-frame
    mode: the mean of :data:`FUSED_FRAMES` consecutive frames' scores decides), per clip as
    owner and pooled."""
    from faceapp.verification.timed import FUSED_FRAMES
    from training.evaluation.owners import model_rule

    scorer, operating_points = model_rule(model)
    every = [clip_faces(clip, model) for clip in clips]
    points = operating_points(enrol)
    rounds = []
    pooled: dict[str, dict[str, list[np.ndarray]]] = {
        k: {"genuine": [], "impostor": []} for k in ("frame", "attempt")
    }
    for owner in every:
        numbers = np.array(owner.numbers)
        early = np.flatnonzero(numbers < enrol_seconds * fps)
        gallery = owner.vectors[early[np.linspace(0, len(early) - 1, enrol).round().astype(int)]]
        later = numbers >= probe_from * fps
        genuine = scorer(gallery, owner.vectors[later])
        impostor = [scorer(gallery, c.vectors) for c in every if c.name != owner.name]
        kinds = {
            "frame": (genuine[::step], np.concatenate([s[::step] for s in impostor])),
            "attempt": (
                fused(genuine, step, FUSED_FRAMES),
                np.concatenate([fused(s, step, FUSED_FRAMES) for s in impostor]),
            ),
        }
        row: dict = {"owner": owner.name, "enrolled": int(len(gallery))}
        for kind, (own, strange) in kinds.items():
            pooled[kind]["genuine"].append(own)
            pooled[kind]["impostor"].append(strange)
            row[kind] = rates(own, strange, points)
        rounds.append(row)
    report: dict = {"clips": rounds, "operating_points": points, "fused_frames": FUSED_FRAMES}
    for kind, values in pooled.items():
        report[kind] = rates(
            np.concatenate(values["genuine"]), np.concatenate(values["impostor"]), points
        )
    return report


def fused(scores: np.ndarray, step: int, frames: int) -> np.ndarray:
    """The mean of ``frames`` consecutive scores, for attempts starting every ``step``-th."""
    starts = range(0, len(scores) - frames + 1, step)
    return np.array([scores[k : k + frames].mean() for k in starts])


def rates(genuine: np.ndarray, impostor: np.ndarray, points: dict[str, float]) -> dict:
    """FRR and FAR at each operating point, with the counts."""
    return {
        point: {
            "frr": float(np.mean(genuine <= threshold)),
            "far": float(np.mean(impostor > threshold)),
            "genuine": int(len(genuine)),
            "impostor": int(len(impostor)),
        }
        for point, threshold in points.items()
    }
