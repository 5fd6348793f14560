"""python -m benchmarks: every benchmark in one process, each figure beside its reference.

See ``python -m benchmarks --help`` and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

from faceapp.errors import cli_guard

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore", category=UserWarning)  # Keras/TFLite chatter, not results

# The run-time sections come first: they run without TensorFlow, and TensorFlow's idle
# threads, once it is loaded, would take CPU time from what they measure.
SECTIONS = (
    "detection",
    "verification",
    "startup",
    "app",
    "login",
    "reference",
    "embedding",
    "training",
)
KERAS_SECTIONS = ("reference", "embedding", "training")  # these need TensorFlow
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "out" / "results.md"  # not tracked

EPILOG = """\
what each section measures (ratios are taken against references timed in this same run):
  reference     TF fp32 matmul GFLOP/s (the reference; re-measured before every figure),
                numpy fp32 and TF bf16 matmul for orientation
  embedding     a Keras model's embedding (--arch, or --model with a Keras file): images/s
                at --batch for each --variants runtime; FLOP rate / matmul rate (target
                >= 0.90); score and decision agreement with fp32 on LFW faces
  training      tf.data pipeline alone (pairs/s); model.fit images/s per --train-variants;
                3x forward FLOPs per image / matmul rate (target >= 0.70)
  detection     the face search per 640x480 frame on one core against OpenCV's Haar cascade
                and dlib's HOG, faces 80-480 px, and in video mode on the shared clips
                (target <= 6 ms, at least as many faces as Haar)
  verification  one frame end to end with --gallery verification images against dlib's way
                (HOG, 5 points, ResNet) on the same frames (target >= 10x faster)
  startup       python -m faceapp.verify PHOTO, whole process, against face_recognition's
                way (target <= 0.5 s, >= 2x faster, <= 200 MiB)
  app           the real window under Xvfb (faceapp.app.autopilot): frame interval p95 while
                verifying, launch to first frame / to ready (target 1.5 s), peak memory of
                app + worker (target 400 MiB)

The last four run the model faceapp runs (the shipped one unless --model) and need no
TensorFlow; the first three build a Keras model.

examples:
  python -m benchmarks                          everything (about 10 minutes on 2 cores)
  python -m benchmarks --only detection,verification,startup,app
  python -m benchmarks --only embedding --variants tf,bf16 --repeats 10
  python -m benchmarks --quick                  tiny model, tiny sizes: a smoke test
  python -m benchmarks --intra-threads 2 --inter-threads 1   try TF thread settings

