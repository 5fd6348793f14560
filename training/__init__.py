"""Training and evaluating the Siamese face verifier.

- :mod:`training.data`: listing images, splitting (before pairing), pairing, ``tf.data``.
- :mod:`training.run`: ``python -m training.run``, the training command.
- :mod:`training.metrics` / :mod:`training.plots`: error rates and PNG plots.
- :mod:`training.evaluate`: ``python -m training.evaluate`` (validation data, LFW pairs,
  enrolled owner, liveness).
- :mod:`training.import_negatives`: fill ``negative/`` from an LFW folder or archive.
"""
