"""The window: Kivy widgets (:mod:`~faceapp.app.window`, ``faceapp.kv``) over a Kivy-free
session (:mod:`~faceapp.app.session`), the frame pipeline (:mod:`~faceapp.app.preview`),
captures (:mod:`~faceapp.app.captures`) and the inference worker process
(:mod:`~faceapp.app.worker`). Its flags are in :mod:`~faceapp.app.options`; opening it is
:func:`faceapp.app.launch.open_window`. This package never imports TensorFlow (a Kivy window
in a process that did segfaults with Mesa).
"""
