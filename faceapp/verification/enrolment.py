"""Enrolment: the faces every check compares against, kept so they can be seen and undone.

Each enrolled face is two files in ``<data root>/verification_images/``: the picture (what a
capture keeps, :func:`faceapp.vision.crops.kept_picture`) under a new unique name, and a
hidden record beside it, ``.<name>.json``: where it came from (the photo's file name, a
video's name and second, or "camera"), when, and two fingerprints — of the source's pixels
(the same picture twice) and of the aligned face (a near-identical frame). Faces enrolled
before records existed are listed with an unknown source.

Refused, with the reason and what to do, so the gallery stays good: an image without a face
(unless forced: the central box is kept, as the original tutorial did), a face too dark,
blurred, small or turned away (:func:`faceapp.vision.quality.enrolment_problem`), a picture
already enrolled, and a frame nearly identical to one enrolled (press ``e`` again after
turning your head a little).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from faceapp.errors import FaceappError
from faceapp.paths import DataRoot
from faceapp.storage import save_image, write_bytes_atomic
from faceapp.vision.crops import kept_picture
from faceapp.vision.finder import Face, find_face
from faceapp.vision.imaging import IMAGE_SUFFIXES, ImageSource, list_images, load_bgr
from faceapp.vision.quality import enrolment_problem

HASH_SIDE = 16  # the aligned face's fingerprint: a 16x16 difference hash (256 bits)
# Hamming distance (of 256 bits) at or below which two faces are the same frame, measured on
# the shared clips: consecutive frames (0.04 s apart) 10-13 in the median, frames 1 s apart
# 48-72 (5th percentile 17-34), two LFW photos of one person 52 at the least.
NEAR_IDENTICAL = 12
VIDEO_FRAMES = 5  # frames a video enrols, spread over its length
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"})


class EnrolmentError(FaceappError):
    """An image was not enrolled, for a reason the user can act on."""


@dataclass(frozen=True)
class EnrolledFace:
    """One enrolled face: its picture's file, and where it came from."""

    path: Path
    source: str  # a file name, "camera", "clip.mp4 at 3.2 s"; "" when enrolled before records
    enrolled_at: str  # ISO 8601, "" when unknown
    pixels: str  # SHA-256 of the source image's pixels, "" when unknown
    fingerprint: str  # the aligned face's difference hash (hex), "" when none

    @property
    def name(self) -> str:
        return self.path.name

    def describe(self) -> str:
        """E.g. ``20261205-101500-1a2b3c4d.jpg (from me1.jpg, 2026-12-05 10:15)``."""
        when = self.enrolled_at[:16].replace("T", " ")
        source = self.source or "source unknown"
        return f"{self.name} (from {source}" + (f", {when})" if when else ")")


def record_path(picture: Path) -> Path:
    """``x.jpg`` -> ``.x.json`` beside it (hidden: galleries and listings skip it)."""
    return picture.with_name(f".{picture.stem}.json")


def fingerprint(face_bgr: np.ndarray) -> str:
    """A difference hash of a face picture: which of two neighbouring pixels is brighter,
    on a small grey copy. Robust to JPEG and slight light changes; differs once the head
    moves."""
    grey = cv2.cvtColor(face_bgr, cv2.COLOR_BGR2GRAY) if face_bgr.ndim == 3 else face_bgr
    small = cv2.resize(grey, (HASH_SIDE + 1, HASH_SIDE), interpolation=cv2.INTER_AREA)
    bits = (small[:, 1:] > small[:, :-1]).reshape(-1)
    return np.packbits(bits).tobytes().hex()


def distance(first: str, second: str) -> int:
    """Bits that differ between two fingerprints."""
    a = np.unpackbits(np.frombuffer(bytes.fromhex(first), np.uint8))
    b = np.unpackbits(np.frombuffer(bytes.fromhex(second), np.uint8))
    return int(np.count_nonzero(a != b))


def enrolled_faces(root: DataRoot) -> list[EnrolledFace]:
    """Every enrolled face, oldest first."""
    folder = root.verification_images
    if not folder.is_dir():
        return []
    faces = [_read(path) for path in list_images(folder)]
    return sorted(faces, key=lambda face: (face.enrolled_at, _written(face.path), face.name))


