"""The Siamese model: architecture, L1Dist under Keras 3, save/load, legacy tutorial files."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
from keras import layers

from faceapp.errors import FaceappError
from faceapp.keras.networks import (
    L1Dist,
    load_model,
    make_embedding,
    make_siamese_model,
    save_model,
    siamese_parts,
)
from faceapp.vision.imaging import preprocess


@pytest.fixture(scope="module")
def faces(lfw):
    """Four real faces: two of one person, two of another."""
    paths = [
        lfw / "Colin_Powell" / "Colin_Powell_0001.jpg",
        lfw / "Colin_Powell" / "Colin_Powell_0002.jpg",
        lfw / "Tony_Blair" / "Tony_Blair_0001.jpg",
        lfw / "Tony_Blair" / "Tony_Blair_0002.jpg",
    ]
    return np.stack([preprocess(p) for p in paths])


@pytest.fixture(scope="module")
def tiny_model():
    keras.utils.set_random_seed(1)
    return make_siamese_model("tiny")


def predict(model, a, b):
    return np.asarray(model.predict([a, b], verbose=0))


def test_koch_architecture_has_the_papers_parameter_counts():
    embedding = make_embedding("koch")
    assert embedding.count_params() == 38_960_448
    assert embedding.output_shape == (None, 4096)
    pools = [layer for layer in embedding.layers if isinstance(layer, layers.MaxPooling2D)]
    assert [p.pool_size for p in pools] == [(2, 2)] * 3
    assert make_siamese_model("koch", embedding=embedding).count_params() == 38_964_545


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(FaceappError, match="unknown architecture 'vgg'"):
        make_embedding("vgg")


def test_l1dist_takes_two_tensors_a_pair_or_single_element_lists():
    a = np.array([[1.0, -2.0, 3.0]], np.float32)
    b = np.array([[0.5, 2.0, 3.0]], np.float32)
    layer = L1Dist()
    expected = np.abs(a - b)
    for args in [(a, b), ([a, b],), ([a], [b])]:
        out = layer(*args)
        assert not isinstance(out, (list, tuple))
        np.testing.assert_allclose(np.asarray(out), expected)


def test_l1dist_config_passes_kwargs_on():
    layer = L1Dist(name="distance", dtype="float32", trainable=False)
    clone = L1Dist.from_config(layer.get_config())
    assert (clone.name, clone.trainable) == ("distance", False)


def test_model_outputs_one_probability_per_pair(tiny_model, faces):
    scores = predict(tiny_model, faces[:2], faces[2:])
    assert scores.shape == (2, 1)
    assert ((scores > 0) & (scores < 1)).all()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_reloaded_model_predicts_exactly_the_same(tmp_path, tiny_model, faces, suffix):
    path = save_model(tiny_model, tmp_path / f"model{suffix}")
    reloaded = load_model(path)
    before = predict(tiny_model, faces, faces[::-1])
    after = predict(reloaded, faces, faces[::-1])
    assert np.abs(before - after).max() == 0.0


def test_keras_loader_needs_no_custom_objects_once_faceapp_is_imported(tmp_path, tiny_model):
    path = save_model(tiny_model, tmp_path / "model.keras")
    model = keras.saving.load_model(path, compile=False)
    assert any(isinstance(layer, L1Dist) for layer in model.layers)


def test_full_size_model_round_trip(tmp_path, faces):
    model = make_siamese_model("koch")
    path = save_model(model, tmp_path / "koch.keras")
    reloaded = load_model(path)
    assert (
        np.abs(predict(model, faces, faces[::-1]) - predict(reloaded, faces, faces[::-1])).max()
        == 0
    )


def test_fast_parts_score_like_the_whole_model(tiny_model, faces):
    embedding, kernel, bias = siamese_parts(tiny_model)
    gallery = np.asarray(embedding.predict(faces, verbose=0))
    probe = np.asarray(embedding.predict(faces[:1], verbose=0))[0]
    whole = predict(tiny_model, np.repeat(faces[:1], 4, axis=0), faces).reshape(-1)
    from faceapp.models.head import Head

    np.testing.assert_allclose(Head(kernel, bias).scores(probe, gallery), whole, atol=1e-5)


# --- The widely copied tutorial's model file -------------------------------------------


def build_tutorial_model():
    """The tutorial's code, as written (64x64 pooling window, two-argument L1Dist)."""

    class L1Dist(layers.Layer):  # noqa: N801 - the tutorial's own class, same name
        def __init__(self, **kwargs):
            super().__init__()

        def call(self, input_embedding, validation_embedding):
            return keras.ops.abs(input_embedding - validation_embedding)

    inp = keras.Input(shape=(100, 100, 3), name="input_image")
    c1 = layers.Conv2D(64, (10, 10), activation="relu")(inp)
    m1 = layers.MaxPooling2D(64, (2, 2), padding="same")(c1)
    c2 = layers.Conv2D(128, (7, 7), activation="relu")(m1)
    m2 = layers.MaxPooling2D(64, (2, 2), padding="same")(c2)
    c3 = layers.Conv2D(128, (4, 4), activation="relu")(m2)
    m3 = layers.MaxPooling2D(64, (2, 2), padding="same")(c3)
    c4 = layers.Conv2D(256, (4, 4), activation="relu")(m3)
    f1 = layers.Flatten()(c4)
    d1 = layers.Dense(4096, activation="sigmoid")(f1)
    # Under Keras 2 the tutorial's outputs=[d1] gave a tensor; Keras 3 would give a list.
    embedding = keras.Model(inputs=[inp], outputs=d1, name="embedding")

    input_image = keras.Input(name="input_img", shape=(100, 100, 3))
    validation_image = keras.Input(name="validation_img", shape=(100, 100, 3))
    siamese_layer = L1Dist()
    siamese_layer.name = "distance"
    distances = siamese_layer(embedding(input_image), embedding(validation_image))
    classifier = layers.Dense(1, activation="sigmoid")(distances)
    return keras.Model(
        inputs=[input_image, validation_image], outputs=classifier, name="SiameseNetwork"
    )


