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
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore", category=UserWarning)  # Keras/TFLite chatter, not results

SECTIONS = ("reference", "embedding", "training", "verification", "app")
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.md"

EPILOG = """\
what each section measures (ratios are taken against references timed in this same run):
  reference     TF fp32 matmul GFLOP/s (the reference; re-measured before every figure),
                numpy fp32 and TF bf16 matmul for orientation
  embedding     images/s at --batch for each --variants runtime; FLOP rate / matmul rate
                (target >= 0.90); score and decision agreement with fp32 on LFW faces
  training      tf.data pipeline alone (pairs/s); model.fit images/s per --train-variants;
                3x forward FLOPs per image / matmul rate (target >= 0.70)
  verification  end to end from a 640x480 frame with --gallery verification images: the
                seed's N predicts vs the project's Verifier (target <= 1.3x one embedding,
                >= 5x faster than face_recognition's 77.5 ms)
  app           the real window under Xvfb (faceapp.autopilot): frame interval p95 while
                verifying, launch to first frame / to ready, peak memory

examples:
  python -m benchmarks                          everything (about 5 minutes on 2 cores)
  python -m benchmarks --only embedding --variants tf,bf16 --repeats 10
  python -m benchmarks --only verification --gallery 100 --skip-seed
  python -m benchmarks --quick                  tiny model, tiny sizes: a smoke test
  python -m benchmarks --intra-threads 2 --inter-threads 1   try TF thread settings

the table is printed and written to --output (default benchmarks/results.md) unless
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
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", metavar="LIST", default=",".join(SECTIONS),
                   help=f"comma-separated sections to run (default: all: {','.join(SECTIONS)})")
    p.add_argument("--arch", default="koch", choices=("koch", "tiny"),
                   help="embedding architecture (default: koch, the paper's)")
    p.add_argument("--model", type=Path, metavar="FILE",
                   help="a trained Siamese model (.keras/.h5) instead of an untrained one of "
                        "--arch: decision agreement then uses its own head")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes for a smoke test (tiny model, few repeats, small "
                        "gallery, no TFLite, no app); figures are meaningless")
    size = p.add_argument_group("sizes")
    size.add_argument("--repeats", type=int, default=5, metavar="N",
                      help="timed calls per figure (the median is reported; default 5)")
    size.add_argument("--matmul-size", type=int, default=2048, metavar="N",
                      help="side of the reference matrix product (default 2048)")
    size.add_argument("--batch", type=int, default=64, metavar="N",
                      help="embedding batch size (default 64)")
    size.add_argument("--gallery", type=int, default=50, metavar="N",
                      help="verification images (default 50)")
    size.add_argument("--seed-repeats", type=int, default=1, metavar="N",
                      help="timed frames for the seed's slow loop (default 1)")
    size.add_argument("--train-batch", type=int, default=16, metavar="N",
                      help="pairs per training step (default 16, training.run's default)")
    size.add_argument("--train-steps", type=int, default=6, metavar="N",
                      help="timed training steps per variant (default 6)")
    size.add_argument("--train-pairs", type=int, default=512, metavar="N",
                      help="LFW pairs in the training pipeline (default 512)")
    size.add_argument("--app-seconds", type=float, default=10.0, metavar="S",
                      help="how long verifications run back to back in the app (default 10)")
    size.add_argument("--app-threads", default="default,1", metavar="LIST",
                      help="one app run per entry: TF intra-op threads in the app's worker "
                           "(TF_NUM_INTRAOP_THREADS), or 'default' (default: default,1)")
    what = p.add_argument_group("what to try")
    what.add_argument("--variants", default=",".join(VARIANTS), metavar="LIST",
                      help=f"embedding runtimes (default: {','.join(VARIANTS)}); see "
                           "benchmarks/models.py")
    what.add_argument("--train-variants", default=",".join(TRAIN_VARIANTS), metavar="LIST",
                      help=f"training set-ups (default: {','.join(TRAIN_VARIANTS)})")
    what.add_argument("--no-augment", action="store_true",
                      help="training pipeline without the seed's augmentation")
    what.add_argument("--skip-seed", action="store_true",
                      help="skip the seed's slow verification loop (about 8 s per frame)")
    what.add_argument("--verifier", choices=("auto", "parts"), default="auto",
                      help="project path: faceapp.verify.Verifier when in git (auto), or "
                           "the equivalent built from siamese_parts (parts)")
    what.add_argument("--intra-threads", type=int, default=0, metavar="N",
                      help="tf.config.threading intra-op threads (0: TF's default)")
    what.add_argument("--inter-threads", type=int, default=0, metavar="N",
                      help="tf.config.threading inter-op threads (0: TF's default)")
    out = p.add_argument_group("output")
    out.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, metavar="FILE",
                     help="markdown file to write (default: benchmarks/results.md)")
    out.add_argument("--no-write", action="store_true", help="print only")
    out.add_argument("--lfw", metavar="DIR",
                     help="LFW identity tree (default: $FACEAPP_LFW or ../shared/data/lfw)")
    return p


def parse_args(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    args.variants = [s.strip() for s in args.variants.split(",") if s.strip()]
    args.train_variants = [s.strip() for s in args.train_variants.split(",") if s.strip()]
    args.app_threads = [s.strip() for s in args.app_threads.split(",") if s.strip()]
    if any(t != "default" and not t.isdigit() for t in args.app_threads):
        parser.error("--app-threads: entries are 'default' or a number of threads")
    from benchmarks.models import VARIANTS
    from benchmarks.training import TRAIN_VARIANTS

    for name, given, known in (("--only", args.only, SECTIONS),
                               ("--variants", args.variants, VARIANTS),
                               ("--train-variants", args.train_variants, TRAIN_VARIANTS)):
        unknown = [g for g in given if g not in known]
        if unknown:
            parser.error(f"{name}: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    for name in ("repeats", "matmul_size", "batch", "gallery", "train_batch", "train_steps",
                 "train_pairs", "seed_repeats"):
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
        args.variants = [v for v in args.variants if v in ("tf", "bf16")]
        args.train_variants = [v for v in args.train_variants if v == "fp32"]
        args.only = [s for s in args.only if s != "app"]
    return args


class Context:
    """What the sections share: the model, its parts, LFW inputs, built runtimes."""

    def __init__(self, args):
        import numpy as np

        from benchmarks.data import lfw_root, person_images, webcam_frame
        from faceapp.imaging import preprocess
        from faceapp.metadata import Thresholds
        from faceapp.model import make_siamese_model, siamese_parts

        import keras

        keras.utils.set_random_seed(0)
        self.lfw = lfw_root(args.lfw)
        if args.model:
            from faceapp.model import load_model

            self.siamese = load_model(args.model)
        else:
            self.siamese = make_siamese_model(args.arch)
        self.trained = bool(args.model)
        self.embedding, self.kernel, self.bias = siamese_parts(self.siamese)
        self.thresholds = Thresholds()
        owner = person_images(self.lfw)
        if len(owner) < args.gallery + 4:
            raise SystemExit(f"need {args.gallery + 4} photos of the owner in LFW")
        self.gallery_paths = owner[:args.gallery]
        self.frame_paths = owner[args.gallery:args.gallery + 20]
        self.frames = [webcam_frame(p) for p in self.frame_paths]
        self.gallery = np.stack([preprocess(p) for p in self.gallery_paths])
        others = sorted((self.lfw / "George_W_Bush").glob("*.jpg"))[:5]
        self.probes = np.stack([preprocess(p) for p in self.frame_paths[:5] + others])
        self.flops = 0.0
        self.variants: dict = {}
        self._folder = tempfile.TemporaryDirectory(prefix="faceapp-bench-")
        self._model_path = Path(self._folder.name) / "model.keras"
        self._saved = False

    @property
    def model_path(self) -> Path:
        """The Siamese model saved as .keras (written on first use: it takes seconds)."""
        if not self._saved:
            from faceapp.model import save_model

            save_model(self.siamese, self._model_path, overwrite=True)
            self._saved = True
        return self._model_path

    @contextlib.contextmanager
    def tempdir(self):
        with tempfile.TemporaryDirectory(prefix="faceapp-bench-") as folder:
            yield Path(folder)

    def close(self):
        self._folder.cleanup()


def configure_threads(args) -> str:
    import tensorflow as tf

    if args.intra_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_threads)
    if args.inter_threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_threads)
    intra = tf.config.threading.get_intra_op_parallelism_threads() or "default"
    inter = tf.config.threading.get_inter_op_parallelism_threads() or "default"
    return f"intra-op {intra}, inter-op {inter}"


def header(args, threads: str, seconds: float) -> str:
    import keras
    import tensorflow as tf

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python -m benchmarks" + ("" if len(sys.argv) < 2 else " " + " ".join(sys.argv[1:]))
    return (f"# Benchmark results\n\n"
            f"Produced by `{command}` on {when} in {seconds:.0f} s: {os.cpu_count()} CPUs "
            f"({platform.machine()}), TensorFlow {tf.__version__}, Keras {keras.__version__}, "
            f"threads {threads}, model "
            f"{'`' + str(args.model) + '`' if args.model else 'untrained `' + args.arch + '`'}. Ratios compare figures with "
            f"references measured seconds apart in this same run; absolute numbers drift "
            f"with the machine's load. What each row means: docs/benchmarks.md.")


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    import tensorflow as tf  # noqa: F401  (after parsing, so --help is instant)

    threads = configure_threads(args)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import app, embedding, reference, training, verification
    from benchmarks.core import Results, write_markdown

    print(f"faceapp benchmarks: sections {','.join(args.only)}; arch {args.arch}; "
          f"threads {threads}", flush=True)
    ref = reference.MatmulReference(args.matmul_size, repeats=max(3, args.repeats))
    context = Context(args)
    results = Results()
    runners = {"reference": lambda: reference.run(results, ref, args),
               "embedding": lambda: embedding.run(results, ref, context, args),
               "training": lambda: training.run(results, ref, context, args),
               "verification": lambda: verification.run(results, ref, context, args),
               "app": lambda: app.run(results, ref, context, args)}
    try:
        if "embedding" not in args.only and ({"training"} & set(args.only)):
            from benchmarks.models import model_flops
            context.flops = model_flops(context.embedding)
        for section in SECTIONS:
            if section in args.only:
                print(f"[{section}]", flush=True)
                t0 = time.perf_counter()
                runners[section]()
                print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    finally:
        context.close()
    seconds = time.perf_counter() - started
    if ref.history:
        results.notes.append(
            f"TF fp32 matmul rate over the run: {min(ref.history):,.0f}-"
            f"{max(ref.history):,.0f} GFLOP/s ({len(ref.history)} measurements): the drift "
            "the ratios cancel out")
    print()
    print(results.text_table())
    if results.notes:
        print("\nnotes:")
        for note in results.notes:
            print(f"- {note}")
    if not args.no_write:
        write_markdown(results, args.output, header(args, threads, seconds))
        print(f"\nwritten: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
