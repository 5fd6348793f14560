"""Training, evaluating and shipping the face verifier (commands over small libraries).

Commands: ``training.run`` (pairs; library :mod:`training.pairs.fit`), ``training.recipes``
(identity pre-training; :mod:`training.identity.pretrain`), ``training.teacher`` (the dlib teacher's
cache), ``training.evaluate`` (validation pairs, LFW pairs, owner, real video, liveness),
``training.attacks`` (replay-attack videos), ``training.ship`` (the shipped model and its
card), ``training.import_negatives``.

Libraries: :mod:`training.pairs.data` (listing, splitting before pairing, pairing, ``tf.data``),
:mod:`training.export` (the one way every trainer saves), :mod:`training.identity.classifier`,
:mod:`training.identity.views`, :mod:`training.identity.calibration`, :mod:`training.evaluation.scoring`,
:mod:`training.evaluation.metrics`, :mod:`training.evaluation.owner`, :mod:`training.evaluation.video`,
:mod:`training.evaluation.liveness`, :mod:`training.evaluation.plots`, :mod:`training.pairs.checkpoints`.
"""
