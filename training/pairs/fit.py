"""Training the Siamese verifier on pairs: the library behind ``python -m training.run``.

:func:`train` runs the story of one run: choose a ``tf.distribute`` strategy; split the data
before pairing (:mod:`training.pairs.data`); build the model (new, ``--init-from``, or the run's
last checkpoint); ``model.fit`` with checkpoints every N epochs (:mod:`training.pairs.checkpoints`);
evaluate on the validation pairs, draw the plots, and save the model, its int8 copy and
metadata (:mod:`training.export`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from faceapp.errors import FaceappError
from faceapp.models.metadata import read_metadata
from faceapp.paths import DataRoot
from faceapp.storage import write_bytes_atomic
from training import export
from training.pairs import data as training_data
from training.pairs.checkpoints import RunFolder, run_id
from training.pairs.distribute import (
    is_chief,
    is_multi_worker,
    make_strategy,
    prepare_multi_worker_fit,
    worker_count,
)

PRECISIONS = ("fp32", "bf16")


def resolve_source(args) -> str:
    source = args.source or ("tree" if args.tree else "owner")
    if source in ("tree", "both") and not args.tree:
        raise FaceappError(f"--source {source} needs --tree DIR (an identity tree such as LFW)")
    if source == "owner" and args.tree:
        raise FaceappError("--tree was given with --source owner; use --source tree or both")
    return source


def check_numbers(args) -> None:
    for flag, value in (
        ("--epochs", args.epochs),
        ("--batch-size", args.batch_size),
        ("--checkpoint-every", args.checkpoint_every),
        ("--tree-pairs", args.tree_pairs),
        ("--pairs-per-anchor", args.pairs_per_anchor),
    ):
        if value < 1:
            raise FaceappError(f"{flag} must be at least 1, got {value}")
    if args.steps_per_epoch is not None and args.steps_per_epoch < 1:
        raise FaceappError(f"--steps-per-epoch must be at least 1, got {args.steps_per_epoch}")
    if not args.learning_rate > 0:
        raise FaceappError(f"--learning-rate must be positive, got {args.learning_rate}")
    if not 0 < args.target_far < 1:
        raise FaceappError(f"--target-far must be between 0 and 1, got {args.target_far}")


def run_settings(args, source: str, root: DataRoot) -> dict:
    """What defines a run (its checkpoints are only reused when all of these match)."""
    return {
        "data_root": str(root.root.resolve()),
        "source": source,
        "tree": str(Path(args.tree).resolve()) if args.tree else None,
        "tree_pairs": args.tree_pairs,
        "max_people": args.max_people,
        "exclude_pairs": str(Path(args.exclude_pairs).resolve()) if args.exclude_pairs else None,
        "exclude_folds": args.exclude_folds,
        "pairs_per_anchor": args.pairs_per_anchor,
        "crop": args.crop,
        "val_fraction": args.val_fraction,
        "augment": args.augment,
        "seed": args.seed,
        "architecture": args.architecture,
        "init_from": str(Path(args.init_from).resolve()) if args.init_from else None,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "steps_per_epoch": args.steps_per_epoch,
        "precision": args.precision,
    }


def output_path(args, root: DataRoot) -> Path:
    path = export.output_path(args.output, root, "siamese-")
    if args.h5 and path.with_suffix(".h5").exists():
        raise FaceappError(f"refusing to overwrite existing model: {path.with_suffix('.h5')}")
    return path


# --- the model ------------------------------------------------------------------------------------


def compile_model(model, learning_rate: float) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[
            keras.metrics.BinaryAccuracy(name="accuracy"),
            keras.metrics.Precision(name="precision"),
            keras.metrics.Recall(name="recall"),
        ],
    )


def build_model(settings: dict, resume: tuple[Path, int] | None):
    """The model to train: the checkpoint's (with optimiser state), ``--init-from``'s, or new.

    Under ``--precision bf16`` the layers compute in bfloat16 (Keras' ``mixed_bfloat16``
    policy; a checkpoint keeps its policy in its config).
    """
    import keras

    from faceapp.keras.networks import L1Dist, load_model, make_siamese_model

    if resume:
        try:
            return keras.saving.load_model(resume[0], custom_objects={"L1Dist": L1Dist})
        except Exception as error:  # corrupt checkpoint: say which file
            raise FaceappError(
                f"cannot load checkpoint {resume[0]}: {error}; rerun with --fresh to start over"
            ) from None
    mixed = settings.get("precision") == "bf16"
    if settings["init_from"] and not mixed:
        model = load_model(settings["init_from"])
    else:
        with precision_policy(settings):
            model = make_siamese_model(settings["architecture"])
        if settings["init_from"]:
            model.set_weights(load_model(settings["init_from"]).get_weights())
    compile_model(model, settings["learning_rate"])
    return model


@contextmanager
def precision_policy(settings: dict):
    """Build layers under the run's precision policy, then restore float32."""
    import keras

    mixed = settings.get("precision") == "bf16"
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if mixed else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def float32_copy(model, settings: dict):
    """The trained model as float32 layers (what the app loads), same weights."""
    if settings.get("precision") != "bf16":
        return model
    from faceapp.keras.networks import make_siamese_model

    copy = make_siamese_model(settings["architecture"])
    copy.set_weights(model.get_weights())
    return copy


