"""Verification latency, end to end from a 640x480 BGR frame, with N verification images.

Each way runs: face detection and crop (:func:`faceapp.detect.face_crop`), preprocessing
(:func:`faceapp.imaging.preprocess`), embedding, comparison with the N verification images,
and the decision (:func:`faceapp.decision.decide`).

``seed``     the seed's loop: write the crop as ``input_image.jpg``, then for every
             verification image read both files and call ``model.predict`` on the pair
             (N predictions per frame).
``project``  :class:`faceapp.verify.Verifier` (gallery embeddings cached; one embedding per
             frame plus a small matrix product) once it is in git history; until then the
             same path built from :func:`faceapp.model.siamese_parts` and
             :func:`faceapp.model.head_scores` (the row says which).
``parts+X``  the project's path with embedding runtime ``X`` (bf16, tflite, ...) swapped in:
             what switching the runtime would give.

References measured in the same run: one embedding of one image with the fp32
``tf.function`` (target for the project: at most 1.3x that), and the 77.5 ms per image that
the ``face_recognition`` library (dlib) needs on this machine (target: at least 5x faster).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.core import Results, Row, at_least, at_most, time_calls
from benchmarks.models import make_variant

FACE_RECOGNITION_MS = 77.5
TARGET_EMBEDDINGS = 1.3
TARGET_SPEEDUP = 5.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def verifier_landed() -> bool:
    """True when ``faceapp/verify.py`` with a ``Verifier`` class is in git history."""
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "--error-unmatch", "faceapp/verify.py"], cwd=PROJECT_ROOT,
            capture_output=True, check=False).returncode == 0
    except OSError:
        tracked = (PROJECT_ROOT / "faceapp" / "verify.py").exists()
    if not tracked:
        return False
    try:
        from faceapp.verify import Verifier  # noqa: F401
    except Exception:
        return False
    return True


class PartsVerifier:
    """The project's verification path from its parts: cached gallery, one embedding."""

    def __init__(self, embed, gallery_embeddings, kernel, bias, thresholds):
        self.embed, self.gallery = embed, gallery_embeddings
        self.kernel, self.bias, self.thresholds = kernel, bias, thresholds

    def verify(self, face_bgr):
        from faceapp.decision import decide
        from faceapp.imaging import preprocess
        from faceapp.model import head_scores

        probe = self.embed(preprocess(face_bgr)[None])[0]
        return decide(head_scores(probe, self.gallery, self.kernel, self.bias),
                      self.thresholds)


def seed_verify(model, face_bgr, verification_paths, input_path, thresholds):
    """The seed's loop: one ``model.predict`` per verification image, files re-read each time."""
    from faceapp.decision import decide
    from faceapp.imaging import preprocess

    cv2.imwrite(str(input_path), face_bgr)
    scores = []
    for path in verification_paths:
        input_img = preprocess(input_path)
        validation_img = preprocess(path)
        pair = [np.expand_dims(input_img, 0), np.expand_dims(validation_img, 0)]
        scores.append(model.predict(pair, verbose=0))
    return decide(np.squeeze(np.array(scores)), thresholds)


