"""Verification: a face against the enrolled faces. The rule and its thresholds
(:mod:`~faceapp.verification.rule`), the enrolled faces' embeddings
(:mod:`~faceapp.verification.gallery`), the verifier that ties model, gallery and rule
together (:mod:`~faceapp.verification.verifier`) and deciding over several frames
(:mod:`~faceapp.verification.timed`). No TensorFlow, no Kivy.

The security levels are named here, where flags and settings can read them without
importing numpy.
"""

SECURITY_LEVELS = ("standard", "high")
DEFAULT_LEVEL = "standard"