the table is printed and written to --output (default benchmarks/out/results.md, not tracked) unless
--no-write; rerun on a quiet machine before quoting absolute numbers.
"""


def build_parser() -> argparse.ArgumentParser:
    from benchmarks.models import VARIANTS
    from benchmarks.training import TRAIN_VARIANTS

    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Speed of faceapp: model throughput against the matmul rate, "
        "verification latency, training throughput and the app's figures, "
        "each measured beside its reference in one run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--only",
        metavar="LIST",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default: all: {','.join(SECTIONS)})",
    )
    p.add_argument(
        "--architecture",
        "--arch",
        dest="arch",
        default="koch",
        choices=("koch", "tiny"),
        help="embedding architecture (default: koch, the paper's)",
    )
    p.add_argument(
        "--model",
        type=Path,
        metavar="FILE",
        help="a trained model: its Keras file for embedding and training (instead "
        "of an untrained --arch; decision agreement then uses its own head), "
        "and it runs in detection, verification, startup and app (instead "
        "of the shipped model)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes for a smoke test (tiny model, few repeats, small "
        "gallery, no TFLite, no app); figures are meaningless",
    )
    size = p.add_argument_group("sizes")
    size.add_argument(
        "--repeats",
        type=int,
        default=5,
        metavar="N",
        help="timed calls per figure (the median is reported; default 5)",
    )
    size.add_argument(
        "--matmul-size",
        type=int,
        default=2048,
        metavar="N",
        help="side of the reference matrix product (default 2048)",
    )
    size.add_argument(
        "--batch", type=int, default=64, metavar="N", help="embedding batch size (default 64)"
    )
    size.add_argument(
        "--gallery", type=int, default=50, metavar="N", help="verification images (default 50)"
    )
    size.add_argument(
        "--train-batch",
        type=int,
        default=16,
        metavar="N",
        help="pairs per training step (default 16, training.run's default)",
    )
    size.add_argument(
        "--train-steps",
        type=int,
        default=6,
        metavar="N",
        help="timed training steps per variant (default 6)",
    )
    size.add_argument(
        "--train-pairs",
        type=int,
        default=512,
        metavar="N",
        help="LFW pairs in the training pipeline (default 512)",
    )
    size.add_argument(
        "--app-seconds",
        type=float,
        default=10.0,
        metavar="S",
        help="how long verifications run back to back in the app (default 10)",
    )
    size.add_argument(
        "--detect-photos",
        type=int,
        default=40,
        metavar="N",
        help="LFW people whose photos make the detection frames, each at 6 face sizes (default 40)",
    )
    size.add_argument(
        "--startup-runs",
        type=int,
        default=5,
        metavar="N",
        help="runs of each whole process in startup (median; default 5)",
    )
    p.add_argument(
        "--login-runs",
        type=int,
        default=5,
        metavar="N",
        help="owner logins timed in login (median; default 5)",
    )
    what = p.add_argument_group("what to try")
    what.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        metavar="LIST",
        help=f"embedding runtimes (default: {','.join(VARIANTS)}); see benchmarks/models.py",
    )
    what.add_argument(
        "--train-variants",
        default=",".join(TRAIN_VARIANTS),
        metavar="LIST",
        help=f"training set-ups (default: {','.join(TRAIN_VARIANTS)})",
    )
    what.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the training pipeline with the original tutorial's augmentation (default: on)",
    )
    what.add_argument(
        "--intra-threads",
        type=int,
        default=0,
        metavar="N",
        help="tf.config.threading intra-op threads (0: TF's default)",
    )
    what.add_argument(
        "--inter-threads",
        type=int,
        default=0,
        metavar="N",
        help="tf.config.threading inter-op threads (0: TF's default)",
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--output",
        "--out",
        dest="output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="FILE",
        help="markdown file to write (default: benchmarks/out/results.md)",
    )
    out.add_argument("--no-write", action="store_true", help="print only")
    out.add_argument(
        "--lfw",
        metavar="DIR",
        help="LFW identity tree (default: $FACEAPP_LFW or ../shared/data/lfw)",
    )
    out.add_argument(
        "--videos",
        metavar="DIR",
        help="the talking-head clips (default: $FACEAPP_VIDEOS or ../shared/data/videos)",
    )
    return p


def parse_args(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    args.variants = [s.strip() for s in args.variants.split(",") if s.strip()]
    args.train_variants = [s.strip() for s in args.train_variants.split(",") if s.strip()]
    from benchmarks.models import VARIANTS
    from benchmarks.training import TRAIN_VARIANTS

    for name, given, known in (
        ("--only", args.only, SECTIONS),
        ("--variants", args.variants, VARIANTS),
        ("--train-variants", args.train_variants, TRAIN_VARIANTS),
    ):
        unknown = [g for g in given if g not in known]
        if unknown:
            parser.error(f"{name}: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    for name in (
        "repeats",
        "matmul_size",
        "batch",
        "gallery",
        "train_batch",
        "train_steps",
        "train_pairs",
        "detect_photos",
        "startup_runs",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.quick:
        args.arch = "tiny"
        args.repeats = min(args.repeats, 2)
        args.matmul_size = min(args.matmul_size, 256)
        args.batch = min(args.batch, 8)
        args.gallery = min(args.gallery, 5)
        args.train_batch = min(args.train_batch, 4)
        args.train_steps = min(args.train_steps, 2)
        args.train_pairs = min(args.train_pairs, 16)
        args.detect_photos = min(args.detect_photos, 3)
        args.startup_runs = 1
        args.variants = [v for v in args.variants if v in ("tf", "bf16")]
        args.train_variants = [v for v in args.train_variants if v == "fp32"]
        args.only = [s for s in args.only if s != "app"]
    return args


class OwnerPhotos:
    """The owner's LFW photos both kinds of section use: ``--gallery`` to enrol, then 20 as
    webcam-sized frames."""

    def __init__(self, args):
        from benchmarks.data import lfw_root, person_images, webcam_frame

        self.lfw = lfw_root(args.lfw)
        owner = person_images(self.lfw)
        if len(owner) < args.gallery + 4:
            raise SystemExit(f"need {args.gallery + 4} photos of the owner in LFW")
        self.gallery_paths = owner[: args.gallery]
        self.frame_paths = owner[args.gallery : args.gallery + 20]
        self.frames = [webcam_frame(p) for p in self.frame_paths]
        self.webcam = webcam_frame


class KerasContext(OwnerPhotos):
    """What the Keras sections share: the model, its parts, LFW inputs, built runtimes."""

    def __init__(self, args):
        import keras
        import numpy as np

        from faceapp.keras.networks import make_siamese_model, siamese_parts
        from faceapp.verification.rule import Thresholds
        from faceapp.vision.imaging import preprocess

        super().__init__(args)
        keras.utils.set_random_seed(0)
        keras_file = args.model if args.model and args.model.suffix in (".keras", ".h5") else None
        if keras_file:
            from faceapp.keras.networks import load_model

            self.siamese = load_model(keras_file)
        else:
            self.siamese = make_siamese_model(args.arch)
        self.trained = bool(keras_file)
        self.embedding, self.kernel, self.bias = siamese_parts(self.siamese)
        self.thresholds = Thresholds()
        self.gallery = np.stack([preprocess(p) for p in self.gallery_paths])
        others = sorted((self.lfw / "Jennifer_Capriati").glob("*.jpg"))[:5]
        self.probes = np.stack([preprocess(p) for p in self.frame_paths[:5] + others])
        self.flops = 0.0
        self.variants: dict = {}

    def close(self):
        pass


class RuntimeContext(OwnerPhotos):
    """What the run-time sections share (no TensorFlow): LFW photos of the owner as frames,
    temporary data roots with an enrolled gallery, and the model that runs."""

    def __init__(self, args):
        super().__init__(args)
        self.args = args
        self.model_name = "?"

    @contextlib.contextmanager
    def data_root(self, gallery: int):
        """A temporary data root with ``gallery`` of the owner's photos enrolled."""
        import shutil

        from faceapp.paths import DataRoot

        with self.tempdir() as folder:
            root = DataRoot(folder / "data").ensure()
            for path in self.gallery_paths[:gallery]:
                shutil.copy(path, root.verification_images / path.name)
            yield root

    def model(self, root):
        """The model that runs: ``--model``, else the shipped one."""
        from faceapp.verification.verifier import open_model

        model = open_model(root, str(self.args.model) if self.args.model else None)
        self.model_name = model.describe()
        return model

    @contextlib.contextmanager
    def tempdir(self):
        with tempfile.TemporaryDirectory(prefix="faceapp-bench-") as folder:
            yield Path(folder)


