"""``python -m training.evaluate``: how often a trained model is wrong, in numbers and plots.

Three ways to ask, one sub-command each:

- ``validation``: the validation pairs of the model's own training run, rebuilt exactly
  from the settings in its metadata (precision, recall, accuracy, ROC AUC, EER, the
  threshold for a target false-accept rate; ROC and score-histogram PNGs).
- ``pairs``: the LFW pairs protocol (:mod:`training.evaluation.lfw_pairs`): per-fold accuracy
  with the threshold from the other folds, mean/std, AUC, EER, TAR at 1% and 0.1% FAR,
  a ROC plot and a CSV of every pair's score.
- ``owner``: the enrolled-owner scenario under the app's decision rule
  (:mod:`training.evaluation.owner`): FRR/FAR at the configured thresholds and a sweep.

Reports go to ``<model>.eval/`` beside the model (or ``--out``); a warning is printed
when people being scored were part of the model's training data.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError, OneLineParser, cli_guard
from faceapp.options import data_root_flag
from faceapp.paths import DataRoot
from faceapp.storage import write_bytes_atomic
from faceapp.verification.rule import Thresholds
from faceapp.vision.crops import canonical_crop
from training.evaluation import lfw_pairs as pairs_protocol
from training.evaluation import metrics, plots
from training.evaluation import owner as owner_eval
from training.pairs.data import CROPS, add_held_out_arguments

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LFW_DEFAULT = PROJECT_ROOT.parent / "shared" / "data" / "lfw"


def default_lfw() -> Path:
    return Path(os.environ.get("FACEAPP_LFW", LFW_DEFAULT))


# --- shared helpers -------------------------------------------------------------------------------


def open_model(args):
    """The model to evaluate (``--model``, else the one the app runs), on ``--runtime``."""
    from faceapp.verification.verifier import open_model as open_runnable

    return open_runnable(DataRoot.resolve(args.data_root), args.model, args.runtime)


def model_file(model) -> Path:
    """The file that names a model in reports: its Keras file, else its metadata."""
    return model.files.keras or model.files.metadata_path


def output_folder(args, model) -> Path:
    """``--out``, else ``<model>.eval/`` beside a trained model; the shipped model's reports
    go under the data root (the repository is not a place for reports)."""
    if args.out:
        return Path(args.out)
    if model.files.shipped:
        return DataRoot.resolve(args.data_root).root / "eval" / model.files.name
    return model.files.stem.with_name(model.files.name + ".eval")


def write_json(path: Path, value: dict) -> Path:
    return write_bytes_atomic(
        path, (json.dumps(value, indent=2, default=str) + "\n").encode(), overwrite=True
    )


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return write_bytes_atomic(path, out.getvalue().encode(), overwrite=True)


def seen_people(metadata: dict, tree: Path) -> set[str] | None:
    """People of ``tree`` the model trained on or chose thresholds with (None: unknown).

    Owner runs count too: their negatives (``Person_Name_0001.jpg``, e.g. imported from
    this very LFW) are other people's faces the model was trained and thresholded on.
    """
    settings = metadata.get("training", {})
    negatives = set()
    if settings.get("source") in ("owner", "both") and settings.get("data_root"):
        from faceapp.vision.imaging import is_image_file
        from training.pairs.data import person_of

        folder = DataRoot(Path(settings["data_root"])).negative
        if folder.is_dir():
            negatives = {person_of(p) for p in folder.iterdir() if is_image_file(p)}
    if not settings.get("tree") or Path(settings["tree"]).resolve() != tree.resolve():
        return negatives
    from training.pairs.data import held_out_people

    excluded = held_out_people(settings.get("exclude_pairs"), settings.get("exclude_folds"))
    people = sorted(p.name for p in tree.iterdir() if p.is_dir())
    if settings.get("max_people"):
        people = [p for p in people if p not in excluded][: settings["max_people"]]
    return {p for p in people if p not in excluded} | negatives


def warn_if_seen(metadata: dict, tree: Path, scored: set[str]) -> int:
    overlap = scored & (seen_people(metadata, tree) or set())
    if overlap:
        print(
            f"warning: {len(overlap)} of the {len(scored)} people scored here were in the "
            f"model's training data (e.g. {sorted(overlap)[0]}); these numbers are optimistic. "
            "Train with --exclude-pairs/--exclude-folds to hold them out.",
            file=sys.stderr,
        )
    return len(overlap)


# --- validation -----------------------------------------------------------------------------------


def run_validation(args) -> dict:
    from training.evaluation.scoring import PairScorer
    from training.pairs.data import build_split

    model = open_model(args)
    metadata = model.metadata.values
    settings = metadata.get("training")
    if not settings or "source" not in settings:  # e.g. training.recipes: no pair split
        raise FaceappError(
            f"{model.files.metadata_path} has no training settings; "
            "use the pairs or owner evaluation instead"
        )
    root = DataRoot.resolve(args.data_root or settings["data_root"])
    split = build_split(settings, root)
    pairs = split.validation
    scorer = PairScorer(
        model, {p for pair in pairs for p in (pair.first, pair.second)}, crop=args.crop
    )
    pairs = [p for p in pairs if scorer.has(p.first) and scorer.has(p.second)]
    labels = np.array([p.label for p in pairs])
    scores = scorer.scores([p.first for p in pairs], [p.second for p in pairs])
    threshold = Thresholds.resolve(args.detection_threshold, metadata=metadata).detection
    report = metrics.summary(labels, scores, threshold=threshold, target_far=args.target_far)
    out = output_folder(args, model)
    roc = metrics.roc_curve(labels, scores)
    plots.plot_roc({"validation": (roc.fpr, roc.tpr)}, out / "validation-roc.png")
    plots.plot_score_histograms(labels, scores, out / "validation-scores.png", threshold)
    write_json(out / "validation-report.json", {"model": str(model_file(model)), **report})
    at = report["at_threshold"]
    print(f"validation pairs: {report['pairs']} ({report['genuine_pairs']} genuine)")
    print(
        f"at threshold {threshold:.3f}: accuracy {at['accuracy']:.3f}, precision "
        f"{at['precision']:.3f}, recall {at['recall']:.3f}, FAR {at['far']:.3f}"
    )
    print(
        f"ROC AUC {report['roc_auc']:.3f}, EER {report['eer']:.3f}; threshold "
        f"{report['threshold_at_target_far']:.3f} gives FAR <= {args.target_far:g} "
        f"with TAR {report['tar_at_target_far']:.3f}"
    )
    print(f"reports: {out}")
    return report


# --- LFW pairs ------------------------------------------------------------------------------------


def run_pairs(args) -> dict:
    from training.evaluation.scoring import PairScorer

    model = open_model(args)
    metadata = model.metadata.values
    lfw = Path(args.lfw) if args.lfw else default_lfw()
    if not lfw.is_dir():
        raise FaceappError(f"LFW folder not found: {lfw} (give --lfw DIR or set FACEAPP_LFW)")
    pairs_file = Path(args.pairs_file) if args.pairs_file else lfw / "pairs.txt"
    pairs = pairs_protocol.read_pairs_file(
        pairs_file, pairs_protocol.parse_folds(args.folds), args.limit
    )
    paths = [pair.paths(lfw) for pair in pairs]
    scorer = PairScorer(model, {p for two in paths for p in two}, crop=args.crop)
    kept = [k for k, (a, b) in enumerate(paths) if scorer.has(a) and scorer.has(b)]
    if len(kept) < len(pairs):
        print(
            f"warning: {len(pairs) - len(kept)} pairs left out (image missing or unreadable)",
            file=sys.stderr,
        )
    pairs = [pairs[k] for k in kept]
    paths = [paths[k] for k in kept]
    scores = scorer.scores([a for a, _ in paths], [b for _, b in paths])
    labels = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    scored_people = {name for p in pairs for name in (p.first_person, p.second_person)}
    report = pairs_protocol.protocol_report(folds, labels, scores)
    report.update(
        model=str(model_file(model)),
        runtime=model.runtime,
        pairs_file=str(pairs_file),
        seen_people=warn_if_seen(metadata, lfw, scored_people),
    )
    out = output_folder(args, model)
    write_csv(
        out / "lfw-pairs-scores.csv",
        ["fold", "first_person", "first_number", "second_person", "second_number", "same", "score"],
        [
            [
                p.fold,
                p.first_person,
                p.first_number,
                p.second_person,
                p.second_number,
                p.same,
                f"{s:.6f}",
            ]
            for p, s in zip(pairs, scores)
        ],
    )
    roc = metrics.roc_curve(labels, scores)
    plots.plot_roc(
        {f"LFW pairs (AUC {report['roc_auc']:.3f})": (roc.fpr, roc.tpr)}, out / "lfw-pairs-roc.png"
    )
    write_json(out / "lfw-pairs-report.json", report)
    for row in report["folds"]:
        print(
            f"fold {row['fold']}: accuracy {row['accuracy']:.4f} at threshold "
            f"{row['threshold']:.4f} (from {row['threshold_from']})"
        )
    print(
        f"LFW pairs ({report['pairs']}): accuracy {report['mean_accuracy']:.4f} +- "
        f"{report['std_accuracy']:.4f}, ROC AUC {report['roc_auc']:.4f}, EER {report['eer']:.4f}, "
        f"TAR {report['tar_at_far_1e-2']:.4f} at FAR 1%, {report['tar_at_far_1e-3']:.4f} at 0.1%"
    )
    print(f"reports: {out}")
    return report


# --- enrolled owner -------------------------------------------------------------------------------


def run_owner(args) -> dict:
    from training.evaluation.scoring import PairScorer

    model = open_model(args)
    metadata = model.metadata.values
    lfw = Path(args.lfw) if args.lfw else default_lfw()
    # strangers the model never trained on, unless asked otherwise (then: optimistic FAR)
    exclude = set() if args.any_impostors else (seen_people(metadata, lfw) or set())
    scenario = owner_eval.build_scenario(
        lfw, args.owner, args.enroll, args.impostors, args.seed, exclude=exclude
    )
    scorer = PairScorer(
        model, set(scenario.verification + scenario.genuine + scenario.impostors), crop=args.crop
    )
    scores, labels = owner_eval.probe_scores(scorer, scenario)
    thresholds = Thresholds.resolve(args.detection_threshold, args.verification_threshold, metadata)
    configured = owner_eval.decision_rates(scores, labels, thresholds)
    rows = owner_eval.sweep(scores, labels, thresholds.verification)
    best = owner_eval.best_detection_threshold(rows, args.max_far)
    people = {scenario.owner} | {p.parent.name for p in scenario.impostors}
    report = {
        "model": str(model_file(model)),
        "runtime": model.runtime,
        "owner": scenario.owner,
        "verification_images": len(scenario.verification),
        "genuine_probes": int(np.sum(labels == 1)),
        "impostor_probes": int(np.sum(labels == 0)),
        "configured": configured,
        "best_at_max_far": best,
        "max_far": args.max_far,
        "seen_people": warn_if_seen(metadata, lfw, people),
    }
    out = output_folder(args, model)
    stem = f"owner-{scenario.owner}"
    write_csv(
        out / f"{stem}-sweep.csv",
        ["detection_threshold", "verification_threshold", "far", "frr"],
        [
            [
                r["detection_threshold"],
                r["verification_threshold"],
                f"{r['far']:.6f}",
                f"{r['frr']:.6f}",
            ]
            for r in rows
        ],
    )
    plots.plot_tradeoff(
        [r["detection_threshold"] for r in rows],
        [r["far"] for r in rows],
        [r["frr"] for r in rows],
        out / f"{stem}-tradeoff.png",
        thresholds.detection,
    )
    write_json(out / f"{stem}-report.json", report)
    print(
        f"owner {scenario.owner}: {report['verification_images']} verification images, "
        f"{report['genuine_probes']} genuine and {report['impostor_probes']} impostor probes"
    )
    print(
        f"at detection {thresholds.detection:.2f} / verification {thresholds.verification:.2f}: "
        f"false-reject rate {configured['frr']:.3f}, false-accept rate {configured['far']:.3f}"
    )
    if best:
        print(
            f"lowest FRR with FAR <= {args.max_far:g}: detection threshold "
            f"{best['detection_threshold']:.2f} (FRR {best['frr']:.3f}, FAR {best['far']:.3f})"
        )
    else:
        print(f"no detection threshold keeps FAR <= {args.max_far:g}")
    print(f"reports: {out}")
    return report


# --- many owners ----------------------------------------------------------------------------


def report_folder(args) -> Path:
    """Where a report of ``owners``, ``liveness`` or ``challenge`` goes: ``--out``, else
    ``<data root>/eval``."""
    return Path(args.out) if args.out else DataRoot.resolve(args.data_root).root / "eval"


def run_owners(args) -> dict:
    """Many owners, as users enrol (training.evaluation.owners): the models and, with
    --dlib-way, face_recognition's way, on the same owners and strangers in one run."""
    from faceapp.models.files import files_of
    from faceapp.models.runtime import load_model
    from training.evaluation import owners
    from training.evaluation.embeddings import embed_tree
    from training.identity.levels import people_split
    from training.pairs.data import held_out_people, list_tree

    tree = Path(args.lfw) if args.lfw else default_lfw()
    people = list_tree(tree)
    held_out = held_out_people(args.exclude_pairs, args.exclude_folds)
    _, evaluation = people_split(people, held_out, args.split_seed)
    photos = sorted(p for group in evaluation.values() for p in group)
    root = DataRoot.resolve(args.data_root).ensure()
    from faceapp.models.files import choose_model

    contenders = []
    for path in args.models or [None]:
        model = load_model(files_of(path) if path else choose_model(root))
        embedded = embed_tree(model, photos, tree, root)
        contenders.append(owners.model_contender(model.describe(), model, embedded.of))
    if args.dlib_way:
        from training.evaluation.dlib_way import embed_tree_dlib

        embedded = embed_tree_dlib(photos, tree, root, workers=args.workers)
        contenders.append(owners.dlib_way_contender(embedded.of))
    sizes = [int(s) for s in args.enrol.split(",")]
    seeds = list(range(args.seeds))
    results = owners.compare(contenders, evaluation, sizes=sizes, seeds=seeds)
    report = {
        "tree": str(tree),
        "split_seed": args.split_seed,
        "gallery_seeds": seeds,
        "held_out": {"pairs": args.exclude_pairs, "folds": args.exclude_folds},
        "evaluation_people": len(evaluation),
        "results": results,
    }
    out = report_folder(args)
    write_json(out / "owners-report.json", report)
    for size in sizes:
        print(f"\n{size} face(s) enrolled:")
        print(owners.markdown(results, size))
    print(f"report: {out / 'owners-report.json'}")
    return report


