"""Identity pre-training: teach the embedding *who* is in a face, then fit the Siamese head.

Used by ``python -m training.recipes identity-pretrain`` (docs/accuracy.md). The pieces:

1. :func:`identity_split`: the people of an identity tree (minus the held-out LFW folds)
   split into *class* people (an identity-classification target each) and *head* people
   (never seen by the classifier; their pairs fit the L1 + Dense head and its threshold).
2. :func:`cached_table`: every image decoded once with the app's crop and preprocessing,
   kept in an ``.npz`` cache under the data root (never in git) so reruns skip decoding.
3. :class:`CosineClassifier` + :func:`margin_loss`: CosFace (Wang et al. 2018) — cosine of
   the unit embedding with a unit weight per identity, the true class's cosine lowered
   by ``margin`` and everything scaled by ``scale``; ``margin=0`` is a normalised softmax.
   With a teacher (``training.teacher``), :func:`cosine_distance` also pulls each
   embedding towards the teacher's vector of the same photo (distillation).
4. :func:`identity_dataset`: ``tf.data`` of (image, class) with augmentation
   (:func:`augment_face`: flip, scale/shift crop, brightness, contrast, saturation, grey).
5. :func:`fit_head`: logistic regression of ``|e(a) - e(b)|`` on head people's pairs, the
   exact form of the Siamese ``Dense(1, sigmoid)`` (by default with one weight tied across
   dimensions); :func:`attach_head` builds the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceapp.errors import FaceappError
from training.pairs.data import load_table

# --- 1. Who trains what ----------------------------------------------------------------------


@dataclass
class IdentitySplit:
    classes: dict[str, list[Path]]  # people the classifier learns (capped image lists)
    head: dict[str, list[Path]]  # people for the head's pairs and the threshold


def identity_split(
    people: dict[str, list[Path]],
    min_images: int = 2,
    max_images: int = 50,
    head_fraction: float = 0.1,
    seed: int = 0,
) -> IdentitySplit:
    """Class people: ``min_images``+ images (at most ``max_images`` each, seeded choice);
    head people: ``head_fraction`` of the people with 2+ images, plus everyone with fewer
    than ``min_images`` (the single-image people, unless ``min_images`` is 1: then each is a
    class of its own). Nobody is on both sides."""
    rng = np.random.default_rng(seed)
    names = sorted(people)
    multi = [n for n in names if len(people[n]) >= 2]
    order = rng.permutation(len(multi))
    n_head = int(round(len(multi) * head_fraction))
    head_names = {multi[i] for i in order[:n_head]}
    classes, head = {}, {}
    for name in names:
        images = sorted(people[name])
        if name in head_names or len(images) < max(min_images, 1):
            head[name] = images
        else:
            if len(images) > max_images:
                picked = sorted(rng.choice(len(images), size=max_images, replace=False))
                images = [images[i] for i in picked]
            classes[name] = images
    if len(classes) < 2:
        raise FaceappError(
            f"too few people with {min_images}+ images to pre-train on ({len(classes)})"
        )
    return IdentitySplit(classes, head)


# --- 2. Decoding once, cached ----------------------------------------------------------------


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write arrays to an ``.npz`` cache atomically and privately (replacing the old one)."""
    from faceapp.storage import atomic_path

    with atomic_path(path, overwrite=True) as temp:  # temp keeps the .npz suffix
        np.savez(temp, **arrays)  # type: ignore[arg-type]