class KerasSections:
    """The sections that build a Keras model: TensorFlow is imported when the first runs."""

    def __init__(self, args, results):
        self.args, self.results = args, results
        self.ref = self.context = None
        self.threads, self.models = "no TensorFlow", []

    def run(self, section: str) -> None:
        from benchmarks import embedding, reference, training

        args, results = self.args, self.results
        if self.context is None:
            self.threads = "TensorFlow threads " + configure_threads(args)
            self.ref = reference.MatmulReference(args.matmul_size, repeats=max(3, args.repeats))
            self.context = KerasContext(args)
            model = f"`{args.model}`" if self.context.trained else f"untrained `{args.arch}`"
            self.models.append(f"Keras sections: {model}")
            if "embedding" not in args.only:
                from benchmarks.models import model_flops

                self.context.flops = model_flops(self.context.embedding)
        if section == "reference":
            reference.run(results, self.ref, args)
        elif section == "embedding":
            embedding.run(results, self.ref, self.context, args)
        else:
            training.run(results, self.ref, self.context, args)


def configure_threads(args) -> str:
    import tensorflow as tf

    if args.intra_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_threads)
    if args.inter_threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_threads)
    intra = tf.config.threading.get_intra_op_parallelism_threads() or "default"
    inter = tf.config.threading.get_inter_op_parallelism_threads() or "default"
    return f"intra-op {intra}, inter-op {inter}"


def header(args, threads: str, seconds: float, model: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python -m benchmarks" + ("" if len(sys.argv) < 2 else " " + " ".join(sys.argv[1:]))
    return (
        f"# Benchmark results\n\n"
        f"Produced by `{command}` on {when} in {seconds:.0f} s: {os.cpu_count()} CPUs "
        f"({platform.machine()}), {threads}; {model}. Ratios compare figures with "
        f"references measured seconds apart in this same run; absolute numbers drift "
        f"with the machine's load. What each row means: docs/benchmarks.md."
    )


@cli_guard
def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.core import Results, write_markdown

    print(f"faceapp benchmarks: sections {','.join(args.only)}", flush=True)
    results = Results()
    keras = KerasSections(args, results)
    runtime = [s for s in SECTIONS if s in args.only and s not in KERAS_SECTIONS]
    if runtime:
        from benchmarks import app, detection, login, startup, verification

        context = RuntimeContext(args)
        modules = {
            "detection": detection,
            "verification": verification,
            "startup": startup,
            "app": app,
            "login": login,
        }
    for section in SECTIONS:
        if section not in args.only:
            continue
        print(f"[{section}]", flush=True)
        t0 = time.perf_counter()
        if section in KERAS_SECTIONS:
            keras.run(section)
        else:
            modules[section].run(results, context, args)
        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    models = ([f"run-time sections: {context.model_name}"] if runtime else []) + keras.models
    threads, ref = keras.threads, keras.ref
    seconds = time.perf_counter() - started
    if ref is not None and ref.history:
        results.notes.append(
            f"TF fp32 matmul rate over the run: {min(ref.history):,.0f}-"
            f"{max(ref.history):,.0f} GFLOP/s ({len(ref.history)} measurements): the drift "
            "the ratios cancel out"
        )
    print()
    print(results.text_table())
    if results.notes:
        print("\nnotes:")
        for note in results.notes:
            print(f"- {note}")
    if not args.no_write:
        write_markdown(results, args.output, header(args, threads, seconds, "; ".join(models)))
        print(f"\nwritten: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
