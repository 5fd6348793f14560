"""Embedding throughput at a fixed batch, per runtime variant, against the matmul rate.

Figure: images/s; its FLOP rate (images/s x FLOPs per image, see
:func:`benchmarks.models.model_flops`) divided by the TF fp32 matmul rate measured just
before. Target: at least 0.90 for the variant the project uses.

Also checks that every variant gives the same embeddings as the fp32 ``tf.function``
(largest absolute difference) and the same per-image match decisions on real LFW faces.
"""

from __future__ import annotations

import functools

import numpy as np

from benchmarks.core import Results, Row, at_least, time_calls
from benchmarks.models import make_variant, model_flops

TARGET = 0.90


def decision_agreement(
    reference,
    other,
    gallery: np.ndarray,
    probes: np.ndarray,
    kernel: np.ndarray,
    threshold: float,
    bias: np.ndarray | None = None,
) -> tuple[float, float]:
    """Compare two embedding functions through the Siamese head on real faces.

    Returns ``(largest score difference, fraction of (probe, gallery) match decisions that
    agree)``. With an untrained model all scores sit close together; the head's bias is
    therefore set so that the *median* reference score lies exactly on the detection
    threshold — the hardest case for agreement, since half the pairs are borderline.
    A trained model's own ``bias`` is used as it is.
    """
    from faceapp.models.head import Head

    ref_gallery, other_gallery = reference(gallery), other(gallery)
    ref_probes, other_probes = reference(probes), other(probes)
    logits = np.stack([np.abs(ref_gallery - p) @ kernel for p in ref_probes]).ravel()
    if bias is None:
        bias = np.array([np.log(threshold / (1 - threshold)) - np.median(logits)], np.float32)
    worst, agree, total = 0.0, 0, 0
    head = Head(kernel, bias)
    for rp, op in zip(ref_probes, other_probes):
        a = head.scores(rp, ref_gallery)
        b = head.scores(op, other_gallery)
        worst = max(worst, float(np.abs(a - b).max()))
        agree += int(np.sum((a > threshold) == (b > threshold)))
        total += a.size
    return worst, agree / total


AGREEMENT_NOTE = (
    "decision agreement of a variant is measured on 10 LFW probes x the gallery through the "
    "Siamese head with the head's bias set so the median fp32 score sits on the detection "
    "threshold (the hardest case). The model is untrained (no trained model is in the "
    "repository), and an untrained embedding maps different faces to nearly the same "
    "vector, so a reduced-precision error that would be negligible for a trained model can "
    "flip borderline decisions here: 100% means identical decisions; a lower figure needs "
    "rechecking with a trained model (pass --model FILE) before that runtime is "
    "adopted for verification"
)


def run(results: Results, ref, context, args) -> None:
    embedding = context.embedding
    if any(v != "tf" for v in args.variants) and not context.trained:
        results.notes.append(AGREEMENT_NOTE)
    flops = model_flops(embedding)
    context.flops = flops
    results.add(
        Row(
            "embedding",
            f"cost of one {args.arch} forward pass",
            flops / 1e9,
            "GFLOP",
            note="2 x multiply-adds of Conv2D and Dense layers",
        )
    )
    batch = np.random.default_rng(0).random((args.batch, 100, 100, 3), dtype=np.float32)
    reference_fn = make_variant("tf", embedding, args.arch, context.variants)
    for name in args.variants:
        try:
            fn = make_variant(name, embedding, args.arch, context.variants)
            fn(batch)  # build / trace / compile outside the timing
        except Exception as error:  # a runtime missing on this machine is a note, not a crash
            results.note(
                f"embedding variant {name!r} unavailable: {type(error).__name__}: "
                f"{str(error).splitlines()[0][:160]}"
            )
            continue
        rate = ref.measure()
        timing = time_calls(functools.partial(fn, batch), args.repeats, warmup=1)
        images = args.batch / timing.median
        ratio = images * flops / 1e9 / rate
        note = ""
        if name != "tf" and context.gallery is not None:
            worst, agree = decision_agreement(
                reference_fn,
                fn,
                context.gallery,
                context.probes,
                context.kernel,
                context.thresholds.detection,
                context.bias if context.trained else None,
            )
            note = (
                f"scores within {worst:.1e} of fp32; {agree:.1%} of match decisions "
                "agree (threshold at the median score: see notes)"
            )
        if name == "tflite":
            note += f"; convert {fn.convert_seconds:.0f} s ({fn.runtime})"
        results.add(
            Row(
                "embedding",
                f"batch {args.batch}, {name}",
                images,
                "images/s",
                ref.label(rate),
                ratio,
                "x matmul rate",
                f">= {TARGET:.2f}",
                at_least(ratio, TARGET),
                note.strip("; "),
            )
        )
        one = batch[:1]
        ms = time_calls(functools.partial(fn, one), args.repeats * 4, warmup=2).median * 1e3
        rate = ref.measure()
        ratio = flops / (ms / 1e3) / 1e9 / rate
        results.add(
            Row(
                "embedding",
                f"batch 1, {name}",
                ms,
                "ms/image",
                ref.label(rate),
                ratio,
                "x matmul rate",
                note="latency of one face (verification)",
            )
        )