def _written(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _read(path: Path) -> EnrolledFace:
    try:
        values = json.loads(record_path(path).read_text(encoding="utf-8"))
        if not isinstance(values, dict):
            raise ValueError("not an object")
    except (OSError, ValueError):
        values = {}  # enrolled before records, or a damaged record: the picture still counts
    return EnrolledFace(
        path,
        str(values.get("source", "")),
        str(values.get("enrolled_at", "")),
        str(values.get("pixels", "")),
        str(values.get("fingerprint", "")),
    )


def enrol_frame(
    root: DataRoot,
    frame_bgr: np.ndarray,
    face: Face | None = None,
    searched: bool = False,
    source: str = "camera",
    force: bool = False,
) -> EnrolledFace:
    """Enrol the face in a frame (``face``/``searched``: already found in it) or refuse it
    with :class:`EnrolmentError`. ``force`` keeps a face that fails the checks, and the
    central box of an image with no face."""
    if not searched:
        face = find_face(frame_bgr)
    pixels = hashlib.sha256(np.ascontiguousarray(frame_bgr).tobytes()).hexdigest()
    face_print = ""
    problem: str | None
    if face is None or face.landmarks is None:
        problem = "no face found" if face is None else "face found but its landmarks not"
    else:
        from faceapp.vision.align import align

        aligned = align(frame_bgr, face.landmarks.xy, 100)
        problem = enrolment_problem(face, aligned)
        face_print = fingerprint(aligned)
    if problem and not force:
        raise EnrolmentError(problem)
    for known in enrolled_faces(root):
        if known.pixels == pixels:
            raise EnrolmentError(f"already enrolled as {known.describe()}")
        near = face_print and known.fingerprint
        if near and distance(face_print, known.fingerprint) <= NEAR_IDENTICAL:
            raise EnrolmentError(
                f"nearly the same picture as {known.describe()}: turn your head a little "
                "between enrolments"
            )
    picture = kept_picture(frame_bgr, face)
    path = save_image(picture.image, root.verification_images)
    record = {
        "source": source,
        "enrolled_at": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "pixels": pixels,
        "fingerprint": face_print,
        "forced_past": problem,  # why it was refused, had it not been forced; None: not
    }
    write_bytes_atomic(record_path(path), (json.dumps(record, indent=1) + "\n").encode())
    return _read(path)


def enrol_image(
    root: DataRoot, image: ImageSource, source: str | None = None, force: bool = False
) -> EnrolledFace:
    """Enrol the face in one image (a path, encoded bytes or a BGR array)."""
    if source is None:
        source = Path(image).name if isinstance(image, str | os.PathLike) else "an image"
    return enrol_frame(root, load_bgr(image), source=source, force=force)


def frames_to_enrol(path: Path, count: int = VIDEO_FRAMES) -> list[tuple[np.ndarray, str]]:
    """``count`` frames spread over a video (start to end), each with where it was taken."""
    video = cv2.VideoCapture(str(path))
    try:
        if not video.isOpened():
            raise FaceappError(f"cannot open video file: {path}")
        total = int(video.get(cv2.CAP_PROP_FRAME_COUNT))
        rate = video.get(cv2.CAP_PROP_FPS) or 25.0
        if total <= 0:
            raise FaceappError(f"no frames in video file: {path}")
        picks = sorted({round(k * (total - 1) / max(count - 1, 1)) for k in range(count)})
        frames = []
        for number in picks:
            video.set(cv2.CAP_PROP_POS_FRAMES, number)
            ok, frame = video.read()
            if ok and frame is not None:
                frames.append((frame, f"{path.name} at {number / rate:.1f} s"))
        return frames
    finally:
        video.release()


def sources_of(path: Path) -> list[tuple[ImageSource, str]]:
    """What a path enrols: a photo; each photo of a folder; a few frames of a video."""
    if not path.exists():
        raise FaceappError(f"file not found: {path}")
    if path.is_dir():
        return [(p, p.name) for p in list_images(path)]
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return list(frames_to_enrol(path))
    if path.suffix.lower() in IMAGE_SUFFIXES or path.is_file():
        return [(path, path.name)]
    raise FaceappError(f"not a photo, a folder or a video: {path}")


def remove(root: DataRoot, name: str) -> EnrolledFace:
    """Remove one enrolled face (by its file name, or its source's file name if only one face
    came from it) with its record."""
    faces = enrolled_faces(root)
    matches = [f for f in faces if f.name == name] or [f for f in faces if f.source == name]
    if not matches:
        raise FaceappError(f"no enrolled face named {name} (see faceapp-enrol --list)")
    if len(matches) > 1:
        raise FaceappError(
            f"{len(matches)} enrolled faces came from {name}: remove them by file name "
            f"({', '.join(f.name for f in matches)})"
        )
    face = matches[0]
    face.path.unlink(missing_ok=True)
    record_path(face.path).unlink(missing_ok=True)
    return face


def clear(root: DataRoot) -> int:
    """Remove every enrolled face and its record; return how many faces there were."""
    faces = enrolled_faces(root)
    for face in faces:
        face.path.unlink(missing_ok=True)
        record_path(face.path).unlink(missing_ok=True)
    return len(faces)


@dataclass(frozen=True)
class EnrolmentReport:
    """What :func:`enrol` did: the faces enrolled, and each image refused with its reason."""

    enrolled: list[EnrolledFace]
    refused: list[tuple[str, str]]  # (source, why)


def enrol(
    *images: ImageSource,
    data_root: str | os.PathLike | DataRoot | None = None,
    force: bool = False,
    on_each=None,
) -> EnrolmentReport:
    """Enrol the faces of photos, folders (each photo) and videos (a few frames spread over
    them), paths or arrays alike, into the data root (default: as :class:`DataRoot` resolves
    it). An image that is refused does not stop the others. ``on_each(source, face, why)`` is
    called after each image (face None when refused), e.g. to print progress."""
    root = data_root if isinstance(data_root, DataRoot) else DataRoot.resolve(data_root)
    enrolled: list[EnrolledFace] = []
    refused: list[tuple[str, str]] = []
    for image in images:
        if isinstance(image, str | os.PathLike):
            try:
                pieces = sources_of(Path(image).expanduser())
            except FaceappError as error:
                pieces, problem = [], str(error)
            else:
                problem = "" if pieces else "no images in it"
            if problem:
                refused.append((str(image), problem))
                if on_each is not None:
                    on_each(str(image), None, problem)
        else:
            pieces = [(image, "an image")]
        for piece, source in pieces:
            try:
                face = enrol_image(root, piece, source, force)
            except FaceappError as error:
                refused.append((source, str(error)))
                if on_each is not None:
                    on_each(source, None, str(error))
                continue
            enrolled.append(face)
            if on_each is not None:
                on_each(source, face, None)
    return EnrolmentReport(enrolled, refused)
