"""One verification, end to end from a 640x480 frame, against dlib's way on the same frames.

``project``    what the app's worker and ``faceapp.verify`` run for a frame: the face search
               (:class:`faceapp.vision.finder.FaceFinder`, still frame), alignment, the model's int8
               embedding on LiteRT, the head against ``--gallery`` cached verification
               images, the decision (:class:`faceapp.verification.verifier.Verifier`).
``dlib's way`` what face_recognition does: dlib's HOG detector (one upsampling), the 5-point
               landmarks, the ResNet descriptor, the distance to ``--gallery`` stored
               encodings, and a vote at face_recognition's tolerance (0.6).

Both see the same frames (LFW photos of the owner, scaled to a 480 px face region, as
``benchmarks.data.webcam_frame``) in the same run. Target: at least 10x faster per frame.
The project's frame is also split into its stages, timed in one loop.
"""

from __future__ import annotations

import numpy as np

from benchmarks.core import Results, Row, at_least, time_calls

S = "verification"
TARGET_SPEEDUP = 10.0


class DlibWay:
    """face_recognition's pipeline, on dlib directly (the same models and calls)."""

    def __init__(self, gallery_frames: list[np.ndarray]):
        import dlib
        import face_recognition_models as models

        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self.encoder = dlib.face_recognition_model_v1(models.face_recognition_model_location())
        self.gallery = np.stack([e for e in map(self.encode, gallery_frames) if e is not None])

    def encode(self, frame_bgr: np.ndarray) -> np.ndarray | None:
        rgb = np.ascontiguousarray(frame_bgr[:, :, ::-1])
        faces = self.detector(rgb, 1)
        if not faces:
            return None
        face = max(faces, key=lambda r: r.area())
        return np.asarray(self.encoder.compute_face_descriptor(rgb, self.shape(rgb, face)))

    def verify(self, frame_bgr: np.ndarray) -> bool:
        probe = self.encode(frame_bgr)
        if probe is None:
            return False
        return bool(np.mean(np.linalg.norm(self.gallery - probe, axis=1) <= 0.6) > 0.5)


def run(results: Results, context, args) -> None:
    from faceapp.verification.verifier import Verifier

    frames = context.frames
    cycle = iter(range(10**9))

    def next_frame():
        return frames[next(cycle) % len(frames)]

    with context.data_root(args.gallery) as root:
        verifier = Verifier(context.model(root), root)
        verifier.gallery.vectors()
        n = len(verifier.gallery)
        project = (
            time_calls(
                lambda: verifier.verify_frame(next_frame()), args.repeats * 4, warmup=2
            ).median
            * 1e3
        )
        verified = sum(verifier.verify_frame(f)[0].verified for f in frames)
        stages(results, verifier, next_frame, args)
    try:
        dlib_way = DlibWay([context.webcam(p) for p in context.gallery_paths[:n]])
    except ImportError as error:
        results.add(
            Row(
                S,
                f"project: one frame, {n} verification images",
                project,
                "ms",
                note=f"dlib's way not measured ({error.name} missing)",
            )
        )
        return
    reference = (
        time_calls(lambda: dlib_way.verify(next_frame()), max(3, args.repeats), warmup=1).median
        * 1e3
    )
    dlib_verified = sum(dlib_way.verify(f) for f in frames)
    speedup = reference / project
    results.add(
        Row(
            S,
            f"project: one frame, {n} verification images",
            project,
            "ms",
            f"dlib's way {reference:.0f} ms",
            speedup,
            "x faster",
            f">= {TARGET_SPEEDUP:g}x",
            at_least(speedup, TARGET_SPEEDUP),
            note=f"{context.model_name}; verified {verified}/{len(frames)} frames "
            f"of the owner (dlib's way {dlib_verified})",
        )
    )


def stages(results: Results, verifier, next_frame, args) -> None:
    """Where a frame's time goes: each stage of the project's path timed in one loop."""
    import time

    from faceapp.verification.rule import decide, face_scores
    from faceapp.vision.finder import Face, FaceFinder
    from faceapp.vision.geometry import Box
    from faceapp.vision.imaging import preprocess
    from faceapp.vision.landmarks import region_of

    finder = FaceFinder(threads=1)
    names = (
        "face detection (BlazeFace)",
        "landmarks (Face Mesh)",
        f"face crop ({verifier.model.crop}) + preprocess",
        "embedding (int8, LiteRT)",
        f"head on {len(verifier.gallery)} + decision",
    )
    samples: list[list[float]] = [[] for _ in names]
    gallery = verifier.gallery.vectors()
    for i in range(args.repeats * 4 + 2):
        frame = next_frame()
        t0 = time.perf_counter()
        detection = finder.largest_detection(frame)
        t1 = time.perf_counter()
        if detection is None:
            continue
        landmarks = finder.mesh(frame, region_of(detection))
        t2 = time.perf_counter()
        face = Face(Box.bounding(detection.box, frame.shape), detection.score, landmarks)
        picture = verifier.model.picture(frame, face, searched=True)
        pixels = preprocess(picture.image, verifier.model.input_size)
        t3 = time.perf_counter()
        probe = verifier.model.embed(pixels[None])[0]
        t4 = time.perf_counter()
        rule = verifier.thresholds.rule
        scores, mean_score = face_scores(verifier.model.head, probe, gallery, rule)
        decide(scores, verifier.thresholds, mean_score)
        t5 = time.perf_counter()
        if i >= 2:
            for k, seconds in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                samples[k].append(seconds * 1e3)
    medians = [float(np.median(s)) for s in samples]
    total = sum(medians)
    for name, ms in zip(names, medians):
        results.add(
            Row(
                S,
                f"  stage: {name}",
                ms,
                "ms",
                f"stages' total {total:.1f} ms",
                ms / total,
                "of the frame",
            )
        )
