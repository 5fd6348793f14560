"""``faceapp-verify`` (``python -m faceapp.verify``): verify the face in a photo, a video or a
camera, headless.

    faceapp-verify photo.jpg              exit 0 verified, 1 not verified, 2 error
    faceapp-verify clip.mp4 --timeout 5   decide over several frames (and check liveness)
    faceapp-verify --camera 0 --timeout 5

A thin command over :mod:`faceapp.verification.verifier` (the library the app's worker uses
too). docs/verify.md has the details.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from faceapp.errors import EXIT_ERROR, FaceappError, OneLineParser, cli_guard, one_line
from faceapp.options import (
    data_root_flag,
    liveness_flag,
    model_flags,
    parse_timeout,
    resolve,
    timeout_flag,
)
from faceapp.paths import DataRoot
from faceapp.verification.frames import verify_frames
from faceapp.verification.rule import Decision, Thresholds
from faceapp.vision.imaging import IMAGE_SUFFIXES

EXIT_VERIFIED, EXIT_UNVERIFIED = 0, 1
PROG = "faceapp-verify"

EPILOG = """\
examples:
  faceapp-verify me.jpg
  faceapp-verify clip.mp4 --timeout 5
  faceapp-verify --camera 0 --timeout 5 && echo welcome
  faceapp-verify me.jpg --security high --json

The security level sets how many strangers may get in: standard at most 1 in 1,000, high 1
in 10,000 (each measured on people never used for calibrating it: docs/accuracy.md).
Legacy .h5 models can run code when loaded: use only ones from a trusted source.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Verify the face in a photo, a video or a camera against the enrolled "
        "faces (faceapp-enrol). Prints the decision and its scores. Exit status: 0 "
        "verified, 1 not verified, 2 error (bad file or setting, no camera, nothing "
        "enrolled).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[
            data_root_flag(),
            model_flags(),
            liveness_flag(),
            timeout_flag(
                "multi-frame mode: stop after S seconds at the latest; it "
                "stops earlier at the first confident decision"
            ),
        ],
    )
    parser.add_argument(
        "source",
        nargs="?",
        metavar="IMAGE_OR_VIDEO",
        help="a photo (.jpg, .png, ...); a video file or an image folder is "
        "judged frame by frame (see --timeout)",
    )
    parser.add_argument(
        "--camera",
        metavar="SRC",
        help="verify from a live source instead: a webcam index (0), "
        "a video file or an image folder",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the decision as one JSON object instead of a sentence",
    )
    return parser


def report(decision: Decision | None, note: str, model: str, rule: str, as_json: bool) -> int:
    """Print the decision (or why there is none), which model made it and under which rule
    (e.g. ``security standard``), in one line; return the exit status. ``--json`` prints
    one object with the same keys every time."""
    if as_json:
        values = decision.to_dict() if decision else {"verified": False, "total": 0}
        values.setdefault("live", None)
        values.setdefault("liveness", "")
        print(
            json.dumps({**values, "note": note, "model": model, "decided_by": rule, "error": None})
        )
    elif decision is None:
        print(f"Unverified: no frame could be judged ({note}); model: {model}, {rule}")
    else:
        text = decision.summary() + (f" ({note})" if note else "")
        print(f"{text}; model: {model}, {rule}")
    return EXIT_VERIFIED if decision is not None and decision.verified else EXIT_UNVERIFIED


def verify_photo(verifier, path: Path) -> tuple[Decision, str]:
    """The decision on the face in one photo, and a note on how its face was cut (a photo
    cannot show whether a face is live: that is never checked here)."""
    from faceapp.vision.imaging import read_image

    decision, picture = verifier.verify_frame(read_image(path))
    return decision, picture.note


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return verify(args)
    except FaceappError as error:
        if not args.json:
            raise
        values = {"verified": False, "total": 0, "live": None, "liveness": "", "note": ""}
        print(json.dumps({**values, "model": None, "decided_by": None, "error": one_line(error)}))
        print(f"error: {one_line(error)}", file=sys.stderr)
        return EXIT_ERROR


def verify(args) -> int:
    if args.timeout is not None:
        parse_timeout(args.timeout)  # a bad flag first, before any file is looked at
    if args.source and args.camera:
        raise FaceappError("give either IMAGE_OR_VIDEO or --camera SRC, not both")
    if not args.source and not args.camera:
        raise FaceappError("nothing to verify: give IMAGE_OR_VIDEO or --camera SRC (see --help)")
    path = Path(args.source or args.camera).expanduser()
    if args.source and not path.exists():
        raise FaceappError(f"file not found: {path}")
    still = bool(args.source) and path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    if still and args.timeout is not None:
        raise FaceappError(f"--timeout needs a video, a folder or --camera, not a photo: {path}")
    Thresholds.resolve(args.detection_threshold, args.verification_threshold)  # fail early
    root = DataRoot.resolve(args.data_root).ensure()
    chosen = resolve(args, root)

    from faceapp.verification.verifier import Verifier, open_model

    model = open_model(root, args.model, args.runtime)
    if model.note:
        print(f"note: running the float32 model ({model.note})", file=sys.stderr)
    if model.files.why:
        print(f"note: {model.files.why}", file=sys.stderr)
    thresholds = Thresholds.resolve(
        args.detection_threshold,
        args.verification_threshold,
        model.metadata.values,
        chosen.security,
    )
    verifier = Verifier(
        model,
        root,
        thresholds,
        on_warning=lambda line: print(line, file=sys.stderr),
        keep_last_face=True,
    )
    decision: Decision | None
    if still:
        decision, note = verify_photo(verifier, path)
    else:
        watched = verify_frames(
            verifier,
            args.camera or args.source,
            chosen.timeout,
            liveness=chosen.liveness,
            on_prompt=lambda text: print(f"> {text}", file=sys.stderr, flush=True),
        )
        decision, note = watched.decision, watched.story
    return report(decision, note, model.describe(), thresholds.named, args.json)


if __name__ == "__main__":
    sys.exit(main())
