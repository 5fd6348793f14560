"""The run time: the int8 copy on LiteRT scores like the float32 Keras model, a model trained
before the copies existed is converted once, and missing or damaged files are named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import face_photos
from tiny_models import OTHER, OWNER, exact_match_model, export_tiny

from faceapp.errors import FaceappError
from faceapp.models.files import files_of
from faceapp.verification.rule import verified

pytest.importorskip("keras")

from faceapp.models.runtime import load_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return export_tiny(tmp_path_factory.mktemp("models") / "tiny.keras")


@pytest.fixture
def copy(tiny, tmp_path) -> Path:
    """A private copy of the tiny model's three files."""
    for file in tiny.parent.iterdir():
        shutil.copy(file, tmp_path / file.name)
    return tmp_path / tiny.name


def faces() -> np.ndarray:
    import cv2

    from faceapp.vision.crops import cut_face
    from faceapp.vision.imaging import preprocess

    photos = face_photos(OWNER, slice(0, 4)) + face_photos(OTHER, slice(0, 4))
    return np.stack([preprocess(cut_face(cv2.imread(str(p))).image) for p in photos])


def test_int8_scores_match_float32_on_real_faces(tiny):
    int8, float32 = load_model(files_of(tiny), "int8"), load_model(files_of(tiny), "keras")
    assert (int8.runtime, float32.runtime) == ("int8", "keras")
    batch = faces()
    a, b = int8.embed(batch), float32.embed(batch)
    np.testing.assert_allclose(a, b, atol=0.02)
    np.testing.assert_allclose(int8.head.kernel, float32.head.kernel)
    scores_a = int8.head.scores(a[0], a[1:])
    scores_b = float32.head.scores(b[0], b[1:])
    assert np.max(np.abs(scores_a - scores_b)) < 0.01


def test_int8_decisions_match_float32_on_real_faces(tmp_path):
    """Every pair's decision at the app's bar agrees, on a model whose scores spread across it
    (the same photo about 0.7, other faces 0.3 or less)."""
    exact = exact_match_model(tmp_path / "exact.keras")
    int8, float32 = load_model(files_of(exact), "int8"), load_model(files_of(exact), "keras")
    batch = faces()
    a, b = int8.embed(batch), float32.embed(batch)
    decided = [
        verified(np.stack([model.head.scores(p, e)[:, None] for p in e]), 0.5, 0.5)
        for model, e in ((int8, a), (float32, b))
    ]
    np.testing.assert_array_equal(decided[0], decided[1])
    np.testing.assert_array_equal(decided[1], np.eye(len(batch), dtype=bool))


def test_a_model_without_an_int8_copy_is_converted_once_and_cached(copy, tmp_path, monkeypatch):
    from faceapp.keras import convert

    copy.with_name("tiny.int8.tflite").unlink()
    metadata = json.loads(copy.with_suffix(".json").read_text())
    for key in ("head", "int8"):  # as models trained before format 2 were saved
        metadata.pop(key)
    copy.with_suffix(".json").write_text(json.dumps(metadata))
    cache = tmp_path / "cache"
    first = load_model(files_of(copy), "int8", cache)
    assert first.runtime == "int8" and len(list(cache.glob("*.int8.tflite"))) == 1

    def no_conversion(_path):
        raise AssertionError("converted again although the cache has this model")

    monkeypatch.setattr(convert, "convert_file", no_conversion)
    again = load_model(files_of(copy), "int8", cache)
    assert again.identity == first.identity
    np.testing.assert_array_equal(again.embed(faces()[:2]), first.embed(faces()[:2]))


def test_a_damaged_int8_copy_is_named_not_run(copy):
    int8 = copy.with_name("tiny.int8.tflite")
    data = bytearray(int8.read_bytes())
    data[len(data) // 2] ^= 0xFF
    int8.write_bytes(bytes(data))
    with pytest.raises(FaceappError, match=r"tiny\.int8\.tflite is damaged .*SHA-256"):
        load_model(files_of(copy))
    int8.unlink()  # with the Keras file there, a missing copy is simply made again
    assert load_model(files_of(copy), "int8").runtime == "int8"


def test_without_litert_a_model_with_a_keras_file_runs_float32_and_says_why(copy, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_litert(name, *args, **kwargs):
        if name.startswith("ai_edge_litert"):
            raise ImportError("No module named 'ai_edge_litert'", name="ai_edge_litert")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_litert)
    model = load_model(files_of(copy))
    assert model.runtime == "keras" and "LiteRT is not installed" in model.note
    assert model.embed(faces()[:1]).shape == (1, model.head.dimensions)


def test_runtime_keras_needs_a_keras_file(copy):
    copy.unlink()
    with pytest.raises(FaceappError, match="--runtime keras needs a Keras model file"):
        load_model(files_of(copy.with_name("tiny.int8.tflite")), "keras")


def test_unknown_runtime_is_a_clear_error(tiny):
    with pytest.raises(FaceappError, match="unknown runtime 'fp64'"):
        load_model(files_of(tiny), "fp64")