def make_checkpoint_callback(run: RunFolder, every: int, chief: bool, settings: dict):
    import keras

    from faceapp.keras.networks import save_model

    class PeriodicCheckpoint(keras.callbacks.Callback):
        """Every ``every`` epochs and after the last: the model to ``epoch-NNNN.keras``."""

        def on_epoch_end(self, epoch, logs=None):
            done = epoch + 1
            if done % every and done != self.params.get("epochs"):
                return
            if not chief:
                # Under MultiWorkerMirroredStrategy saving runs collective ops, so every
                # worker saves; the others write a throw-away copy.
                with tempfile.TemporaryDirectory() as scratch:
                    self.model.save(Path(scratch) / "checkpoint.keras")
                return
            path = run.checkpoint_path(done)
            save_model(self.model, path, overwrite=True)
            run.write_state(epoch=done, checkpoint=path.name, finished=False, settings=settings)
            run.prune()

    return PeriodicCheckpoint()


# --- evaluation and export ------------------------------------------------------------------------


def validation_scores(model, table, rows):
    """Scores of the validation rows, embedding each table image once."""
    import numpy as np

    from faceapp.keras.networks import siamese_parts
    from faceapp.models.head import Head
    from training.evaluation.scoring import embed

    embedding, kernel, bias = siamese_parts(model)
    used = np.unique(rows[:, :2])
    images = table.images[used].astype(np.float32) / np.float32(255.0)
    vectors = np.zeros((len(table.images), kernel.shape[0]), np.float32)
    vectors[used] = embed(embedding, images)
    return Head(kernel, bias).pair_scores(vectors[rows[:, 0]], vectors[rows[:, 1]])


def save_run(
    model,
    path: Path,
    args,
    settings,
    split,
    table,
    train_rows,
    val_rows,
    run: RunFolder,
    seconds: float,
    epochs_done: int,
) -> dict:
    """Write the model (training.export), its history, plots and metadata; return the
    metadata."""
    from faceapp.keras.networks import save_model
    from training.evaluation import metrics, plots

    model = float32_copy(model, settings)
    if args.h5:
        save_model(model, path.with_suffix(".h5"))
    labels = val_rows[:, 2]
    scores = validation_scores(model, table, val_rows)
    summary = metrics.summary(labels, scores, threshold=0.5, target_far=args.target_far)
    detection_threshold = summary["best_accuracy_threshold"]
    stem = path.with_suffix("")
    files = {}
    if run.history_path.exists():
        files["history"] = write_bytes_atomic(
            Path(f"{stem}.history.csv"), run.history_path.read_bytes()
        ).name
        history = run.read_history()
        if history:
            files["curves_plot"] = plots.plot_history(history, Path(f"{stem}.curves.png")).name
    roc = metrics.roc_curve(labels, scores)
    files["roc_plot"] = plots.plot_roc(
        {"validation": (roc.fpr, roc.tpr)}, Path(f"{stem}.roc.png")
    ).name
    files["scores_plot"] = plots.plot_score_histograms(
        labels, scores, Path(f"{stem}.scores.png"), detection_threshold
    ).name
    metadata = export.export(
        model,
        path,
        export.model_metadata(
            architecture=settings["architecture"],
            crop=settings["crop"],
            detection_threshold=detection_threshold,
            threshold_rule="best accuracy on the validation pairs",
            settings=settings,
            data={
                **split.counts,
                "train_pairs": int(len(train_rows)),
                "validation_pairs": int(len(val_rows)),
                "images_loaded": int(len(table.images)),
                "images_skipped": len(table.skipped),
            },
            metrics={"validation": summary},
            training_seconds=seconds,
            epochs=epochs_done,
            command=export.invocation("training.run"),
            files=files,
            checkpoints=str(run.folder),
        ),
    )
    return metadata


def report(path: Path, metadata: dict) -> None:
    val = metadata["metrics"]["validation"]
    at = val["at_threshold"]
    print(f"model: {path}")
    print(
        f"validation ({val['pairs']} pairs): accuracy {at['accuracy']:.3f}, precision "
        f"{at['precision']:.3f}, recall {at['recall']:.3f} at 0.5; ROC AUC {val['roc_auc']:.3f}, "
        f"EER {val['eer']:.3f}; TAR {val['tar_at_target_far']:.3f} at FAR "
        f"{val['target_far']:g} (threshold {val['threshold_at_target_far']:.3f})"
    )
    print(
        f"recommended detection threshold: {metadata['detection_threshold']} "
        f"(best validation accuracy {val['best_accuracy']:.3f}); metadata and plots beside "
        "the model"
    )


