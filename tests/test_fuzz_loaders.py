"""Property-based tests: whatever bytes or arrays arrive, loaders answer cleanly.

Each loader either returns a valid result or raises FaceappError with a one-line
message; nothing else escapes (no cv2.error, no ValueError, no crash).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from faceapp.errors import FaceappError
from faceapp.vision.imaging import INPUT_SHAPE, decode_image, preprocess

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_valid_input(x: np.ndarray) -> None:
    assert x.shape == INPUT_SHAPE and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0


def check_clean(call):
    try:
        result = call()
    except FaceappError as error:
        assert "\n" not in str(error)
        return None
    return result


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_decode_or_fail_cleanly(data):
    image = check_clean(lambda: decode_image(data, "fuzz.jpg"))
    if image is not None:
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


@pytest.fixture(scope="module")
def jpeg_bytes(face_path):
    return face_path.read_bytes()


@FUZZ
@given(data=st.data())
def test_corrupted_real_jpegs_decode_or_fail_cleanly(jpeg_bytes, data):
    """Flip, cut and splice bytes of a real photo: the realistic corruptions."""
    raw = bytearray(jpeg_bytes)
    for _ in range(data.draw(st.integers(0, 20))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    mangled = bytes(raw[:cut]) if data.draw(st.booleans()) else bytes(raw)
    x = check_clean(lambda: preprocess(mangled))
    if x is not None:
        assert_valid_input(x)


image_dtypes = st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.int32, np.bool_])
image_shapes = st.one_of(
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=40),
    st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 6)),
    hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
)


@FUZZ
@given(hnp.arrays(dtype=image_dtypes, shape=image_shapes))
def test_random_arrays_preprocess_or_fail_cleanly(array):
    x = check_clean(lambda: preprocess(array))
    if x is not None:
        assert_valid_input(x)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=1, max_size=2048), suffix=st.sampled_from([".keras", ".h5"]))
def test_random_bytes_as_model_file_fail_cleanly(tmp_path_factory, data, suffix):
    from faceapp.keras.networks import load_model

    path = tmp_path_factory.mktemp("fuzz") / f"model{suffix}"
    path.write_bytes(data)
    with pytest.raises(FaceappError) as error:
        load_model(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
