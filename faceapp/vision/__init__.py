"""Seeing faces: images in, faces found, aligned and cut out.

Decoding and checking images (:mod:`~faceapp.vision.imaging`), running LiteRT networks
(:mod:`~faceapp.vision.litert`, :mod:`~faceapp.vision.facenets`), BlazeFace and Face Mesh
(:mod:`~faceapp.vision.blazeface`, :mod:`~faceapp.vision.landmarks`), the face search with
tracking (:mod:`~faceapp.vision.finder`), boxes and cut faces (:mod:`~faceapp.vision.geometry`),
alignment and crop modes (:mod:`~faceapp.vision.align`, :mod:`~faceapp.vision.crops`,
:mod:`~faceapp.vision.haar`), picture quality (:mod:`~faceapp.vision.quality`) and frame
sources (:mod:`~faceapp.vision.camera`). numpy, OpenCV and LiteRT only: no TensorFlow, no Kivy.
"""