# --- real video ---------------------------------------------------------------------------


def run_video(args) -> dict:
    """Each talking-head clip as the owner, the others as strangers (training.evaluation.video)."""
    from training.attacks import clips_in
    from training.evaluation import video as video_eval

    model = open_model(args)
    clips = clips_in(args.videos, at_least=2)
    report = video_eval.evaluate(model, clips, enrol=args.enroll)
    report["model"] = str(model_file(model))
    out = output_folder(args, model)
    write_json(out / "video-report.json", report)
    for row in report["clips"]:
        for kind in ("frame", "attempt"):
            for point, values in row[kind].items():
                print(
                    f"owner {row['owner']}, {kind}s, {point}: FRR {values['frr']:.1%} of "
                    f"{values['genuine']}, FAR {values['far']:.1%} of {values['impostor']}"
                )
    for kind in ("frame", "attempt"):
        for point, values in report[kind].items():
            print(
                f"all clips, {kind}s, {point}: FRR {values['frr']:.2%} of {values['genuine']}, "
                f"FAR {values['far']:.2%} of {values['impostor']}"
            )
    print(f"reports: {out}")
    return report


# --- liveness -------------------------------------------------------------------------------------


def run_liveness(args) -> dict:
    """APCER and BPCER of the liveness check: tuned on some clips and attacks, measured on
    the others (training.evaluation.liveness)."""
    from faceapp.liveness.passive import PARALLAX_THRESHOLD
    from training.attacks import clips_in
    from training.evaluation import liveness as le

    videos = Path(args.videos)
    clips = clips_in(videos)
    final_clips = set(args.final_clips.split(",")) if args.final_clips else {clips[-1].stem}
    trials = le.live_trials(clips, args.seconds, args.fps, args.step) + le.attack_trials(
        Path(args.attacks)
    )
    kept_for_measuring = le.held_for_measuring(trials, final_clips)
    outcomes = []
    for number, trial in enumerate(trials, start=1):
        outcomes.append(le.run_trial(trial, args.seconds, args.fps))
        if number % 20 == 0:
            print(f"{number}/{len(trials)} presentations", flush=True)
    tuning = [o for o, kept in zip(outcomes, kept_for_measuring) if not kept]
    measured = [o for o, kept in zip(outcomes, kept_for_measuring) if kept]
    final_lfw = [o for o in measured if o.trial.source == "lfw"]
    chosen = le.choose_threshold(tuning)
    report = {
        "final_clips": sorted(final_clips),
        "seconds": args.seconds,
        "fps": args.fps,
        "shipped": le.rates(measured, PARALLAX_THRESHOLD),
        "tuning": le.rates(tuning, PARALLAX_THRESHOLD),
        "chosen_on_tuning": chosen,
        "at_chosen": le.rates(measured, chosen),
    }
    rounds = []  # each clip held out in turn, the threshold chosen on the rest
    for clip in clips:
        held_out = [o for o in outcomes if o.trial.source == clip.stem]
        rest = [o for o in outcomes if o.trial.source not in (clip.stem, "lfw")]
        threshold = le.choose_threshold(rest)
        rounds.append({"clip": clip.stem, **le.rates(held_out, threshold)})
    report["leave_one_clip_out"] = rounds
    out = report_folder(args)
    write_json(out / "liveness-report.json", report)
    write_json(out / "liveness-trials.json", {"trials": [le.describe(o) for o in outcomes]})
    shipped = report["shipped"]
    print(
        f"threshold {PARALLAX_THRESHOLD} (shipped), measured on {', '.join(sorted(final_clips))} "
        f"and {len(final_lfw)} LFW attacks: APCER {shipped['apcer']:.1%} "
        f"(print {shipped.get('apcer_print', 0):.1%}, "
        f"screen {shipped.get('apcer_screen', 0):.1%}), "
        f"BPCER {shipped['bpcer']:.1%} of {shipped['live_presentations']} live presentations"
    )
    print(f"threshold chosen on the tuning material: {chosen:.4f}")
    for row in rounds:
        print(
            f"held out {row['clip']}: threshold {row['threshold']:.4f}, APCER "
            f"{row['apcer']:.1%}, BPCER {row['bpcer']:.1%}"
        )
    print(f"reports: {out}")
    return report


