"""``faceapp-enrol`` (``python -m faceapp.enrol``): enrol faces from photos, folders or videos,
list them, remove them — as the window's ``e`` and its enrolled-faces strip do.

    faceapp-enrol me1.jpg me2.jpg me3.jpg     enrol (a folder: each photo; a video: 5 frames)
    faceapp-enrol --list                      what is enrolled, and where each face came from
    faceapp-enrol --remove NAME               remove one (its file name, or its photo's name)
    faceapp-enrol --clear --yes               remove them all

A thin command over :mod:`faceapp.verification.enrolment`. Exit status: 0 when everything
asked was done; 2 when an image was refused (no face, too dark, blurred, small or turned
away, already enrolled, nearly the same as an enrolled one) or on an error. Refused images
are said one per line with the reason; the others are still enrolled.
"""

from __future__ import annotations

import argparse
import sys

from faceapp.errors import EXIT_ERROR, FaceappError, OneLineParser, cli_guard
from faceapp.options import data_root_flag
from faceapp.paths import DataRoot

PROG = "faceapp-enrol"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        parents=[data_root_flag()],
        description="Enrol your face from photos, folders of photos or videos: every check "
        "compares against the enrolled faces. Five photos or so, turning your head a little "
        "between them, are enough.",
        epilog="examples:\n  faceapp-enrol me1.jpg me2.jpg me3.jpg\n  faceapp-enrol --list\n"
        "  faceapp-enrol --remove me2.jpg",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "images", nargs="*", metavar="IMAGE", help="photos, folders of photos or video files"
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the enrolled faces")
    action.add_argument("--remove", metavar="NAME", help="remove one enrolled face")
    action.add_argument("--clear", action="store_true", help="remove every enrolled face")
    parser.add_argument(
        "--yes", action="store_true", help="with --clear: do not ask for confirmation"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="enrol an image even when it is refused for its quality or has no face (the "
        "central box is kept): only for photos you know are good",
    )
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    asked = args.list or args.remove or args.clear
    if asked and args.images:
        raise FaceappError("give images to enrol, or one of --list/--remove/--clear, not both")
    if not asked and not args.images:
        raise FaceappError("nothing to do: give images to enrol, or --list (see --help)")
    from faceapp.verification import enrolment

    root = DataRoot.resolve(args.data_root).ensure()
    if args.list:
        faces = enrolment.enrolled_faces(root)
        for face in faces:
            print(face.describe())
        print(f"{len(faces)} face(s) enrolled in {root.verification_images}")
        return 0
    if args.remove:
        print(f"removed {enrolment.remove(root, args.remove).describe()}")
        return 0
    if args.clear:
        if not args.yes and not _confirmed(f"remove every enrolled face in {root.root}?"):
            print("nothing removed")
            return EXIT_ERROR
        print(f"removed {enrolment.clear(root)} enrolled face(s)")
        return 0

    def said(source, face, why):
        if face is None:
            print(f"refused {source}: {why}", file=sys.stderr)
        else:
            print(f"enrolled {source} as {face.name}")

    report = enrolment.enrol(*args.images, data_root=root, force=args.force, on_each=said)
    total = len(enrolment.enrolled_faces(root))
    print(f"{len(report.enrolled)} enrolled, {len(report.refused)} refused; {total} in all")
    return EXIT_ERROR if report.refused else 0


def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        raise FaceappError("--clear needs --yes when there is no terminal to confirm on")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


if __name__ == "__main__":
    sys.exit(main())
