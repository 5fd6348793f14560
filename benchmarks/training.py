"""Training throughput on batches of pairs, and the input pipeline timed alone.

Pipeline: ``training.pairs.data`` (the project's: decode each image once into a table, then
``tf.data`` gather -> augment -> batch -> prefetch) on LFW pairs drawn with
``training.pairs.data.tree_pairs``. Its figure is pairs/s with nothing else running; the row
beside it says what share of a training step's time the pipeline would need on the same
cores (well under 1 means it is never the bottleneck).

Training: ``model.fit`` the way ``training.run`` compiles it (Adam, binary cross-entropy),
on the same dataset, for a few steps after a warm-up epoch (tracing excluded). Images/s
counts two images per pair; the FLOP rate counts 3x the forward cost per image (forward,
plus the backward pass's gradients with respect to activations and to weights), divided by
the matmul rate measured just before. Target: at least 0.70.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.core import Results, Row, at_least
from benchmarks.data import people_with_images

TARGET = 0.70
SECTION = "training"
TRAIN_VARIANTS = ("fp32", "xla", "bf16")


def build_pipeline(root, pairs: int, batch: int, augment: bool):
    """``(dataset, description)`` from the project's ``training.pairs.data``."""
    from training.pairs import data as training_data

    people = people_with_images(root, minimum=2, limit=40)
    rng = np.random.default_rng(0)
    pair_list = training_data.tree_pairs(people, pairs, rng)
    table = training_data.load_table(training_data.pair_paths(pair_list), crop="none")
    rows = table.indices(pair_list)
    dataset = training_data.make_dataset(
        rows, table.images, batch, shuffle=True, augment=augment, seed=0
    )
    return dataset.repeat(), (
        f"training.pairs.data on {len(rows)} LFW pairs ({len(table.images)} images), "
        f"augment={augment}"
    )


def pipeline_rate(dataset, batches: int, batch: int) -> float:
    """Pairs per second drawn from ``dataset`` alone (after a warm-up of 3 batches)."""
    iterator = iter(dataset)
    for _ in range(3):
        next(iterator)
    started = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch / (time.perf_counter() - started)


def compiled_model(architecture: str, variant: str, weights):
    import keras

    from faceapp.keras.networks import make_siamese_model

    previous = keras.mixed_precision.global_policy()
    if variant == "bf16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = make_siamese_model(architecture)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    model.set_weights(weights)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss=keras.losses.BinaryCrossentropy(),
        jit_compile=(variant == "xla"),
    )
    return model


def run(results: Results, ref, context, args) -> None:
    batch = args.train_batch
    dataset, description = build_pipeline(
        context.lfw, args.train_pairs, batch, augment=args.augment
    )
    results.note(f"training input: {description}")
    pipe = pipeline_rate(dataset, args.train_steps * 2, batch)
    results.add(
        Row(
            SECTION,
            f"tf.data pipeline alone, batch {batch} pairs",
            pipe,
            "pairs/s",
            note="decode once (table), gather, augment, batch, prefetch",
        )
    )
    flops = context.flops
    weights = context.siamese.get_weights()
    for variant in args.train_variants:
        try:
            model = compiled_model(args.arch, variant, weights)
            model.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)  # trace + warm up
        except Exception as error:
            results.note(
                f"training variant {variant!r} failed: {type(error).__name__}: "
                f"{str(error).splitlines()[0][:160]}"
            )
            continue
        rate = ref.measure()
        started = time.perf_counter()
        model.fit(dataset, steps_per_epoch=args.train_steps, epochs=1, verbose=0)
        seconds = time.perf_counter() - started
        pairs_per_s = args.train_steps * batch / seconds
        images = 2 * pairs_per_s
        ratio = images * 3 * flops / 1e9 / rate
        share = pairs_per_s / pipe
        results.add(
            Row(
                SECTION,
                f"fit, batch {batch} pairs, {variant}",
                images,
                "images/s",
                ref.label(rate),
                ratio,
                "x matmul rate (3x fwd)",
                f">= {TARGET:.2f}",
                at_least(ratio, TARGET),
                f"{seconds / args.train_steps * 1e3:.0f} ms/step; pipeline needs "
                f"{share:.1%} of the step time",
            )
        )
        del model
