"""The Siamese network of Koch et al. (2015), and saving/loading it safely.

Read top to bottom:

1. :func:`make_embedding` maps a 100x100x3 face to a 4096-d vector (the part that must
   learn identity).
2. :class:`L1Dist` takes two embeddings and returns ``|a - b|``, element-wise.
3. :func:`make_siamese_model` applies the *same* embedding to two images, then
   ``Dense(1, sigmoid)`` on their L1 distance: P(same person).

Architectures are kept in a small registry (:data:`ARCHITECTURES`): ``koch`` is the
paper's network (the default), ``tiny`` is a small one for tests and demos, ``compact``
a BatchNorm CNN with a unit-length 128-d embedding for identity pre-training
(``python -m training.recipes``, docs/accuracy.md), ``wide`` the same 1.5 times wider.
Trained embeddings can be wrapped: :func:`mirror_averaged` (a face and its mirror image,
averaged), :func:`ensemble` (several networks side by side), :func:`make_viewing_embedding`
(a network that looks at the inner face only).

:func:`save_model` writes atomically (temporary file, then rename) and never overwrites
unless asked; :func:`load_model` reads native ``.keras`` files in Keras safe mode and
legacy ``.h5`` files (including those written by the widely copied tutorial), and turns
every failure into a one-line :class:`~faceapp.errors.FaceappError` naming the file.

This module uses only ``keras`` APIs, so it also runs on Keras 3's JAX backend.
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from faceapp.keras.quiet import import_keras_quietly

import_keras_quietly()

import keras  # noqa: E402  (after the quiet import above)
from keras import layers, ops  # noqa: E402

from faceapp.errors import FaceappError, one_line
from faceapp.keras import ARCHITECTURE_NAMES, DEFAULT_ARCHITECTURE
from faceapp.models.files import KERAS_SUFFIXES
from faceapp.storage import atomic_path
from faceapp.vision.imaging import INPUT_SHAPE

# --- 1. The embedding network -------------------------------------------------------


def make_koch_embedding(name: str = "embedding") -> keras.Model:
    """Koch et al.'s embedding: 4 conv layers with 2x2 max pooling, then Dense 4096 sigmoid.

    100x100x3 -> conv 64@10x10 -> pool -> conv 128@7x7 -> pool -> conv 128@4x4 -> pool
    -> conv 256@4x4 -> flatten -> dense 4096 (38,960,448 parameters).
    """
    image = keras.Input(shape=INPUT_SHAPE, name="input_image")
    x = layers.Conv2D(64, (10, 10), activation="relu")(image)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(128, (7, 7), activation="relu")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(128, (4, 4), activation="relu")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(256, (4, 4), activation="relu")(x)
    x = layers.Flatten()(x)
    embedding = layers.Dense(4096, activation="sigmoid")(x)
    return keras.Model(inputs=image, outputs=embedding, name=name)


def make_tiny_embedding(name: str = "embedding") -> keras.Model:
    """A small embedding (about 40k parameters) with the same interface, for tests."""
    image = keras.Input(shape=INPUT_SHAPE, name="input_image")
    x = layers.Conv2D(8, (5, 5), strides=2, activation="relu")(image)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(16, (3, 3), activation="relu")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Flatten()(x)
    embedding = layers.Dense(32, activation="sigmoid")(x)
    return keras.Model(inputs=image, outputs=embedding, name=name)


def make_compact_embedding(
    name: str = "embedding", dimensions: int = 128, width: float = 1.0
) -> keras.Model:
    """A compact BatchNorm CNN with a unit-length 128-d output (about 1.5M parameters).

    Meant to be pre-trained as an identity classifier (``python -m training.recipes``):
    100x100x3 -> conv 32/2 -> conv 32 -> pool -> 2x conv 64 -> pool -> 2x conv 128 -> pool
    -> conv 256 -> flatten -> dropout -> dense 128 -> BatchNorm -> unit length. Every conv is
    3x3 + BatchNorm + ReLU. Roughly 0.2 GFLOPs per face (Koch's network: about 1.8).
    ``width`` multiplies every conv's filters (``wide``: 1.5, about 2.2x the work).
    """
    image = keras.Input(shape=INPUT_SHAPE, name="input_image")
    x = image
    for filters, strides in (
        (32, 2),
        (32, 1),
        (0, 0),  # 2x2 max pooling
        (64, 1),
        (64, 1),
        (0, 0),
        (128, 1),
        (128, 1),
        (0, 0),
        (256, 1),
    ):
        if not filters:
            x = layers.MaxPooling2D((2, 2))(x)
            continue
        x = layers.Conv2D(
            int(filters * width), (3, 3), strides=strides, padding="same", use_bias=False
        )(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(dimensions, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    embedding = layers.UnitNormalization(name="unit_embedding")(x)
    return keras.Model(inputs=image, outputs=embedding, name=name)


ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "koch": make_koch_embedding,
    "tiny": make_tiny_embedding,
    "compact": make_compact_embedding,
    "wide": functools.partial(make_compact_embedding, width=1.5),
}
assert tuple(ARCHITECTURES) == ARCHITECTURE_NAMES  # the names --help lists, built here


def make_embedding(
    architecture: str = DEFAULT_ARCHITECTURE, name: str = "embedding"
) -> keras.Model:
    """The embedding network of a registered architecture (default: Koch et al.)."""
    try:
        builder = ARCHITECTURES[architecture]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise FaceappError(f"unknown architecture {architecture!r} (known: {known})") from None
    return builder(name=name)


# --- 2. The distance layer ----------------------------------------------------------


def _single_tensor(value):
    """Unwrap ``[tensor]``: a Keras 3 model built with ``outputs=[x]`` returns a list."""
    while isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return value


@keras.saving.register_keras_serializable(package="faceapp")
class L1Dist(layers.Layer):
    """Element-wise L1 distance ``|a - b|`` between two embeddings.

    Accepts the two embeddings as two arguments (the tutorial's
    ``call(input_embedding, validation_embedding)``) or as one pair ``[a, b]``, and
    single-element lists in either place, always returning a single tensor.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def call(self, input_embedding, validation_embedding=None):
        if validation_embedding is None:
            input_embedding, validation_embedding = input_embedding
        a = _single_tensor(input_embedding)
        b = _single_tensor(validation_embedding)
        return ops.abs(a - b)

    def get_config(self):
        return super().get_config()


@keras.saving.register_keras_serializable(package="faceapp")
class MirrorImage(layers.Layer):
    """The image flipped left to right (a fixed operation, not a random augmentation)."""

    def call(self, images):
        return ops.flip(images, axis=-2)


def mirror_averaged(embedding: keras.Model, name: str = "embedding") -> keras.Model:
    """``unit(e(x) + e(mirror(x)))``: the embedding of a face and of its mirror image,
    averaged (test-time flip augmentation, built into the network so that the app, the
    int8 copy and every evaluation use it). Costs two passes of ``embedding`` per face."""
    image = keras.Input(shape=INPUT_SHAPE, name="input_image")
    both = layers.Add(name="face_plus_mirror")([embedding(image), embedding(MirrorImage()(image))])
    return keras.Model(image, layers.UnitNormalization(name="unit_average")(both), name=name)


def ensemble(embeddings: list[keras.Model], name: str = "embedding") -> keras.Model:
    """``unit([e1(x), e2(x), ...])``: several independently trained embedding networks as
    one, their unit vectors side by side (an ensemble; each face costs one pass of each, and
    the L1 distance of two faces is proportional to the sum of the members' distances). Summing
    the vectors instead would mix coordinates of unrelated spaces (measured worse than any member
    alone, docs/accuracy.md). Their names must differ."""
    image = keras.Input(shape=INPUT_SHAPE, name="input_image")
    joined = layers.Concatenate(name="members_side_by_side")([e(image) for e in embeddings])
    return keras.Model(image, layers.UnitNormalization(name="unit_members")(joined), name=name)


# What a member of an ensemble looks at: the side of the central square of the face crop it
# sees, resized to the input size (None: the whole crop). Different views make members that
# err on different faces (DeepID's patches).
VIEWS: dict[str, int | None] = {"full": None, "inner": 72}


def make_viewing_embedding(architecture: str, view: str, name: str = "embedding") -> keras.Model:
    """An embedding network of ``architecture`` that looks at ``view`` (a key of
    :data:`VIEWS`) of the input face: the central square cut out and resized back to the
    input size inside the model, so the app, the int8 copy and evaluation all see the same."""
    side = VIEWS[view]
    if side is None:
        return make_embedding(architecture, name=name)
    network = make_embedding(architecture, name=f"{name}_net")
    image = keras.Input(shape=INPUT_SHAPE, name="input_image")
    patch = layers.CenterCrop(side, side, name=f"{view}_square")(image)
    patch = layers.Resizing(INPUT_SHAPE[0], INPUT_SHAPE[1], name=f"{view}_resized")(patch)
    return keras.Model(image, network(patch), name=name)


# --- 3. The Siamese model -----------------------------------------------------------


def make_siamese_model(
    architecture: str = DEFAULT_ARCHITECTURE, embedding: keras.Model | None = None
) -> keras.Model:
    """Two images -> shared embedding -> L1Dist -> Dense(1, sigmoid) = P(same person).

    With the default ``koch`` architecture: 38,964,545 parameters.
    """
    embedding = embedding if embedding is not None else make_embedding(architecture)
    input_image = keras.Input(shape=INPUT_SHAPE, name="input_image")
    validation_image = keras.Input(shape=INPUT_SHAPE, name="validation_image")
    distance = L1Dist(name="distance")(embedding(input_image), embedding(validation_image))
    probability = layers.Dense(1, activation="sigmoid", name="classifier")(distance)
    return keras.Model(
        inputs=[input_image, validation_image], outputs=probability, name="SiameseNetwork"
    )


# --- Parts used for fast verification ------------------------------------------------


def siamese_parts(model: keras.Model) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    """Split a Siamese model into ``(embedding_model, head_kernel, head_bias)``.

    The score of a pair is ``sigmoid(|e(a) - e(b)| @ kernel + bias)``, so a gallery's
    embeddings can be computed once and every new face needs one embedding only.
    """
    embeddings = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    heads = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    if len(embeddings) != 1 or not heads:
        raise FaceappError(
            f"model {model.name!r} is not a Siamese model "
            "(expected one shared embedding network and a Dense head)"
        )
    kernel, bias = heads[-1].get_weights()
    return embeddings[0], kernel.astype(np.float32), bias.astype(np.float32)


# --- Saving and loading ---------------------------------------------------------------


def save_model(model: keras.Model, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Save ``model`` to ``path`` (``.keras`` or ``.h5``) atomically; return the path.

    The model is written to a hidden temporary file in the same folder and renamed into
    place, so a crash never leaves half a model. An existing file is kept unless
    ``overwrite=True``.
    """
    path = Path(path)
    if path.suffix not in KERAS_SUFFIXES:
        raise FaceappError(f"model file must end in .keras or .h5: {path}")
    with atomic_path(path, overwrite=overwrite) as temp:
        model.save(temp)
    return path


def load_model(path: str | os.PathLike, check_shape: bool = True) -> keras.Model:
    """Load a Siamese model from ``.keras`` (safe mode) or legacy ``.h5``.

    Legacy ``.h5`` files can contain code: only load them from a trusted source.
    Raises :class:`FaceappError` naming the file when it is missing, truncated, not a
    model, or (with ``check_shape``) a model that does not take two 100x100x3 images.
    """
    path = Path(path)
    if not path.exists():
        raise FaceappError(f"model file not found: {path}")
    if not path.is_file():
        raise FaceappError(f"model path is not a file: {path}")
    if path.suffix not in KERAS_SUFFIXES:
        raise FaceappError(f"model file must end in .keras or .h5: {path}")
    if path.stat().st_size == 0:
        raise FaceappError(f"model file is empty: {path}")
    try:
        if path.suffix == ".keras":
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
        else:
            model = keras.saving.load_model(path, compile=False, custom_objects={"L1Dist": L1Dist})
    except Exception as error:  # Keras raises many types for corrupt files
        reason = one_line(error)
        if "safe_mode" in reason or "arbitrary code" in reason:
            raise FaceappError(
                f"refused to load model {path}: it contains Python code (e.g. a Lambda "
                "layer), which safe mode never runs"
            ) from None
        if path.suffix == ".keras" and not zipfile.is_zipfile(path):
            # Keras says "File not found" for a file that is there but is not its zip format
            raise FaceappError(f"cannot load model {path}: not a Keras model file") from None
        raise FaceappError(f"cannot load model {path}: {reason[:200]}") from None
    if check_shape:
        check_siamese_shape(model, path)
    return model


def check_siamese_shape(model: keras.Model, path: str | os.PathLike = "<model>") -> None:
    """Raise unless ``model`` takes two 100x100x3 images and returns one score each."""
    inputs = model.inputs if isinstance(model.inputs, (list, tuple)) else [model.inputs]
    input_shapes = [tuple(t.shape[1:]) for t in inputs]
    output = _single_tensor(model.outputs)
    output_shape = tuple(output.shape[1:]) if output is not None else None
    if input_shapes != [INPUT_SHAPE, INPUT_SHAPE] or output_shape != (1,):
        raise FaceappError(
            f"{path} is not a Siamese face model: expected two {INPUT_SHAPE} inputs and one "
            f"score, got inputs {input_shapes} and output {output_shape}"
        )
