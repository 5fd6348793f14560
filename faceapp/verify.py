"""Verify a face against the enrolled verification images; also the headless command.

Library::

    verifier = Verifier(model_path, data_root.verification_images, thresholds)
    decision = verifier.verify(face_bgr)      # faceapp.decision.Decision

The Siamese model scores a pair as ``sigmoid(|e(a) - e(b)| @ kernel + bias)``, so the
verifier splits it (:func:`faceapp.model.siamese_parts`) and keeps the embeddings of the
verification images in memory. Verifying a face then costs one embedding plus a small
matrix product, however many verification images there are. The cache is keyed by each
file's name, size and modification time: it is re-checked (one directory listing) on every
call, and only new or changed images are embedded.

Command line (see ``python -m faceapp.verify --help``)::

    python -m faceapp.verify photo.jpg              exit 0 verified, 1 not verified, 2 error
    python -m faceapp.verify clip.mp4 --timeout 5   decide over several frames
    python -m faceapp.verify --camera 0 --timeout 5
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.decision import Decision, TimedVerification, decide, frame_problem
from faceapp.errors import FaceappError, OneLineParser, cli_guard
from faceapp.imaging import IMAGE_SUFFIXES, list_images, preprocess, summarize_skipped
from faceapp.metadata import Thresholds, read_metadata
from faceapp.options import add_model_options
from faceapp.paths import DataRoot
from faceapp.runtime import DEFAULT_RUNTIME

EXIT_VERIFIED, EXIT_UNVERIFIED, EXIT_ERROR = 0, 1, 2
EMBED_BATCH = 64  # verification images embedded per call
TRAIN_HINT = "train one with: python -m training.run"


def resolve_model_path(data_root: DataRoot, model: str | os.PathLike | None = None) -> Path:
    """``model`` if given, else the newest model under the data root, else a clear error."""
    if model:
        return Path(model).expanduser()
    newest = data_root.newest_model()
    if newest is None:
        raise FaceappError(f"no trained model in {data_root.models}; {TRAIN_HINT} "
                           "(or pass --model FILE)")
    return newest


@dataclass(frozen=True)
class _FileKey:
    """What identifies one version of a verification image: name, size, mtime."""

    name: str
    size: int
    mtime_ns: int


def _file_key(path: Path) -> _FileKey | None:
    try:
        stat = path.stat()
    except OSError:  # removed between listing and stat
        return None
    return _FileKey(path.name, stat.st_size, stat.st_mtime_ns)


class Verifier:
    """A loaded model plus the cached embeddings of the verification images."""

    def __init__(self, model_path: str | os.PathLike, verification_dir: str | os.PathLike,
                 thresholds: Thresholds | None = None, on_warning=None,
                 runtime: str = DEFAULT_RUNTIME, cache_dir: str | os.PathLike | None = None):
        """``on_warning(line)`` is called when newly found verification images are unreadable.

        ``runtime``: ``int8`` (default) or ``keras`` (:mod:`faceapp.runtime`); the int8
        conversion is cached in ``cache_dir`` when given. :attr:`runtime` says which runs,
        :attr:`runtime_note` why it fell back to ``keras`` (else None).
        """
        from faceapp.model import load_model, siamese_parts  # imports Keras quietly
        from faceapp.runtime import embedding_runner, file_digest

        self.model_path = Path(model_path)
        self.verification_dir = Path(verification_dir)
        self.thresholds = thresholds or Thresholds()
        self.on_warning = on_warning
        digest = None
        if runtime == "int8" and cache_dir is not None:
            try:
                digest = file_digest(self.model_path)  # before loading: names what is loaded
            except OSError:
                pass  # load_model below explains the unreadable file in one line
        self.model = load_model(self.model_path)
        self.embedding, self.kernel, self.bias = siamese_parts(self.model)
        self._embed_fn, self.runtime, self.runtime_note = embedding_runner(
            self.embedding, runtime, digest, Path(cache_dir) if cache_dir else None)
        self.embedding_calls = 0          # calls of the embedding network (for tests)
        self.warning: str | None = None   # the last "skipped unreadable images" line
        self._signature: tuple[_FileKey, ...] | None = None
        self._cache: dict[_FileKey, np.ndarray | str] = {}  # embedding, or why unreadable
        self._gallery = np.zeros((0, self.kernel.shape[0]), np.float32)
        self._gallery_names: list[str] = []

    # --- embeddings -------------------------------------------------------------------

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Embeddings (N, D) of preprocessed faces (N, 100, 100, 3), in batches."""
        batch = np.asarray(batch, dtype=np.float32)
        parts = []
        for start in range(0, len(batch), EMBED_BATCH):
            self.embedding_calls += 1
            parts.append(np.asarray(self._embed_fn(batch[start:start + EMBED_BATCH])))
        if not parts:
            return np.zeros((0, self.kernel.shape[0]), np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def warm_up(self) -> None:
        """Run the embedding once so the first real verification is not slowed by tracing."""
        self._embed_fn(np.zeros((1, 100, 100, 3), np.float32))

    # --- the gallery --------------------------------------------------------------------

    def _current_signature(self) -> tuple[_FileKey, ...]:
        if not self.verification_dir.is_dir():
            return ()
        keys = (_file_key(p) for p in list_images(self.verification_dir))
        return tuple(k for k in keys if k is not None)

    def gallery(self) -> np.ndarray:
        """The verification images' embeddings (N, D), recomputed only for changed files."""
        signature = self._current_signature()
        if signature == self._signature:
            return self._gallery
        new = [key for key in signature if key not in self._cache]
        if new:
            from faceapp.imaging import preprocess_many

            paths = [self.verification_dir / key.name for key in new]
            batch, skipped = preprocess_many(paths)
            reasons = {Path(source).name: reason for source, reason in skipped}
            readable = [key for key in new if key.name not in reasons]
            for key, vector in zip(readable, self.embed(batch)):
                self._cache[key] = vector
            for key in new:
                if key.name in reasons:
                    self._cache[key] = reasons[key.name]
        self._cache = {key: self._cache[key] for key in signature}  # forget removed files
        unreadable = [(self.verification_dir / k.name, v)
                      for k, v in self._cache.items() if isinstance(v, str)]
        self.warning = summarize_skipped(unreadable, "verification images")
        if self.warning and new and self.on_warning is not None:
            self.on_warning(self.warning)
        usable = [(k.name, v) for k, v in self._cache.items() if not isinstance(v, str)]
        self._gallery_names = [name for name, _ in usable]
        self._gallery = (np.stack([v for _, v in usable]) if usable
                         else np.zeros((0, self.kernel.shape[0]), np.float32))
        self._signature = signature
        return self._gallery

    @property
    def gallery_names(self) -> list[str]:
        """File names of the verification images in :meth:`gallery` order."""
        return list(self._gallery_names)

    # --- verification -------------------------------------------------------------------

    def scores(self, face) -> np.ndarray:
        """P(same person) of ``face`` (BGR array, path or bytes) against every gallery image."""
        from faceapp.model import head_scores

        gallery = self.gallery()
        if len(gallery) == 0:
            raise FaceappError(f"no verification images in {self.verification_dir} "
                               "(enrol some: press 'e' in the app)")
        probe = self.embed(preprocess(face)[None])[0]
        return head_scores(probe, gallery, self.kernel, self.bias)

    def verify(self, face) -> Decision:
        """The decision for one face crop (BGR array, path or bytes)."""
        return decide(self.scores(face), self.thresholds)


# --- The headless command -----------------------------------------------------------------

VIDEO_HINT = "a video file or an image folder is judged frame by frame (see --timeout)"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m faceapp.verify",
        description=(
            "Verify the face in a photo, a video or a camera against the enrolled "
            "verification images (<data root>/verification_images) with a trained model. "
            "Prints the decision and its scores. Exit status: 0 verified, 1 not verified, "
            "2 error (bad file, no model, no verification images)."),
        epilog=(
            "examples:\n"
            "  python -m faceapp.verify me.jpg\n"
            "  python -m faceapp.verify clip.mp4 --timeout 5\n"
            "  python -m faceapp.verify --camera 0 --timeout 5 && echo welcome\n"
            "  python -m faceapp.verify me.jpg --model models/siamese.keras "
            "--detection-threshold 0.7\n\n"
            "Thresholds: a verification image matches when its score is above the detection\n"
            "threshold; the face is verified when the fraction of matches is above the\n"
            "verification threshold. Each comes from its flag, else the model's metadata\n"
            "(<model>.json), else 0.5. Legacy .h5 models can run code when loaded: use only\n"
            "ones from a trusted source (.keras files load in safe mode)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", nargs="?", metavar="IMAGE_OR_VIDEO",
                        help="a photo (.jpg, .png, ...); " + VIDEO_HINT)
    parser.add_argument("--camera", metavar="SRC",
                        help="verify from a live source instead: a webcam index (0), "
                             "a video file or an image folder")
    parser.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="multi-frame mode: stop after S seconds at the latest "
                             "(default 10); stops earlier at the first confident decision")
    add_model_options(parser)
    parser.add_argument("--json", action="store_true",
                        help="print the decision as one JSON object instead of a sentence")
    return parser


