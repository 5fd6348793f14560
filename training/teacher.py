"""``python -m training.teacher``: embed an identity tree's training side with the dlib teacher,
once (cached under the data root; the library: :mod:`training.identity.teacher`)::

    python -m training.teacher --tree ../shared/data/lfw \\
        --exclude-pairs ../shared/data/lfw/pairs.txt --exclude-folds 4-5
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from faceapp.errors import OneLineParser, cli_guard
from faceapp.options import data_root_flag
from faceapp.paths import DataRoot
from training.identity.teacher import cache_path, require_dlib, teacher_table, training_side_paths
from training.pairs.data import TREE_HELP, add_held_out_arguments


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.teacher",
        description="Embed an identity tree's images with the dlib teacher (cached).",
        epilog="Needs the optional extra: pip install -r requirements-teacher.txt",
        parents=[data_root_flag()],
    )
    parser.add_argument("--tree", required=True, metavar="DIR", help=TREE_HELP)
    add_held_out_arguments(parser)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes (default: all cores)",
    )
    return parser


@cli_guard
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    require_dlib()
    root = DataRoot.resolve(args.data_root)
    lfw = Path(args.tree)
    paths = training_side_paths(lfw, args.exclude_pairs, args.exclude_folds)
    cache = cache_path(root, lfw)
    table = teacher_table(paths, cache, workers=max(1, args.workers))
    print(f"teacher: {len(table)} embeddings in {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