def run_challenge(args) -> dict:
    """The challenge's figures: scripted live responders against video and still replays,
    under passive and the challenge with one and two movements
    (training.evaluation.challenge)."""
    import tempfile

    from training.attacks import clips_in
    from training.evaluation.challenge import measure

    videos = Path(args.videos)
    clips = clips_in(videos)
    live = videos / f"{args.live_clip}.mp4" if args.live_clip else clips[-1]
    if not live.is_file():
        raise FaceappError(f"--live-clip: no clip {live}")
    out = report_folder(args)
    out.mkdir(parents=True, exist_ok=True)
    journal = out / f"challenge-trials-seed{args.seed}.jsonl"  # a killed run resumes from it
    with tempfile.TemporaryDirectory(prefix="faceapp-challenge-") as enrolled:
        report = measure(
            clips,
            live,
            Path(enrolled),
            live_trials=args.live_trials,
            replays_per_kind=args.replays,
            stills_per_kind=args.stills,
            seed=args.seed,
            steps=tuple(args.steps),
            journal=journal,
            kinds=tuple(args.kinds) if args.kinds else None,
            turning_trials=args.turning_trials,
            log=lambda line: print(line, flush=True),
        )
    report = {"live_clip": live.stem, "seed": args.seed, **report}
    write_json(out / "challenge-report.json", report)
    for key, cell in report["summary"].items():
        rate = "BPCER" if key.startswith("live") else "APCER"
        timing, answers = cell["median_prompt_to_live"], cell["median_prompt_to_last_answer"]
        print(
            f"{key}: {rate} {cell['errors']}/{cell['trials']} ({cell['error_rate']:.1%}, "
            f"95% upper bound {cell['upper_95']:.1%})"
            + (f", median prompt to live {timing:.2f} s" if timing is not None else "")
            + (f" (to the last answer {answers:.2f} s)" if answers is not None else "")
        )
    print(f"report: {out / 'challenge-report.json'}")
    return report


