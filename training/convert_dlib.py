"""``python -m training.convert_dlib``: dlib's face-recognition network as an int8 copy the app
runs, checked against dlib itself.

dlib's ResNet (29 convolutions, 128-d descriptors, 99.38% on LFW; trained by Davis King on
about 3 million faces of 7,485 people, none of them in LFW) comes with the PyPI package
``face-recognition-models`` (``dlib_face_recognition_resnet_model_v1.dat``, released into the
public domain by its author). This command reads that file with numpy
(:mod:`training.conversion.dlib_format`), rebuilds the network in Keras layer for layer
(:mod:`training.conversion.dlib_network`), and converts it to a TFLite flatbuffer with int8
weights (dynamic-range quantisation, per channel). Both copies are checked against dlib's own
``compute_face_descriptor`` on real faces aligned the app's way (the fixture faces): the
Keras copy must agree to a cosine of 0.999 or better, the int8 copy to 0.995.

Writes ``<out>/<name>.int8.tflite`` and ``<name>.json``, whose head is dlib's own rule (the
same person below a Euclidean distance of 0.6) until ``python -m training.calibrate`` fits
the head and the security levels::

    python -m training.convert_dlib --out application_data/models
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError, OneLineParser, cli_guard
from faceapp.models.head import Head
from faceapp.models.metadata import int8_path, write_metadata
from faceapp.models.runtime import sha256_of
from faceapp.vision.align import CHIP_SIZE

NAME = "dlib-resnet-v1"
FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "faces"
KERAS_AGREEMENT = 0.999  # the least cosine of the Keras copy to dlib on a real face
INT8_AGREEMENT = 0.995  # the same for the int8 copy (measured: 0.9997 at the least)


def aligned_chips(paths: list[Path]) -> np.ndarray:
    """The faces of ``paths`` aligned the app's way onto dlib's 150x150 chip (RGB uint8);
    photos where no landmarks are found are left out."""
    from faceapp.vision.align import align
    from faceapp.vision.finder import find_face
    from faceapp.vision.imaging import read_image

    chips = []
    for path in paths:
        image = read_image(path)
        face = find_face(image)
        if face is not None and face.landmarks is not None:
            chips.append(align(image, face.landmarks.xy, CHIP_SIZE)[:, :, ::-1])
    if not chips:
        raise FaceappError("no face found in the check photos")
    return np.ascontiguousarray(np.stack(chips))


def dlib_descriptors(chips_rgb: np.ndarray) -> np.ndarray:
    """dlib's own descriptors of 150x150 RGB chips (the reference)."""
    from training.identity.teacher import require_dlib

    dlib, models = require_dlib()
    recogniser = dlib.face_recognition_model_v1(models.face_recognition_model_location())
    return np.stack(
        [np.asarray(recogniser.compute_face_descriptor(np.ascontiguousarray(c))) for c in chips_rgb]
    ).astype(np.float32)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def int8_copy(model) -> bytes:
    """The Keras model as a TFLite flatbuffer with int8 weights (dynamic range, per channel).
    ``from_keras_model``: a saved-model export of this model dropped its weights."""
    import tensorflow as tf

    from faceapp.quiet import parked_stderr

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    with parked_stderr(replay=False), contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()  # (it prints the traced signature on stdout)


def int8_descriptors(flatbuffer: bytes, faces: np.ndarray) -> np.ndarray:
    """The int8 copy's descriptors of faces in [0, 1], on LiteRT as the app runs it."""
    from faceapp.models.runtime import Int8Embedding

    return Int8Embedding(flatbuffer, "int8 copy", faces.shape[1:])(faces)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m training.convert_dlib",
        description="Convert dlib's face-recognition network to the int8 copy the app runs, "
        "checked against dlib on real faces.",
    )
    parser.add_argument(
        "--dat",
        metavar="FILE",
        help="dlib_face_recognition_resnet_model_v1.dat (default: the one in the "
        "face-recognition-models package)",
    )
    parser.add_argument(
        "--out", "--output", dest="out", required=True, metavar="DIR", help="folder to write into"
    )
    parser.add_argument("--name", default=NAME, help=f"the model's name (default: {NAME})")
    parser.add_argument(
        "--check-faces",
        default=str(FIXTURE),
        metavar="DIR",
        help="an identity tree of real photos to check both copies against dlib on "
        "(default: tests/fixtures/faces)",
    )
    return parser


@cli_guard
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from training.conversion.dlib_format import DlibFormatError, default_model_path
    from training.conversion.dlib_network import build_face_recognition_model

    dat = Path(args.dat) if args.dat else default_model_path()
    out = Path(args.out)
    target = out / f"{args.name}.json"
    if target.exists() or int8_path(target).exists():
        raise FaceappError(f"refusing to overwrite existing model {target.with_suffix('')}")
    photos = sorted(Path(args.check_faces).glob("*/*.jpg"))
    if not photos:
        raise FaceappError(f"no photos to check against in {args.check_faces}")
    try:
        model = build_face_recognition_model(dat, batch_size=1, pixel_scale=255.0)
    except DlibFormatError as error:
        raise FaceappError(str(error)) from None
    chips = aligned_chips(photos)
    reference = dlib_descriptors(chips)
    faces = chips.astype(np.float32) / np.float32(255.0)
    keras_vectors = np.concatenate([np.asarray(model(f[None])) for f in faces])
    keras_agreement = float(cosines(keras_vectors, reference).min())
    flatbuffer = int8_copy(model)
    int8_agreement = float(cosines(int8_descriptors(flatbuffer, faces), reference).min())
    print(
        f"{len(chips)} faces: Keras copy to dlib cosine >= {keras_agreement:.7f}, "
        f"int8 copy >= {int8_agreement:.5f}"
    )
    if keras_agreement < KERAS_AGREEMENT or int8_agreement < INT8_AGREEMENT:
        raise FaceappError(
            f"the converted network disagrees with dlib (cosine {keras_agreement:.4f} / "
            f"{int8_agreement:.4f}; need {KERAS_AGREEMENT} / {INT8_AGREEMENT})"
        )
    from faceapp.storage import write_bytes_atomic

    write_bytes_atomic(int8_path(target), flatbuffer)
    write_metadata(
        target,
        {
            "format": 2,
            "name": args.name,
            "architecture": "dlib-resnet-v1",
            "crop": "aligned",
            "input_size": [CHIP_SIZE, CHIP_SIZE, 3],
            "int8": {"file": int8_path(target).name, "sha256": sha256_of(flatbuffer)},
            # dlib's own rule until training.calibrate fits the head and the levels: the
            # same person when the Euclidean distance is below 0.6 (score 0.5), voted
            "head": Head.dlib_distance().to_json(),
            "detection_threshold": 0.5,
            "verification_threshold": 0.5,
            "detection_threshold_rule": "dlib's: Euclidean distance below 0.6",
            "source": {
                "network": dat.name,
                "package": "face-recognition-models (PyPI), dlib's model files, public domain",
                "conversion": "training.convert_dlib: numpy reader, Keras rebuild, int8 "
                "dynamic-range quantisation",
                "agreement_with_dlib": {
                    "faces": len(chips),
                    "keras_cosine_min": round(keras_agreement, 7),
                    "int8_cosine_min": round(int8_agreement, 5),
                },
            },
        },
    )
    print(f"wrote {int8_path(target)} ({len(flatbuffer) / 2**20:.1f} MB) and {target.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
