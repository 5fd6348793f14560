"""Models: which one runs, its files and metadata, the Siamese head, and the run time that
embeds faces with it (the int8 copy on LiteRT; Keras only on request). No Kivy; TensorFlow
only for the one-off conversion of a model trained before int8 copies (:mod:`faceapp.keras`).

The runtimes are named here, where the command-line flags can read them without importing
the run time itself.
"""

RUNTIMES = ("int8", "keras")
DEFAULT_RUNTIME = "int8"
