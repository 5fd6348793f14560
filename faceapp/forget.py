"""``faceapp-forget`` (``python -m faceapp.forget``): remove everything faceapp keeps about you
— enrolled faces, captures, trained models, settings, caches — by deleting the data root,
after a confirmation. (``faceapp-enrol --clear`` removes only the enrolled faces.)
"""

from __future__ import annotations

import argparse
import shutil
import sys

from faceapp.errors import EXIT_ERROR, FaceappError, OneLineParser, cli_guard
from faceapp.options import data_root_flag
from faceapp.paths import DataRoot


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="faceapp-forget",
        parents=[data_root_flag()],
        description="Delete the data root: every enrolled face, capture, trained model, "
        "setting and cache. There is no undo.",
    )
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root = DataRoot.resolve(args.data_root).root
    if not root.exists():
        print(f"nothing to forget: {root} does not exist")
        return 0
    if not (root / "verification_images").is_dir() and not (root / "settings.json").exists():
        raise FaceappError(f"{root} does not look like a faceapp data root: nothing deleted")
    if not args.yes:
        if not sys.stdin.isatty():
            raise FaceappError("faceapp-forget needs --yes when there is no terminal to ask on")
        if input(f"delete {root} and everything in it? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return EXIT_ERROR
    shutil.rmtree(root)
    print(f"deleted {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