def _is_still_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _report(decision: Decision, note: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({**decision.to_dict(), "note": note}))
    else:
        print(decision.summary() + (f" ({note})" if note else ""))
    return EXIT_VERIFIED if decision.verified else EXIT_UNVERIFIED


def verify_image(verifier: Verifier, path: Path, data_root: DataRoot | None = None
                 ) -> tuple[Decision, str]:
    """Decide on the face in one photo; also return a note about the crop."""
    from faceapp.detect import face_crop
    from faceapp.imaging import read_image

    crop = face_crop(read_image(path))
    if data_root is not None:
        _save_input(crop.image, data_root)
    note = "" if crop.detected else "no face found; used the central box"
    return verifier.verify(crop.image), note


def _save_input(face_bgr: np.ndarray, data_root: DataRoot) -> None:
    """Keep the verified crop as input_image/input_image.jpg, as the seed does."""
    from faceapp.storage import replace_image

    try:
        replace_image(face_bgr, data_root.input_image / "input_image.jpg")
    except (OSError, FaceappError) as error:
        print(f"warning: could not save input image: {error}", file=sys.stderr)


def verify_frames(verifier: Verifier, source: str, timeout: float, clock=time.monotonic,
                  data_root: DataRoot | None = None) -> tuple[Decision | None, str]:
    """Decide over frames of ``source`` for up to ``timeout`` s; also return how it went.

    Frames with no face, too dark or too blurred are skipped. Stops at the first confident
    decision, when the time is up, or when a video or folder ends.
    """
    from faceapp.camera import FrameSource
    from faceapp.detect import face_crop

    timed = TimedVerification(timeout, clock=clock)
    problem = None
    with FrameSource(source) as frames:
        if frames.finished:
            raise FaceappError(frames.message or f"cannot read {source}")
        while not timed.done:
            frame = frames.read()
            if frame is None:
                if frames.finished:
                    break
                problem = frames.message  # webcam missing or lost: retried by FrameSource
                time.sleep(0.05)
                continue
            crop = face_crop(frame)
            why = "no face" if not crop.detected else frame_problem(crop.image)
            if why:
                timed.skip(why)
                continue
            decision = verifier.verify(crop.image)
            if data_root is not None:
                _save_input(crop.image, data_root)
            timed.add(decision)
    story = timed.explain()
    if problem and not timed.judged:
        story += f"; {problem}"
    return timed.outcome(), story


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.source and args.camera:
        raise FaceappError("give either IMAGE_OR_VIDEO or --camera SRC, not both")
    if not args.source and not args.camera:
        raise FaceappError("nothing to verify: give IMAGE_OR_VIDEO or --camera SRC "
                           "(see --help)")
    if args.timeout is not None and not args.timeout > 0:
        raise FaceappError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    source = args.camera or args.source
    path = Path(source).expanduser()
    if args.source and not path.exists():
        raise FaceappError(f"file not found: {path}")

    Thresholds.resolve(args.detection_threshold, args.verification_threshold)  # fail early
    data_root = DataRoot.resolve(args.data_root)
    model_path = resolve_model_path(data_root, args.model)
    thresholds = Thresholds.resolve(args.detection_threshold, args.verification_threshold,
                                    read_metadata(model_path))
    verifier = Verifier(model_path, data_root.verification_images, thresholds,
                        on_warning=lambda line: print(line, file=sys.stderr),
                        runtime=args.runtime, cache_dir=data_root.runtime_cache)
    if verifier.runtime_note:
        print(f"note: running the float32 model ({verifier.runtime_note})", file=sys.stderr)

    if args.source and path.is_file() and _is_still_image(path):
        if args.timeout is not None:
            raise FaceappError(f"--timeout needs a video, a folder or --camera, not a photo: "
                               f"{path}")
        decision, note = verify_image(verifier, path, data_root)
        return _report(decision, note, args.json)

    decision, story = verify_frames(verifier, source, args.timeout or 10.0,
                                    data_root=data_root)
    if decision is None:
        if args.json:
            print(json.dumps({"verified": False, "total": 0, "note": story}))
        else:
            print(f"Unverified: no frame could be judged ({story})")
        return EXIT_UNVERIFIED
    return _report(decision, story, args.json)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
