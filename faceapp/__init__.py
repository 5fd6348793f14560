"""faceapp: face verification with a Siamese network, on the CPU, offline.

Importing ``faceapp`` is cheap and imports neither TensorFlow nor Kivy. The run time (face
search, alignment, the int8 network on LiteRT, the gallery, the decision, liveness) needs
numpy and OpenCV only; TensorFlow is imported by training and by the one-off conversion of a
model trained before int8 copies were saved (faceapp.keras.convert, faceapp.keras.networks). The module map:
docs/architecture.md.
"""

__version__ = "0.2.0"