# --- command line ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.evaluate",
        description="Measure a trained model's error rates and draw them as PNG plots.",
        epilog="examples:\n"
        "  python -m training.evaluate validation\n"
        "  python -m training.evaluate pairs --folds 7-8\n"
        "  python -m training.evaluate owner --owner Colin_Powell --enroll 50\n\n"
        "Legacy .h5 models can run code when loaded: use only .h5 files from a trusted\n"
        "source (.keras files load in Keras safe mode).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = OneLineParser(add_help=False, parents=[data_root_flag()])
    common.add_argument(
        "--model",
        metavar="FILE",
        help="model to evaluate (.keras, .int8.tflite or .json of a model; a "
        ".h5 only from a trusted source); default: the newest trained "
        "under <data root>/models/, else the shipped model",
    )
    common.add_argument(
        "--crop",
        choices=CROPS,
        type=canonical_crop,  # an older spelling (detect) is still accepted
        help="face crop before resizing (default: the one the model trained with)",
    )
    common.add_argument(
        "--out",
        "--output",
        dest="out",
        metavar="DIR",
        help="report folder (default: <model>.eval/ beside a trained model, "
        "<data root>/eval/<name>/ for the shipped one)",
    )
    common.add_argument(
        "--runtime",
        choices=("int8", "keras"),
        default="int8",
        help="embed with the model's int8 copy on LiteRT, what the app runs "
        "(default), or the float32 Keras model",
    )
    common.add_argument(
        "--detection-threshold",
        metavar="T",
        help="a match is a score above this (default: the model's metadata, else 0.5)",
    )
    # the data root and the report folder of the commands that evaluate no one model
    reports = OneLineParser(add_help=False, parents=[data_root_flag()])
    reports.add_argument(
        "--out",
        "--output",
        dest="out",
        metavar="DIR",
        help="report folder (default: <data root>/eval)",
    )
    lfw = OneLineParser(add_help=False)
    lfw.add_argument(
        "--lfw",
        metavar="DIR",
        help="LFW identity tree (default: $FACEAPP_LFW, else ../shared/data/lfw)",
    )

    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validation = commands.add_parser(
        "validation", parents=[common], help="the validation pairs of the model's training run"
    )
    validation.add_argument(
        "--target-far",
        type=float,
        default=0.01,
        metavar="FAR",
        help="report the threshold with this false-accept rate (default: 0.01)",
    )

    pairs = commands.add_parser("pairs", parents=[common, lfw], help="the LFW pairs protocol")
    pairs.add_argument(
        "--pairs-file",
        metavar="FILE",
        help="pairs file, pairs.txt format (default: <lfw>/pairs.txt)",
    )
    pairs.add_argument(
        "--folds",
        default="all",
        metavar="SPEC",
        help="folds to score, e.g. 7-8 or 1,3 (default: all); thresholds of each fold "
        "come from the other chosen folds",
    )
    pairs.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="only the first N same and N different pairs of each fold (quick checks)",
    )

    many = commands.add_parser(
        "owners",
        parents=[reports, lfw],
        help="many owners as users enrol them, on people kept apart from calibration",
    )
    many.add_argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help="models to compare (default: the model that runs)",
    )
    add_held_out_arguments(many)
    many.add_argument(
        "--dlib-way",
        action="store_true",
        help="also measure face_recognition's way (dlib's pipeline, tolerance 0.6, vote)",
    )
    many.add_argument(
        "--enrol",
        "--enroll",
        dest="enrol",
        default="5,1,10",
        metavar="N,N",
        help="faces enrolled per owner, one table each (default: 5,1,10)",
    )
    many.add_argument(
        "--seeds", type=int, default=5, help="enrolled-photo draws pooled (default: 5)"
    )
    many.add_argument(
        "--split-seed",
        type=int,
        default=42,
        help="the seed training.calibrate split the people with (default: 42)",
    )
    many.add_argument("--workers", type=int, default=1, help="dlib processes (default: 1)")

    owner = commands.add_parser(
        "owner",
        parents=[common, lfw],
        help="one enrolled person against many strangers, the app's rule",
    )
    owner.add_argument(
        "--owner", default="Colin_Powell", help="person folder (default: Colin_Powell)"
    )
    owner.add_argument(
        "--enrol",
        "--enroll",
        dest="enroll",
        type=int,
        default=50,
        metavar="N",
        help="verification images of the owner (default: 50); the rest are probes",
    )
    owner.add_argument(
        "--impostors",
        type=int,
        default=500,
        metavar="N",
        help="other people, one image each (default: 500)",
    )
    owner.add_argument(
        "--verification-threshold",
        metavar="T",
        help="verified when the fraction of matches is above this "
        "(default: the model's metadata, else 0.5)",
    )
    owner.add_argument(
        "--max-far",
        type=float,
        default=0.01,
        metavar="FAR",
        help="report the detection threshold with the lowest FRR at this FAR (default: 0.01)",
    )
    owner.add_argument("--seed", type=int, default=0, help="seed for choosing images (default: 0)")
    owner.add_argument(
        "--any-impostors",
        action="store_true",
        help="also take strangers the model was trained on (by default only "
        "people its metadata says it never saw)",
    )
    video = commands.add_parser(
        "video",
        parents=[common],
        help="each real clip as the owner (a few early frames enrolled), the others as strangers",
    )
    video.add_argument("--videos", required=True, metavar="DIR", help="the clips (.mp4)")
    video.add_argument(
        "--enrol",
        "--enroll",
        dest="enroll",
        type=int,
        default=5,
        metavar="N",
        help="frames of each clip's first 2 s enrolled (default: 5)",
    )
    video.add_argument(
        "--verification-threshold",
        metavar="T",
        help="verified when the fraction of matches is above this "
        "(default: the model's metadata, else 0.5)",
    )
    live = commands.add_parser(
        "liveness",
        parents=[reports],
        help="APCER and BPCER of the liveness check (live clips against replay attacks)",
    )
    live.add_argument("--videos", required=True, metavar="DIR", help="the live clips (.mp4)")
    live.add_argument(
        "--attacks",
        required=True,
        metavar="DIR",
        help="replay attacks made by python -m training.attacks",
    )
    live.add_argument(
        "--final-clips",
        metavar="NAMES",
        help="clips (and attacks made from them) kept out of tuning, for the "
        "figures (default: the last clip by name)",
    )
    live.add_argument(
        "--seconds",
        type=float,
        default=5.0,
        help="seconds of each presentation (default: 5, the app's timeout)",
    )
    live.add_argument("--fps", type=float, default=25.0, help="frames per second (default: 25)")
    live.add_argument(
        "--step",
        type=float,
        default=1.5,
        help="seconds between the starts of live presentations (default: 1.5)",
    )
    challenge = commands.add_parser(
        "challenge",
        parents=[reports],
        help="the challenge against video replays, and a scripted live responder",
    )
    challenge.add_argument("--videos", required=True, metavar="DIR", help="the clips (.mp4)")
    challenge.add_argument(
        "--live-clip",
        metavar="NAME",
        help="the clip the live responder's frames come from (default: the last by name)",
    )
    challenge.add_argument(
        "--live-trials", type=int, default=40, metavar="N", help="live trials (default: 40)"
    )
    challenge.add_argument(
        "--turning-trials",
        type=int,
        default=40,
        metavar="N",
        help="smooth live responders, the clips' heads turned as a person turns (default: 40)",
    )
    challenge.add_argument(
        "--replays",
        type=int,
        default=7,
        metavar="N",
        help="phone and monitor replays of each clip (default: 7)",
    )
    challenge.add_argument(
        "--stills",
        type=int,
        default=5,
        metavar="N",
        help="still replays of each clip, printed and on a screen (default: 5)",
    )
    challenge.add_argument(
        "--steps",
        type=int,
        nargs="+",
        choices=(1, 2, 3),
        default=[1, 2],
        metavar="N",
        help="challenges measured, by their number of movements (default: 1 2)",
    )
    challenge.add_argument(
        "--kinds",
        nargs="+",
        choices=("phone", "monitor", "print", "screen"),
        metavar="KIND",
        help="only these replay kinds (default: all; the same replays are drawn either way)",
    )
    challenge.add_argument("--seed", type=int, default=7, help="replay seed (default: 7)")
    return parser


COMMANDS = {
    "owners": run_owners,
    "validation": run_validation,
    "pairs": run_pairs,
    "owner": run_owner,
    "video": run_video,
    "liveness": run_liveness,
    "challenge": run_challenge,
}


def check_numbers(args) -> None:
    """Refuse thresholds and rates outside [0, 1] before any slow work (loading, scoring)."""
    from faceapp.verification.rule import parse_threshold

    for flag in ("detection_threshold", "verification_threshold", "target_far", "max_far"):
        value = getattr(args, flag, None)
        if value is not None:
            parse_threshold(value, "--" + flag.replace("_", "-"))


@cli_guard
def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    check_numbers(args)
    COMMANDS[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
