"""The int8 embedding runtime: same scores as Keras on real faces, cached, and a fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tiny_models import OTHER, OWNER, enrol, photos, untrained_tiny_model

pytest.importorskip("keras")

from faceapp.errors import FaceappError  # noqa: E402
from faceapp.verify import Verifier  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return untrained_tiny_model(tmp_path_factory.mktemp("models") / "tiny.keras")


@pytest.fixture(scope="module")
def gallery(lfw, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("gallery") / "verification_images"
    enrol(folder, photos(lfw, OWNER, slice(0, 8)))
    return folder


def test_int8_scores_and_decisions_match_float32_on_real_faces(tiny, gallery, lfw, tmp_path):
    int8 = Verifier(tiny[0], gallery, runtime="int8", cache_dir=tmp_path / "cache")
    float32 = Verifier(tiny[0], gallery, runtime="keras")
    assert (int8.runtime, int8.runtime_note) == ("int8", None)
    assert float32.runtime == "keras"
    np.testing.assert_allclose(int8.gallery(), float32.gallery(), atol=0.02)
    for probe in photos(lfw, OWNER, slice(8, 11)) + photos(lfw, OTHER, slice(0, 3)):
        a, b = int8.scores(probe), float32.scores(probe)
        assert np.max(np.abs(a - b)) < 0.01, probe.name
        assert int8.verify(probe).verified == float32.verify(probe).verified


def test_int8_conversion_is_cached_per_model_file(tiny, gallery, tmp_path, monkeypatch):
    from faceapp import runtime

    cache = tmp_path / "cache"
    Verifier(tiny[0], gallery, cache_dir=cache)
    cached = list(cache.glob("*.int8.tflite"))
    assert len(cached) == 1 and cached[0].stat().st_mode & 0o077 == 0

    def no_conversion(_embedding):
        raise AssertionError("converted again although the cache has this model")

    monkeypatch.setattr(runtime, "int8_flatbuffer", no_conversion)
    assert Verifier(tiny[0], gallery, cache_dir=cache).runtime == "int8"


def test_a_damaged_cached_copy_is_converted_again(tiny, gallery, tmp_path):
    cache = tmp_path / "cache"
    Verifier(tiny[0], gallery, cache_dir=cache)
    (cached,) = cache.glob("*.int8.tflite")
    cached.write_bytes(b"not a flatbuffer")
    verifier = Verifier(tiny[0], gallery, cache_dir=cache)
    assert (verifier.runtime, verifier.runtime_note) == ("int8", None)
    assert cached.read_bytes()[4:8] == b"TFL3"  # a real TFLite file again


def test_failed_conversion_falls_back_to_float32_and_says_why(tiny, gallery, monkeypatch):
    from faceapp import runtime

    def broken(_embedding):
        raise RuntimeError("no TensorFlow Lite here")

    monkeypatch.setattr(runtime, "int8_flatbuffer", broken)
    verifier = Verifier(tiny[0], gallery)
    assert verifier.runtime == "keras"
    assert "no TensorFlow Lite here" in verifier.runtime_note
    assert verifier.gallery().shape[0] == 8  # and it still verifies


def test_unknown_runtime_is_a_clear_error(tiny, gallery):
    with pytest.raises(FaceappError, match="unknown runtime 'fp64'"):
        Verifier(tiny[0], gallery, runtime="fp64")