def cached_table(paths: Iterable[Path], crop: str, cache: Path | None):
    """``(images uint8 (N,100,100,3), {path: row})`` for the readable ``paths``.

    With ``cache`` (an ``.npz`` file), images already there are not decoded again and new
    ones are added to it. Keys are absolute paths; the crop is part of the file name.
    """
    paths = sorted({Path(p).resolve() for p in paths})
    stored: dict[str, np.ndarray] = {}
    if cache is not None and cache.is_file():
        with np.load(cache) as data:
            stored = dict(zip(data["keys"].tolist(), data["images"]))
    missing = [p for p in paths if str(p) not in stored]
    if missing:
        table = load_table(missing, crop=crop)
        for path, row in table.index.items():
            stored[str(path)] = table.images[row]
        if cache is not None:
            keys = sorted(stored)
            save_npz(cache, keys=np.array(keys), images=np.stack([stored[k] for k in keys]))
    kept = [p for p in paths if str(p) in stored]
    images = (
        np.stack([stored[str(p)] for p in kept]) if kept else np.zeros((0, 100, 100, 3), np.uint8)
    )
    return images, {p: k for k, p in enumerate(kept)}


# --- 3. The margin classifier ----------------------------------------------------------------


def _keras():
    import keras

    return keras


def make_cosine_classifier(classes: int, name: str = "identity_classifier"):
    """A layer: unit embedding (N, D) -> cosines with ``classes`` unit weight vectors."""
    keras = _keras()
    from keras import ops

    class CosineClassifier(keras.layers.Layer):  # type: ignore[name-defined]
        def build(self, input_shape):
            self.kernel = self.add_weight(
                shape=(int(input_shape[-1]), classes), initializer="glorot_uniform", name="kernel"
            )

        def call(self, x):
            x = x / (ops.norm(x, axis=-1, keepdims=True) + 1e-7)
            w = self.kernel / (ops.norm(self.kernel, axis=0, keepdims=True) + 1e-7)
            return ops.matmul(x, w)

    return CosineClassifier(name=name)


def margin_loss(classes: int, scale: float = 30.0, margin: float = 0.35):
    """CosFace loss on cosines: cross-entropy of ``scale * (cos - margin * onehot)``."""
    keras = _keras()
    from keras import ops

    def loss(y_true, cosines):
        onehot = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), classes)
        logits = scale * (cosines - margin * onehot)
        return keras.losses.categorical_crossentropy(onehot, logits, from_logits=True)

    return loss


def cosine_distance(y_true, y_pred):
    """Distillation loss: ``1 - cos(teacher, student)`` per sample."""
    from keras import ops

    def unit(x):
        return x / (ops.norm(x, axis=-1, keepdims=True) + 1e-7)

    return 1.0 - ops.sum(unit(y_true) * unit(y_pred), axis=-1)


# --- 4. Data ----------------------------------------------------------------------------------


def augment_face(image, tf, min_crop: int = 86):
    """Flip, a random square crop of ``min_crop``-100 px resized back (scale and shift),
    brightness, contrast, saturation, and grey 10% of the time. ``image``: float [0, 1]."""
    size = image.shape[0]
    image = tf.image.random_flip_left_right(image)
    side = tf.random.uniform([], min_crop, size + 1, dtype=tf.int32)
    image = tf.image.random_crop(image, tf.stack([side, side, 3]))
    image = tf.image.resize(image, (size, size))
    image = tf.image.random_brightness(image, 0.1)
    image = tf.image.random_contrast(image, 0.75, 1.25)
    image = tf.image.random_saturation(image, 0.7, 1.3)
    grey = tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))
    image = tf.where(tf.random.uniform([]) < 0.1, grey, image)
    return tf.clip_by_value(image, 0.0, 1.0)