def test_tutorial_h5_file_loads_and_predicts_as_before(tmp_path, faces):
    keras.utils.set_random_seed(7)
    tutorial = build_tutorial_model()
    path = tmp_path / "siamesemodel.h5"
    tutorial.save(path)  # the tutorial's own save call
    before = predict(tutorial, faces, faces[::-1])

    loaded = load_model(path)
    assert np.abs(predict(loaded, faces, faces[::-1]) - before).max() == 0.0
    embedding, _, _ = siamese_parts(loaded)
    pools = [layer for layer in embedding.layers if isinstance(layer, layers.MaxPooling2D)]
    assert [p.pool_size for p in pools] == [(64, 64)] * 3  # its own pooling, kept


# --- Atomic, non-destructive saving -------------------------------------------------------


def test_save_never_overwrites_and_leaves_no_temporary_files(tmp_path, tiny_model):
    path = save_model(tiny_model, tmp_path / "model.keras")
    first = path.read_bytes()
    with pytest.raises(FaceappError, match="refusing to overwrite"):
        save_model(tiny_model, path)
    assert path.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600


def test_failed_save_leaves_nothing_behind(tmp_path, tiny_model, monkeypatch):
    def explode(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as handle:
            handle.write(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", explode)
    with pytest.raises(OSError, match="disk full"):
        save_model(tiny_model, tmp_path / "model.keras")
    assert list(tmp_path.iterdir()) == []


# --- Bad model files ------------------------------------------------------------------------


def test_missing_model(tmp_path):
    with pytest.raises(FaceappError, match="model file not found: .*nope.keras"):
        load_model(tmp_path / "nope.keras")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_truncated_and_random_model_files(tmp_path, tiny_model, suffix):
    good = save_model(tiny_model, tmp_path / f"good{suffix}")
    truncated = tmp_path / f"truncated{suffix}"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    noise = tmp_path / f"noise{suffix}"
    noise.write_bytes(np.random.default_rng(0).bytes(5000))
    text = tmp_path / f"text{suffix}"
    text.write_text("hello")
    for bad in (truncated, noise, text):
        with pytest.raises(FaceappError) as error:
            load_model(bad)
        message = str(error.value)
        assert str(bad) in message and "\n" not in message


def test_empty_and_wrong_suffix(tmp_path):
    empty = tmp_path / "empty.keras"
    empty.touch()
    with pytest.raises(FaceappError, match="model file is empty"):
        load_model(empty)
    other = tmp_path / "model.onnx"
    other.write_bytes(b"x")
    with pytest.raises(FaceappError, match=r"must end in \.keras or \.h5"):
        load_model(other)


def test_valid_keras_model_of_the_wrong_shape_is_refused(tmp_path):
    inp = keras.Input(shape=(28, 28, 1))
    wrong = keras.Model(inp, layers.Dense(10)(layers.Flatten()(inp)))
    path = tmp_path / "mnist.keras"
    wrong.save(path)
    with pytest.raises(FaceappError, match="is not a Siamese face model"):
        load_model(path)
