"""dlib's network converted without dlib: the format reader on synthetic records, and the
Keras rebuild and the shipped int8 copy against dlib itself on real faces (the fixture)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from training.conversion import dlib_format as dw

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "faces"


def pack_int(value: int) -> bytes:
    """dlib's serialize.h integer, re-implemented here from its description."""
    negative, magnitude, out = value < 0, abs(value), []
    while True:
        out.append(magnitude & 0xFF)
        magnitude >>= 8
        if magnitude == 0:
            break
    return bytes([len(out) | (0x80 if negative else 0)] + out)


def pack_float32(value: float) -> bytes:
    """float_details of a float: mantissa then exponent, each a dlib integer."""
    if value == 0:
        mantissa, exponent = 0, 0
    else:
        m, e = math.frexp(value)
        mantissa, exponent = int(m * (1 << 24)), e - 24
    for _ in range(8):
        if mantissa & 0xFF:
            break
        mantissa >>= 8
        exponent += 8
    return pack_int(mantissa) + pack_int(exponent)


@pytest.mark.parametrize("value", [0, 1, 127, 128, 255, 256, 65535, -1, -300, 2**40, -(2**62)])
def test_integers_read_back(value):
    stream = dw._Stream(pack_int(value), "mem")
    assert stream.int_() == value and stream.pos == len(stream.data)


def test_floats_read_back_exactly():
    values = np.random.default_rng(0).standard_normal(200).astype(np.float32).tolist()
    values += [0.0, 0.04, 0.6, 122.782]
    stream = dw._Stream(b"".join(pack_float32(float(np.float32(v))) for v in values), "mem")
    got = [stream.float_() for _ in values]
    assert np.array_equal(np.float32(got), np.float32(values))


def test_a_truncated_file_is_a_one_line_error_naming_it(tmp_path):
    bad = tmp_path / "cut.dat"
    bad.write_bytes(dw.default_model_path().read_bytes()[:100_000])
    with pytest.raises(dw.DlibFormatError, match=r"cut\.dat: .*\(at byte \d+\)"):
        dw.load_face_recognition_model(bad)


def test_the_real_network_has_dlibs_shape():
    net = dw.load_face_recognition_model()
    assert net.input.mean_rgb == pytest.approx((122.782, 117.001, 104.298), abs=1e-4)
    assert (net.input.rows, net.input.cols) == (150, 150)
    assert net.loss is not None and net.loss.distance_threshold == pytest.approx(0.6)
    assert sum(isinstance(layer, dw.Conv) for layer in net.layers) == 29
    assert net.layers[-1].weights.shape == (256, 128) and net.layers[-1].bias is None


@pytest.fixture(scope="module")
def chips_and_dlib():
    """The fixture faces aligned the app's way onto dlib's chip, and dlib's descriptors."""
    from training.convert_dlib import aligned_chips, dlib_descriptors

    chips = aligned_chips(sorted(FIXTURE.glob("*/*.jpg"))[::2])
    return chips, dlib_descriptors(chips)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_the_keras_rebuild_gives_dlibs_descriptors(chips_and_dlib):
    from training.conversion.dlib_network import ZeroPadAdd, build_face_recognition_model

    padded = np.asarray(
        ZeroPadAdd()([np.ones((1, 3, 3, 4), np.float32), np.full((1, 4, 4, 2), 10.0, np.float32)])
    )  # dlib pads the smaller tensor at the end of rows, columns and channels
    assert padded[0, 0, 0, 0] == 11 and padded[0, 3, 3, 0] == 10 and padded[0, 3, 3, 3] == 0
    chips, reference = chips_and_dlib
    model = build_face_recognition_model(pixel_scale=255.0)
    ours = np.asarray(model(chips.astype(np.float32) / 255.0))
    assert cosines(ours, reference).min() >= 0.999
    np.testing.assert_allclose(ours, reference, atol=1e-4)  # not normalised: dlib's own scale


def test_the_shipped_int8_copy_gives_dlibs_descriptors(chips_and_dlib):
    from faceapp.models.files import shipped_model
    from faceapp.models.runtime import Int8Embedding

    chips, reference = chips_and_dlib
    flatbuffer = shipped_model().int8_path.read_bytes()
    ours = Int8Embedding(flatbuffer, "shipped", (150, 150, 3))(chips.astype(np.float32) / 255)
    assert cosines(ours, reference).min() >= 0.999
