"""``python -m faceapp.enrol PHOTO...``: enrol faces from photo files, as the app's ``e`` does.

Each photo's face is found and kept the way ``e`` keeps a frame's (:mod:`faceapp.app.captures`)
in ``<data root>/verification_images/``, under a new name (nothing is overwritten). A photo
that cannot be read is reported in one line and the others are still enrolled; the exit
status is then 2.
"""

from __future__ import annotations

import argparse
import sys

from faceapp.errors import EXIT_ERROR, FaceappError, OneLineParser, cli_guard
from faceapp.options import data_root_flag
from faceapp.paths import DataRoot


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m faceapp.enrol",
        parents=[data_root_flag()],
        description="Enrol faces from photos: each photo's face is saved among the "
        "verification images that every check compares against.",
        epilog="example: python -m faceapp.enrol me1.jpg me2.jpg me3.jpg",
    )
    parser.add_argument("photos", nargs="+", metavar="PHOTO", help="photos of your face")
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from faceapp.app.captures import capture_of, save_capture
    from faceapp.vision.finder import find_face
    from faceapp.vision.imaging import read_image

    root = DataRoot.resolve(args.data_root)
    failed = 0
    for photo in args.photos:
        try:
            image = read_image(photo)
            capture = capture_of(image, find_face(image))
            saved = save_capture(capture, root, "enrol")
        except FaceappError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        note = "" if capture.found else " (no face found; kept the central box)"
        print(f"enrolled {photo} as {saved.name}{note}")
    return EXIT_ERROR if failed else 0


if __name__ == "__main__":
    sys.exit(main())