# --- main -----------------------------------------------------------------------------------------


def train(args) -> int:
    check_numbers(args)
    source = resolve_source(args)
    root = DataRoot.resolve(args.data_root)
    settings = run_settings(args, source, root)
    if args.init_from:
        if not Path(args.init_from).is_file():
            raise FaceappError(f"--init-from model not found: {args.init_from}")
        settings["architecture"] = read_metadata(args.init_from).get(
            "architecture", args.architecture
        )
    chief = is_chief()
    path = output_path(args, root) if chief else None

    split = training_data.build_split(settings, root)
    table = training_data.load_table(
        training_data.pair_paths(split.train + split.validation), args.crop
    )
    train_rows, val_rows = table.indices(split.train), table.indices(split.validation)
    for name, rows in (("training", train_rows), ("validation", val_rows)):
        if len(rows) == 0 or rows[:, 2].min() == rows[:, 2].max():
            raise FaceappError(
                f"too few readable images to make {name} pairs of both kinds "
                f"({len(rows)} pairs); add images to the training folders"
            )

    strategy = make_strategy(args.strategy)  # before any TensorFlow operation
    import keras

    run = RunFolder(root.checkpoints / run_id(settings))
    done = run.state()
    if done.get("finished") and not args.fresh and Path(str(done.get("model", ""))).is_file():
        # the same command again: the model exists; training it again would cost as much
        print(
            f"this run has finished already: its model is {done['model']} "
            "(--fresh trains it again from the start)"
        )
        return 0
    resume = None if args.fresh else run.resumable()
    if resume is None and chief:
        run.start_fresh()
    initial_epoch = resume[1] if resume else 0
    print(
        f"data: {len(train_rows)} training and {len(val_rows)} validation pairs from "
        f"{len(table.images)} images ({source}); run folder {run.folder}",
        flush=True,
    )
    if resume:
        print(
            f"resuming from the checkpoint at epoch {initial_epoch}: {resume[0].name}", flush=True
        )
        if chief:
            run.remove_temporaries()  # a checkpoint whose write was killed
            run.trim_history(initial_epoch)
    if initial_epoch >= args.epochs:
        print(f"the checkpoint already has {initial_epoch} epochs (--epochs {args.epochs})")

    keras.utils.set_random_seed(args.seed + initial_epoch)
    with strategy.scope():
        model = build_model(settings, resume)

    workers = worker_count()
    train_ds = training_data.make_dataset(
        train_rows,
        table.images,
        args.batch_size,
        shuffle=True,
        augment=args.augment,
        seed=args.seed,
    )
    val_ds = training_data.make_dataset(val_rows, table.images, args.batch_size)
    steps, val_steps = args.steps_per_epoch, None
    if workers > 1:  # equal step counts on every worker, or the collectives wait forever
        steps = steps or max(1, len(train_rows) // args.batch_size)
        val_steps = max(1, len(val_rows) // args.batch_size)
        val_ds = val_ds.repeat()
    if steps:
        train_ds = train_ds.repeat()

    callbacks = []
    if chief:
        run.create_history()  # private (0600); CSVLogger appends to it
        callbacks.append(keras.callbacks.CSVLogger(str(run.history_path), append=True))
    callbacks.append(make_checkpoint_callback(run, args.checkpoint_every, chief, settings))
    if args.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=args.early_stopping, restore_best_weights=True
            )
        )
    if args.tensorboard and chief:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run.folder / "tensorboard")))

    if is_multi_worker(strategy):
        prepare_multi_worker_fit(model)  # Keras 3 needs this (training/pairs/distribute.py)
    started = time.monotonic()
    try:
        with strategy.scope():
            history = model.fit(
                train_ds,
                validation_data=val_ds,
                epochs=args.epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=steps,
                validation_steps=val_steps,
                callbacks=callbacks,
                verbose=args.verbose,
                shuffle=False,
            )  # the dataset shuffles itself
    except KeyboardInterrupt:
        state = run.state()
        where = f"epoch {state['epoch']}" if state.get("epoch") else "the start"
        print(f"interrupted; run the same command again to resume from {where}", file=sys.stderr)
        return 130
    seconds = time.monotonic() - started
    epochs_done = initial_epoch + len(history.epoch)
    if not chief or path is None:
        return 0
    metadata = save_run(
        model, path, args, settings, split, table, train_rows, val_rows, run, seconds, epochs_done
    )
    run.write_state(
        epoch=epochs_done,
        checkpoint=run.state().get("checkpoint", ""),
        finished=True,
        model=str(path),
        settings=settings,
    )
    report(path, metadata)
    return 0