def run(results: Results, ref, context, args) -> None:
    from faceapp.detect import face_crop
    from faceapp.imaging import preprocess

    S = "verification"
    frames = context.frames
    cycle = iter(range(10 ** 9))

    def next_frame():
        return frames[next(cycle) % len(frames)]

    # --- references: one embedding of one image; the detector alone ---------------------
    tf_fn = make_variant("tf", context.embedding, args.arch, context.variants)
    one = preprocess(face_crop(frames[0]).image)[None]
    embed_ms = time_calls(lambda: tf_fn(one), args.repeats * 4, warmup=3).median * 1e3
    results.add(Row(S, "one embedding of one image (fp32 tf.function)", embed_ms, "ms",
                    note="the reference for the ratios below"))
    found = sum(face_crop(f).detected for f in frames)
    detect_ms = time_calls(lambda: face_crop(next_frame()), args.repeats * 2,
                           warmup=1).median * 1e3
    results.add(Row(S, "face detection + crop, 640x480", detect_ms, "ms",
                    f"one embedding {embed_ms:.1f} ms", detect_ms / embed_ms, "x",
                    note=f"face found in {found}/{len(frames)} frames"))

    with context.tempdir() as folder:
        gallery_dir = folder / "verification_images"
        gallery_dir.mkdir()
        for path in context.gallery_paths:
            shutil.copy(path, gallery_dir / path.name)
        verification_paths = sorted(gallery_dir.iterdir())
        n = len(verification_paths)

        # --- the seed's way ---------------------------------------------------------------
        if not args.skip_seed:
            input_path = folder / "input_image.jpg"
            seed = lambda: seed_verify(context.siamese, face_crop(next_frame()).image,
                                       verification_paths, input_path, context.thresholds)
            ms = time_calls(seed, max(1, args.seed_repeats), warmup=1).median * 1e3
            results.add(Row(S, f"seed: {n} predict calls per frame", ms, "ms",
                            f"one embedding {embed_ms:.1f} ms", ms / embed_ms,
                            "x one embedding",
                            note=f"{FACE_RECOGNITION_MS / ms:.2f}x the speed of "
                                 f"face_recognition's {FACE_RECOGNITION_MS} ms"))
            pairs_a = np.repeat(one, n, axis=0)
            pairs_b = np.stack([preprocess(p) for p in verification_paths])
            ms1 = time_calls(lambda: context.siamese.predict([pairs_a, pairs_b], verbose=0,
                                                            batch_size=n),
                             max(1, args.seed_repeats), warmup=1).median * 1e3
            results.add(Row(S, f"seed, batched: one predict of {n} pairs", ms1, "ms",
                            f"one embedding {embed_ms:.1f} ms", ms1 / embed_ms,
                            "x one embedding", note="model only (no detection, no files)"))

        # --- this project's way -------------------------------------------------------------
        ways = []
        if args.verifier != "parts" and verifier_landed():
            from faceapp.verify import Verifier

            for runtime in ("int8", "keras"):
                verifier = Verifier(context.model_path, gallery_dir, context.thresholds,
                                    runtime=runtime)
                verifier.warm_up()
                verifier.gallery()
                label = "default, int8 runtime" if runtime == "int8" else "--runtime keras (fp32)"
                ways.append((f"project: faceapp.verify.Verifier, {label}", verifier))
        else:
            results.note("faceapp.verify.Verifier is not in git history yet (or --verifier "
                         "parts): the project row uses the equivalent path built from "
                         "siamese_parts + head_scores")
            gallery_embeddings = tf_fn(np.stack([preprocess(p) for p in verification_paths]))
            ways.append(("project (siamese_parts, fp32 tf.function)",
                         PartsVerifier(tf_fn, gallery_embeddings, context.kernel,
                                       context.bias, context.thresholds)))
        for name in args.variants:
            if name in ("tf", "predict", "xla") or name not in context.variants:
                continue
            fn = context.variants[name]
            ways.append((f"parts+{name}: project path, {name} embedding",
                         PartsVerifier(fn, fn(np.stack([preprocess(p)
                                                        for p in verification_paths])),
                                       context.kernel, context.bias, context.thresholds)))

        for name, verifier in ways:
            run_once = lambda: verifier.verify(face_crop(next_frame()).image)
            ms = time_calls(run_once, args.repeats * 4, warmup=2).median * 1e3
            ratio = ms / embed_ms
            results.add(Row(S, f"{name}, {n} images", ms, "ms",
                            f"one embedding {embed_ms:.1f} ms", ratio, "x one embedding",
                            f"<= {TARGET_EMBEDDINGS}", at_most(ratio, TARGET_EMBEDDINGS)))
            if getattr(verifier, "runtime", None) == "int8":
                own = time_calls(lambda: verifier.embed(one), args.repeats * 4,
                                 warmup=2).median * 1e3
                results.add(Row(S, f"{name}: against its own runtime's embedding", ms, "ms",
                                f"one int8 embedding {own:.1f} ms", ms / own,
                                "x one int8 embedding",
                                note="the same frame time over the faster embedding it uses"))
            speedup = FACE_RECOGNITION_MS / ms
            results.add(Row(S, f"{name}: speed-up per frame", speedup, "x",
                            f"face_recognition {FACE_RECOGNITION_MS} ms (earlier)", speedup,
                            "x", f">= {TARGET_SPEEDUP:.0f}", at_least(speedup, TARGET_SPEEDUP)))
        stages(results, context, tf_fn, verification_paths, next_frame, args)


def stages(results: Results, context, embed, verification_paths, next_frame, args) -> None:
    """Where a frame's time goes: each stage of the project's path timed in the same loop."""
    from faceapp.decision import decide
    from faceapp.detect import face_crop
    from faceapp.imaging import preprocess
    from faceapp.model import head_scores

    gallery = embed(np.stack([preprocess(p) for p in verification_paths]))
    names = ("detection + crop", "preprocess", "embedding (fp32 tf.function)",
             f"head on {len(gallery)} + decision")
    samples = [[] for _ in names]
    for i in range(args.repeats * 4 + 2):
        t0 = time.perf_counter()
        crop = face_crop(next_frame()).image
        t1 = time.perf_counter()
        face = preprocess(crop)
        t2 = time.perf_counter()
        probe = embed(face[None])[0]
        t3 = time.perf_counter()
        decide(head_scores(probe, gallery, context.kernel, context.bias), context.thresholds)
        t4 = time.perf_counter()
        if i >= 2:
            for k, seconds in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                samples[k].append(seconds * 1e3)
    medians = [float(np.median(s)) for s in samples]
    total = sum(medians)
    for name, ms in zip(names, medians):
        results.add(Row("verification", f"  stage: {name}", ms, "ms",
                        f"stages' total {total:.1f} ms", ms / total, "of the frame"))
