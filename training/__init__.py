"""Training, evaluating and shipping the face verifier (commands over small libraries).

Commands: ``training.run`` (pairs; library :mod:`training.pairs.fit`), ``training.recipes``
(identity pre-training; :mod:`training.identity.pretrain`), ``training.teacher`` (the dlib teacher's
cache), ``training.evaluate`` (validation pairs, LFW pairs, owner, real video, liveness),
``training.attacks`` (replay-attack videos), ``training.ship`` (the shipped model and its
card), ``training.import_negatives``.

Libraries, by room: :mod:`training.pairs` (data listed and split before pairing, the fit,
checkpoints, the distribution strategy), :mod:`training.identity` (the CosFace classifier,
pre-training, the dlib teacher and its views, the threshold's calibration),
:mod:`training.evaluation` (error rates, the LFW pairs protocol, the owner scenario, real
video, liveness, plots), and :mod:`training.export` (the one way every trainer saves).
"""