def identity_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    augment: bool = True,
    seed: int = 0,
    targets: np.ndarray | None = None,
):
    """Endless shuffled batches of (float image, class) from a uint8 table; with a teacher's
    ``targets`` (N, D): (image, {"cosines": class, "embedding": target}). The teacher's
    vector is of the un-augmented image, so the student also learns invariance."""
    import tensorflow as tf

    table = tf.constant(images)
    extra = (
        np.zeros((len(images), 0), np.float32) if targets is None else targets.astype(np.float32)
    )
    dataset = tf.data.Dataset.from_tensor_slices(
        (np.arange(len(images)), labels.astype(np.int32), extra)
    )
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).repeat()

    def lookup(i, label, target):
        image = tf.cast(tf.gather(table, i), tf.float32) / 255.0
        if augment:
            image = augment_face(image, tf)
        if targets is None:
            return image, label
        return image, {"cosines": label, "embedding": target}

    dataset = dataset.map(lookup, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


class ViewBatches:
    """Batches of (picture, {"cosines": class, "embedding": teacher vector}) drawn from
    several views of each photo: each step takes ``batch_size`` random photos and one random
    view of each, with the teacher's vector of that very view. numpy arrays in, numpy batches
    out (a ``keras.utils.PyDataset``), so it runs on any Keras backend.

    ``pictures``: (N, views, H, W, 3) uint8; ``targets``: (N, views, D); ``labels``: (N,),
    -1 for photos that only teach through the teacher.
    """

    def __new__(
        cls, pictures, labels, targets, batch_size: int, seed: int = 0, steps: int | None = None
    ):
        keras = _keras()

        class _Batches(keras.utils.PyDataset):  # type: ignore[name-defined]
            def __init__(self):
                super().__init__(workers=1, use_multiprocessing=False)
                self.steps = steps or max(1, len(pictures) // batch_size)
                self.epoch = 0

            def __len__(self):
                return self.steps

            def __getitem__(self, step):
                rng = np.random.default_rng([seed, self.epoch, step])
                photos = rng.integers(0, len(pictures), batch_size)
                views = rng.integers(0, pictures.shape[1], batch_size)
                images = pictures[photos, views].astype(np.float32) / np.float32(255.0)
                return images, {
                    "cosines": labels[photos].astype(np.int32),
                    "embedding": targets[photos, views],
                }

            def on_epoch_end(self):
                self.epoch += 1

        return _Batches()


# --- 5. The head ------------------------------------------------------------------------------

HEADS = ("tied", "free")


def fit_head(
    features: np.ndarray,
    labels: np.ndarray,
    steps: int = 500,
    learning_rate: float = 0.05,
    l2: float = 1e-4,
    head: str = "tied",
) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression ``sigmoid(f @ w + b)`` by full-batch Adam in NumPy.

    ``features`` are ``|e(a) - e(b)|`` (N, D). Returns ``(kernel (D, 1), bias (1,))`` float32,
    the weights of the Siamese model's ``Dense(1, sigmoid)``.

    ``head="tied"``: one weight shared by every dimension (the score is then a function of
    the L1 distance alone; two numbers fitted). ``"free"``: one weight per dimension. On
    held-out LFW folds the free head, fitted on ~100 people's pairs, lost 1.5-5 points of
    accuracy against the tied one (docs/accuracy.md).
    """
    if head == "tied":
        weight, bias = fit_head(
            features.sum(axis=1, keepdims=True), labels, steps, learning_rate, l2, head="free"
        )
        return np.full((features.shape[1], 1), weight[0, 0], np.float32), bias
    x = features.astype(np.float64)
    y = labels.astype(np.float64)
    scale = x.std(axis=0).mean() + 1e-8  # well-conditioned start whatever the embedding's scale
    x = x / scale
    w = np.zeros(x.shape[1])
    b = 0.0
    m = np.zeros(x.shape[1] + 1)
    v = np.zeros(x.shape[1] + 1)
    for t in range(1, steps + 1):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        grad = np.concatenate([x.T @ (p - y) / len(y) + l2 * w, [np.mean(p - y)]])
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        step = learning_rate * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        w -= step[:-1]
        b -= float(step[-1])
    return (w / scale).astype(np.float32).reshape(-1, 1), np.array([b], np.float32)


def attach_head(embedding, kernel: np.ndarray, bias: np.ndarray):
    """The Siamese model (embedding -> L1Dist -> Dense(1, sigmoid)) with the given head."""
    from faceapp.keras.networks import make_siamese_model

    model = make_siamese_model(embedding=embedding)
    model.get_layer("classifier").set_weights([kernel, bias])
    return model
