"""``python -m training.calibrate MODEL``: fit a model's Siamese head and its security levels
on people kept apart for it, and save the model that runs with them.

    python -m training.calibrate application_data/models/dlib-resnet-v1.json \\
        --tree ../shared/data/lfw --exclude-pairs ../shared/data/lfw/pairs.txt \\
        --exclude-folds 4-5 --name faceapp-dlib-v1 --out application_data/models

The identity tree's people are split by ``--seed`` (:func:`training.identity.levels.people_split`):
the people of the held-out pairs folds and half of the others are kept for measuring
(``training.evaluate owners`` and ``pairs`` use the same split); the other half fit the head
and the levels (:mod:`training.identity.levels`). The model is written under a new name:
its int8 network copied, its metadata with the head, the centroid rule and each level's
thresholds by the number of faces enrolled, and who they were calibrated on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from faceapp.errors import FaceappError, OneLineParser, cli_guard
from faceapp.options import data_root_flag
from faceapp.paths import DataRoot
from faceapp.storage import write_bytes_atomic
from training.pairs.data import TREE_HELP, add_held_out_arguments

DEFAULT_SEED = 42


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.calibrate",
        description="Fit a model's head and security levels on people kept apart for it.",
        parents=[data_root_flag()],
    )
    parser.add_argument("model", metavar="MODEL", help="the model (its .json or .int8.tflite)")
    parser.add_argument("--tree", required=True, metavar="DIR", help=TREE_HELP)
    add_held_out_arguments(parser)
    parser.add_argument("--name", required=True, help="the calibrated model's name")
    parser.add_argument(
        "--out",
        "--output",
        dest="out",
        required=True,
        metavar="DIR",
        help="folder to write it into",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"splits the people and picks the enrolled photos (default: {DEFAULT_SEED})",
    )
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from faceapp.models.files import files_of
    from faceapp.models.metadata import int8_path, read_metadata, write_metadata
    from faceapp.models.runtime import load_model
    from training.evaluation.embeddings import embed_tree
    from training.identity.levels import calibrate_levels, fit_unit_head, people_split
    from training.pairs.data import held_out_people, list_tree

    files = files_of(args.model)
    target = Path(args.out) / f"{args.name}.json"
    if target.exists() or int8_path(target).exists():
        raise FaceappError(f"refusing to overwrite existing model {target.with_suffix('')}")
    model = load_model(files)
    tree = Path(args.tree)
    people = list_tree(tree)
    held_out = held_out_people(args.exclude_pairs, args.exclude_folds)
    calibration, evaluation = people_split(people, held_out, args.seed)
    photos = sorted(p for group in calibration.values() for p in group)
    root = DataRoot.resolve(args.data_root).ensure()
    embedded = embed_tree(model, photos, tree, root)
    head = fit_unit_head(embedded.of, calibration, args.seed)
    rule = calibrate_levels(embedded.of, calibration, head, args.seed)
    metadata = read_metadata(files.stem)
    standard = rule["levels"]["standard"]["thresholds"]
    metadata.update(
        {
            "name": args.name,
            "head": head.to_json(),
            "unit_length": True,
            "rule": rule,
            # shown where a single number is asked for: standard, five faces enrolled
            "detection_threshold": standard.get("5", next(iter(standard.values()))),
            "detection_threshold_rule": "security standard, five faces enrolled",
            "verification_threshold": 0.5,
            "int8": {**metadata.get("int8", {}), "file": int8_path(target).name},
            "calibration": {
                "tree": tree.name,
                "seed": args.seed,
                "held_out_pairs": args.exclude_pairs and Path(args.exclude_pairs).name,
                "held_out_folds": args.exclude_folds,
                "calibration_people": len(calibration),
                "calibration_photos": len(photos),
                "evaluation_people": len(evaluation),
            },
        }
    )
    write_bytes_atomic(int8_path(target), files.int8_path.read_bytes())
    write_metadata(target, metadata)
    print(json.dumps({"head": head.to_json()["bias"], "rule": rule["levels"]}, indent=1))
    print(f"wrote {target} ({len(calibration)} people calibrated, {len(evaluation)} kept apart)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
