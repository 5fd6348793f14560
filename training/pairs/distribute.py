"""Which ``tf.distribute`` strategy to train under, and who writes the files.

- one device (the default strategy) on an ordinary machine;
- ``MirroredStrategy`` over all GPUs when there are several;
- ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names several workers (several
  machines, or several processes on one). Only the *chief* (the ``chief`` task, else worker
  0) writes the model, history and checkpoints.

Keras 3 (3.15, TF backend) cannot run ``fit`` under ``MultiWorkerMirroredStrategy`` out of
the box (keras-team/keras#20585): it averages the per-replica *scalar* logs with
``reduce("MEAN", axis=0)``, which fails, and its symbolic build reduces the nested input
batch, which fails too. :func:`prepare_multi_worker_fit` works around both, narrowly.
"""

from __future__ import annotations

import json
import os

from faceapp.errors import FaceappError

STRATEGIES = ("auto", "one", "mirrored", "multi-worker")


def cluster_spec() -> tuple[dict, dict]:
    """``(cluster, task)`` from TF_CONFIG (both empty when it is unset)."""
    text = os.environ.get("TF_CONFIG", "")
    if not text.strip():
        return {}, {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise FaceappError(f"TF_CONFIG is not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise FaceappError("TF_CONFIG must be a JSON object with 'cluster' and 'task'")
    return config.get("cluster", {}) or {}, config.get("task", {}) or {}


def worker_count() -> int:
    """Processes taking part in training (1 without TF_CONFIG)."""
    cluster, _ = cluster_spec()
    return max(1, sum(len(cluster.get(kind, [])) for kind in ("chief", "worker")))


def is_chief() -> bool:
    """The one process that writes files: the ``chief`` task, else worker 0, else alone."""
    cluster, task = cluster_spec()
    if not cluster:
        return True
    kind, index = task.get("type"), int(task.get("index", 0))
    return kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)


def make_strategy(name: str = "auto"):
    """The strategy to build the model under; create it before any other TensorFlow op."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise FaceappError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    if name == "auto":
        if worker_count() > 1:
            name = "multi-worker"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "one"
    if name == "multi-worker":
        if not cluster_spec()[0]:
            raise FaceappError("--strategy multi-worker needs TF_CONFIG (see docs/training.md)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_multi_worker(strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and worker_count() > 1


def prepare_multi_worker_fit(model) -> None:
    """Let ``model.fit`` run under MultiWorkerMirroredStrategy with Keras 3 (see module doc).

    Call ``fit`` inside ``strategy.scope()`` afterwards. Two narrow changes:

    1. the model forgets the strategy it was built under, so Keras skips its symbolic
       build (which reduces the nested input batch and fails) and takes the strategy
       from the surrounding scope while tracing the train step;
    2. per-replica logs are averaged with ``reduce("MEAN", axis=None)``, a real
       all-reduce, so every worker sees the same loss and metrics (early stopping
       decides the same everywhere).
    """
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    model._distribute_strategy = None
    if getattr(trainer.reduce_per_replica, "_faceapp_patched", False):
        return
    original = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original(values, strategy, reduction)

    reduce_per_replica._faceapp_patched = True  # type: ignore[attr-defined]
    trainer.reduce_per_replica = reduce_per_replica
