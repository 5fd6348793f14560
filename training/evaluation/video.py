"""Real video, not only LFW photos: each talking-head clip as the owner, the others as
strangers, decided by the app's own rule.

For each clip in turn: the faces of ``enrol`` frames from its first seconds are the
verification images (as pressing ``e`` a few times would make them); every ``step``-th frame
after ``probe_from`` seconds is a genuine probe; every ``step``-th frame of each other clip is
an impostor probe. Each probe is decided by the app's rule at the model's thresholds
(:func:`faceapp.verification.rule.verified`), with the face found and cut as the app does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceapp.verification.rule import Thresholds, verified
from faceapp.vision.crops import cut_face
from faceapp.vision.finder import FaceFinder
from faceapp.vision.imaging import preprocess


@dataclass(frozen=True)
class ClipFaces:
    """One clip's frames as faces the model sees, with their frame numbers."""

    name: str
    numbers: list[int]
    faces: np.ndarray  # (N, 100, 100, 3) float inputs


def clip_faces(clip: Path, crop: str, every: int = 1) -> ClipFaces:
    """Every ``every``-th frame's face, found and tracked as in the app's video mode."""
    capture, finder = cv2.VideoCapture(str(clip)), FaceFinder(track=True)
    numbers, faces, number = [], [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        face = finder.find(frame)  # every frame, so the tracking is the app's
        if number % every == 0 and face is not None:
            picture = cut_face(frame, crop, face, searched=True)
            numbers.append(number)
            faces.append(preprocess(picture.image))
        number += 1
    capture.release()
    return ClipFaces(clip.stem, numbers, np.stack(faces) if faces else np.zeros((0, 100, 100, 3)))


def evaluate(
    model,
    clips: list[Path],
    thresholds: Thresholds,
    enrol: int = 5,
    enrol_seconds: float = 2.0,
    probe_from: float = 3.0,
    step: int = 5,
    fps: float = 25.0,
) -> dict:
    """FRR (owner's later frames refused) and FAR (other clips' frames accepted), per clip as
    owner and pooled."""
    every = [clip_faces(clip, model.crop) for clip in clips]
    embedded = {c.name: model.embed(c.faces) if len(c.faces) else np.zeros((0, 1)) for c in every}
    rounds, all_scores, all_labels = [], [], []
    for owner in every:
        vectors = embedded[owner.name]
        numbers = np.array(owner.numbers)
        early = np.flatnonzero(numbers < enrol_seconds * fps)
        gallery = vectors[early[np.linspace(0, len(early) - 1, enrol).round().astype(int)]]
        genuine = vectors[(numbers >= probe_from * fps) & (numbers % step == 0)]
        strangers = np.concatenate(
            [
                embedded[c.name][np.array(c.numbers) % step == 0]
                for c in every
                if c.name != owner.name
            ]
        )
        probes = np.concatenate([genuine, strangers])
        labels = np.array([1] * len(genuine) + [0] * len(strangers))
        scores = np.stack([model.head.scores(p, gallery) for p in probes])
        accepted = verified(scores, thresholds.detection, thresholds.verification)
        rounds.append(
            {
                "owner": owner.name,
                "enrolled": int(len(gallery)),
                "genuine_probes": int(len(genuine)),
                "impostor_probes": int(len(strangers)),
                "frr": float(np.mean(~accepted[labels == 1])),
                "far": float(np.mean(accepted[labels == 0])),
            }
        )
        all_scores.append(accepted)
        all_labels.append(labels)
    accepted, labels = np.concatenate(all_scores), np.concatenate(all_labels)
    return {
        "clips": rounds,
        "frr": float(np.mean(~accepted[labels == 1])),
        "far": float(np.mean(accepted[labels == 0])),
        "genuine_probes": int(np.sum(labels == 1)),
        "impostor_probes": int(np.sum(labels == 0)),
        "detection_threshold": thresholds.detection,
        "verification_threshold": thresholds.verification,
    }
