"""Identity pre-training (CosFace, optionally distilled from the dlib teacher), then the
Siamese head and the app's threshold: the library behind ``python -m training.recipes
identity-pretrain`` (results and times in docs/accuracy.md).

The steps of :func:`identity_pretrain`: hold out the evaluation folds' people and the
calibration owners; split the rest into class people and head people
(:mod:`training.identity.classifier`); decode every face once with the model's crop; with a teacher,
its targets (one per photo, or per augmented view: :mod:`training.identity.views`); pre-train each
member (:func:`pretrain_member`, resumable); fit the head on the head people's pairs and
choose the detection threshold under the app's vote (:func:`head_and_threshold`); save the
model, its int8 copy and metadata (:mod:`training.export`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from faceapp.errors import FaceappError
from faceapp.paths import DataRoot
from faceapp.verification.rule import DEFAULT_VERIFICATION_THRESHOLD
from faceapp.vision.imaging import INPUT_SHAPE
from training import export
from training.identity import calibration as calibrating
from training.identity import classifier as identity
from training.pairs.checkpoints import run_id
from training.pairs.data import held_out_people, list_tree, tree_pairs


def check_flags(args) -> None:
    """Flags that cannot work, refused before minutes of data preparation."""
    from faceapp.keras.networks import VIEWS

    unknown = sorted(set(args.member_views.split(",")) - set(VIEWS))
    if unknown:
        raise FaceappError(
            f"--member-views: unknown view {unknown[0]!r} (known: {', '.join(VIEWS)})"
        )
    if args.teacher_singles and not args.teacher:
        raise FaceappError("--teacher-singles needs --teacher")
    if args.teacher_views > 1 and (not args.teacher or args.crop != "aligned"):
        raise FaceappError("--teacher-views needs --teacher and --crop aligned")
    if args.teacher:
        from faceapp.keras.networks import make_embedding
        from training.identity.teacher import TEACHER_DIM, require_dlib

        require_dlib()
        size = make_embedding(args.architecture).output_shape[-1]
        if size != TEACHER_DIM:
            raise FaceappError(
                f"--teacher {args.teacher} needs a {TEACHER_DIM}-d embedding; "
                f"--architecture {args.architecture} gives {size}"
            )


def identity_pretrain(args) -> dict:
    started_all = time.monotonic()
    check_flags(args)
    root = DataRoot.resolve(args.data_root)
    path = export.output_path(args.output, root, "identity-")
    lfw = Path(args.tree)
    people = list_tree(lfw, exclude=held_out_people(args.exclude_pairs, args.exclude_folds))
    calibration, people = calibrating.hold_out(
        people,
        args.calibration_owners,
        args.calibration_impostors,
        args.calibration_enroll,
        args.seed,
    )
    split = identity.identity_split(
        people, args.min_images, args.max_images, args.head_fraction, args.seed
    )
    rng = np.random.default_rng(args.seed)
    head, singles = split.head, {}
    if args.teacher and args.teacher_singles:
        # single-image people teach through the teacher only (no class); the head and its
        # threshold then use only the held-back people with 2+ images, never distilled
        singles = {n: imgs for n, imgs in split.head.items() if len(imgs) == 1}
        head = {n: imgs for n, imgs in split.head.items() if len(imgs) >= 2}
    pairs = tree_pairs(head, args.head_pairs, rng)
    if len({pair.label for pair in pairs}) < 2:  # say so now, not after hours of training
        raise FaceappError(
            f"the head's threshold needs same- and different-person pairs of held-back people, "
            f"but {len(head)} held back ({len(pairs)} pairs): raise --head-fraction or "
            f"--head-pairs, or give --tree more people"
        )
    class_paths = [p for images in split.classes.values() for p in images]
    single_paths = [p for images in singles.values() for p in images]
    cache = root.root / "cache" / f"{lfw.resolve().name}-{args.crop}.npz"
    images, index = identity.cached_table(
        class_paths
        + single_paths
        + [p for pair in pairs for p in (pair.first, pair.second)]
        + (calibration.paths if calibration else []),
        args.crop,
        cache,
    )
    names = sorted(split.classes)
    row_list, label_list = [], []
    for label, name in enumerate(names):
        for p in split.classes[name]:
            if p.resolve() in index:
                row_list.append(index[p.resolve()])
                label_list.append(label)
    row_list += [index[p.resolve()] for p in single_paths if p.resolve() in index]
    label_list += [-1] * (len(row_list) - len(label_list))  # no class: one_hot(-1) is zeros
    rows, labels = np.asarray(row_list), np.asarray(label_list)
    targets, training_images = None, images[rows]
    if args.teacher and args.teacher_views > 1:
        training_images, targets, labels = teacher_view_targets(
            root, lfw, index, rows, labels, args.teacher_views, args.workers
        )
    elif args.teacher:
        targets, rows, labels = teacher_targets(root, lfw, images, index, rows, labels)
        training_images = images[rows]
    settings = {
        "command": export.invocation("training.recipes"),
        "recipe": "identity-pretrain",
        "tree": str(lfw.resolve()),
        "exclude_pairs": str(Path(args.exclude_pairs).resolve()) if args.exclude_pairs else None,
        "exclude_folds": args.exclude_folds,
        "max_people": None,
        "crop": args.crop,
        "architecture": args.architecture,
        "min_images": args.min_images,
        "max_images": args.max_images,
        "head_fraction": args.head_fraction,
        "head_pairs": args.head_pairs,
        "loss": args.loss,
        "margin": args.margin,
        "scale": args.scale,
        "augment": args.augment,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "weight_decay": args.weight_decay,
        "steps_per_epoch": args.steps_per_epoch,
        "seed": args.seed,
        "data_root": str(root.root),
        "head": args.head,
        "mirror_average": not args.no_mirror_average,
        "members": args.members,
        "member_views": [member_view(args, k) for k in range(args.members)],
        "calibration_owners": [s.owner for s in calibration.scenarios] if calibration else [],
        "calibration_impostors": len(calibration.scenarios[0].impostors) if calibration else 0,
    }
    if args.teacher:
        settings.update(
            teacher=args.teacher,
            teacher_weight=args.teacher_weight,
            teacher_singles=args.teacher_singles,
            teacher_views=args.teacher_views,
        )
    steps = args.steps_per_epoch or max(1, len(rows) // args.batch_size)
    print(
        f"data: {len(names)} class people, {len(rows)} images ({len(single_paths)} of "
        f"single-image people, teacher only); {len(head)} head people, "
        f"{len(pairs)} head pairs; {steps} steps x {args.epochs} epochs",
        flush=True,
    )

    backup = root.checkpoints / ("recipe-" + run_id(settings)[4:])
    fit_started = time.monotonic()
    members, history = [], {}
    for member in range(args.members):
        embedding, history = pretrain_member(
            args, member, len(names), training_images, labels, targets, steps, backup
        )
        members.append(embedding)
    fit_seconds = time.monotonic() - fit_started

    if args.members > 1:
        from faceapp.keras.networks import ensemble

        embedding = ensemble(members, name="members")
    if not args.no_mirror_average:
        from faceapp.keras.networks import mirror_averaged

        embedding = mirror_averaged(embedding)
    pairs = [p for p in pairs if p.first.resolve() in index and p.second.resolve() in index]
    model, summary, chosen = head_and_threshold(
        embedding, images, index, pairs, calibration, args.head
    )
    if chosen is not None:
        threshold = chosen["detection_threshold"]
        threshold_rule = (
            f"lowest with FAR <= {chosen['max_far']:.1%} under the app's "
            f"vote on calibration owners (not trained on)"
        )
    else:
        if calibration:
            print(
                "warning: no detection threshold keeps the calibration owners' false "
                "accepts within bounds; using the head pairs' best-accuracy threshold",
                file=sys.stderr,
            )
        threshold = round(summary["best_accuracy_threshold"], 4)
        threshold_rule = "best accuracy on the head people's pairs (not trained on)"

    metadata = export.export(
        model,
        path,
        export.model_metadata(
            architecture=args.architecture,
            crop=args.crop,
            detection_threshold=threshold,
            threshold_rule=threshold_rule,
            settings=settings,
            data={
                "class_people": len(names),
                "class_images": int(np.sum(labels >= 0)),
                "teacher_only_images": int(np.sum(labels < 0)),
                "head_people": len(head),
                "head_pairs": len(pairs),
            },
            metrics={"head_pairs": summary, "calibration": chosen},
            training_seconds=time.monotonic() - started_all,
            epochs=len(next(iter(history.values()), [])) or args.epochs,
            members=args.members,
            pretrain_seconds=round(fit_seconds, 1),
            history={k: [round(float(x), 4) for x in v] for k, v in history.items()},
        ),
    )
    for member in range(args.members):  # the model is saved: the members' copies can go
        (backup / f"member-{member}.npz").unlink(missing_ok=True)
    print(f"model: {path}")
    print(
        f"head pairs ({len(pairs)}): best accuracy {summary['best_accuracy']:.3f} at "
        f"{summary['best_accuracy_threshold']:.3f}, ROC AUC {summary['roc_auc']:.3f}; "
        f"detection threshold {threshold:.2f} ({threshold_rule}); "
        f"pre-training {fit_seconds / 60:.1f} min, total "
        f"{metadata['training_seconds'] / 60:.1f} min",
        flush=True,
    )
    return metadata


def member_view(args, member: int) -> str:
    """The view (``--member-views``, in turn) of ensemble member ``member``."""
    views = args.member_views.split(",")
    return views[member % len(views)]


def pretrain_member(
    args,
    member: int,
    classes: int,
    images: np.ndarray,
    labels: np.ndarray,
    targets,
    steps: int,
    backup: Path,
):
    """Pre-train one embedding network (seed ``args.seed + member``) as an identity
    classifier, with the teacher's pull when ``targets`` are given. Resumable: epochs are
    backed up under ``backup/member-<k>/`` and a finished member's weights are kept in
    ``backup/member-<k>.npz`` until the model is saved. Returns
    ``(embedding, history dict)``."""
    import keras

    from faceapp.keras.networks import make_viewing_embedding

    keras.utils.set_random_seed(args.seed + member)
    embedding = make_viewing_embedding(
        args.architecture,
        member_view(args, member),
        f"member_{member}" if args.members > 1 else "embedding",
    )
    finished = backup / f"member-{member}.npz"
    if finished.is_file():
        with np.load(finished) as stored:
            embedding.set_weights([stored[f"w{k}"] for k in range(len(stored.files))])
        print(f"member {member + 1}: already trained ({finished})", flush=True)
        return embedding, {}
    image = keras.Input(shape=INPUT_SHAPE)
    vector = embedding(image)
    cosines = identity.make_cosine_classifier(classes)(vector)
    margin = args.margin if args.loss == "cosface" else 0.0
    identity_loss = identity.margin_loss(classes, args.scale, margin)
    accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    losses: Any
    metric_spec: Any
    loss_weights: Any
    if targets is None:
        classifier = keras.Model(image, cosines)
        losses, metric_spec, loss_weights = identity_loss, [accuracy], None
    else:  # two outputs: identity cosines, and the embedding the teacher's vector pulls on
        classifier = keras.Model(image, {"cosines": cosines, "embedding": vector})
        losses = {"cosines": identity_loss, "embedding": identity.cosine_distance}
        metric_spec = {"cosines": [accuracy]}
        loss_weights = {"cosines": 1.0, "embedding": args.teacher_weight}
    schedule = keras.optimizers.schedules.CosineDecay(
        args.learning_rate, decay_steps=steps * args.epochs, alpha=0.01
    )
    classifier.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=args.weight_decay),
        loss=losses,
        loss_weights=loss_weights,
        metrics=metric_spec,
    )
    if images.ndim == 5:  # several views of each photo, each with its teacher vector
        dataset = identity.ViewBatches(
            images, labels, targets, args.batch_size, seed=args.seed + member, steps=steps
        )
    else:
        dataset = identity.identity_dataset(
            images,
            labels,
            args.batch_size,
            augment=args.augment,
            seed=args.seed + member,
            targets=targets,
        )
    callbacks = [keras.callbacks.BackupAndRestore(str(backup / f"member-{member}"))]
    if args.max_minutes:
        started = time.monotonic()

        class TimeLimit(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if time.monotonic() - started > args.max_minutes * 60:
                    print(f"time limit reached after epoch {epoch + 1}", flush=True)
                    self.model.stop_training = True

        callbacks.append(TimeLimit())
    history = classifier.fit(
        dataset,
        epochs=args.epochs,
        steps_per_epoch=None if images.ndim == 5 else steps,
        callbacks=callbacks,
        verbose=args.verbose,
    )
    identity.save_npz(finished, **{f"w{k}": w for k, w in enumerate(embedding.get_weights())})
    return embedding, history.history


def head_and_threshold(
    embedding, images: np.ndarray, index: dict, pairs: list, calibration, head: str
):
    """Fit the head on the head people's ``pairs`` and, with ``calibration``, choose the
    app's detection threshold under its vote. Returns ``(Siamese model, head-pair summary,
    calibration result or None)``."""
    from faceapp.models.head import Head
    from training.evaluation import metrics
    from training.evaluation.scoring import EmbeddingScorer, embed

    scored = [p for pair in pairs for p in (pair.first, pair.second)]
    scored += calibration.paths if calibration else []
    rows_of = {p: index[p.resolve()] for p in scored if p.resolve() in index}
    used = sorted(set(rows_of.values()))
    vectors = np.zeros((len(images), embedding.output_shape[-1]), np.float32)
    vectors[used] = embed(embedding, images[used].astype(np.float32) / np.float32(255.0))
    firsts, seconds = [p.first for p in pairs], [p.second for p in pairs]
    labels = np.array([p.label for p in pairs])
    features = np.abs(
        vectors[[rows_of[p] for p in firsts]] - vectors[[rows_of[p] for p in seconds]]
    )
    kernel, bias = identity.fit_head(features, labels, head=head)
    scorer = EmbeddingScorer(vectors, rows_of, Head(kernel, bias))
    chosen = None
    if calibration:
        chosen = calibrating.detection_threshold(
            calibration, scorer, DEFAULT_VERIFICATION_THRESHOLD
        )
    summary = metrics.summary(labels, scorer.scores(firsts, seconds))
    return identity.attach_head(embedding, kernel, bias), summary, chosen


def teacher_targets(
    root: DataRoot, lfw: Path, images: np.ndarray, index: dict, rows: np.ndarray, labels: np.ndarray
):
    """The dlib teacher's unit embedding for every training row (computed once, cached);
    rows the teacher could not read are dropped. Returns ``(targets, rows, labels)``."""
    from training.identity import teacher

    by_row = {row: path for path, row in index.items()}
    table = teacher.teacher_table([by_row[r] for r in rows], teacher.cache_path(root, lfw))
    keep = np.array([by_row[r] in table for r in rows], bool)
    rows, labels = rows[keep], labels[keep]
    targets = teacher.centred_unit(np.stack([table[by_row[r]] for r in rows]))
    return targets.astype(np.float32), rows, labels


def teacher_view_targets(
    root: DataRoot,
    lfw: Path,
    index: dict,
    rows: np.ndarray,
    labels: np.ndarray,
    views: int,
    workers: int,
):
    """Every training photo as ``views`` pictures, each with the dlib teacher's vector of
    that picture (training.identity.views; computed once, cached). Returns ``(pictures (N, views,
    100, 100, 3) uint8, distillation targets (N, views, 128), labels (N,))``; photos
    without landmarks are dropped."""
    from training.identity import teacher
    from training.identity.views import cache_folder, view_table

    by_row = {row: path for path, row in index.items()}
    label_of = {by_row[r]: label for r, label in zip(rows, labels)}
    kept, pictures, vectors = view_table(
        [by_row[r] for r in rows], cache_folder(root, lfw, views, 0), views, seed=0, workers=workers
    )
    targets = teacher.centred_unit(vectors.reshape(-1, vectors.shape[-1]))
    return (
        pictures,
        targets.reshape(vectors.shape).astype(np.float32),
        np.array([label_of[p] for p in kept]),
    )
