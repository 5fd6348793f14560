"""Verification: a face against the enrolled faces. The rule and its thresholds
(:mod:`~faceapp.verification.rule`), the enrolled faces' embeddings
(:mod:`~faceapp.verification.gallery`), the verifier that ties model, gallery and rule
together (:mod:`~faceapp.verification.verifier`) and deciding over several frames
(:mod:`~faceapp.verification.timed`). No TensorFlow, no Kivy.
"""
