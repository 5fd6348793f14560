"""Training, evaluating and shipping the face verifier (commands over small libraries).

Commands: ``training.run`` (pairs; library :mod:`training.fit`), ``training.recipes``
(identity pre-training; :mod:`training.pretrain`), ``training.teacher`` (the dlib teacher's
cache), ``training.evaluate`` (validation pairs, LFW pairs, owner, real video, liveness),
``training.attacks`` (replay-attack videos), ``training.ship`` (the shipped model and its
card), ``training.import_negatives``.

Libraries: :mod:`training.data` (listing, splitting before pairing, pairing, ``tf.data``),
:mod:`training.export` (the one way every trainer saves), :mod:`training.identity`,
:mod:`training.views`, :mod:`training.calibration`, :mod:`training.scoring`,
:mod:`training.metrics`, :mod:`training.owner_eval`, :mod:`training.video_eval`,
:mod:`training.liveness_eval`, :mod:`training.plots`, :mod:`training.checkpoints`.
"""
