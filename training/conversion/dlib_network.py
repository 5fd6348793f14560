"""Keras 3 functional model of a dlib DNN read by :mod:`dlib_weights`.

The model takes the 150x150 aligned face chip as float32 RGB pixels in 0..255
(shape (150, 150, 3), NHWC) and returns the 128-d descriptor exactly as dlib's
``face_recognition_model_v1.compute_face_descriptor`` does (NOT unit-normalised).

dlib semantics reproduced here (dlib 20.0.1 sources):

* input_rgb_image_sized: (pixel - mean_rgb[c]) / 256 (dnn/input.h).
* con_: cross-correlation with ``padding`` zeros on every side (cpu_dlib.cpp img2col);
  for this net padding is 1 for 3x3/stride 1 ('same') and 0 for stride 2 ('valid').
* max_pool_/avg_pool_: output 1+(n+2p-w)/s; padding 0 here ('valid'); window size 0
  (avg_pool_everything) is a window as large as the input (here 2x2 -> 1x1).
* add_prev_: output has max(k), max(nr), max(nc) of the two inputs; each input is
  zero-padded at the END of channels/rows/cols (cpu_dlib.cpp tt::add).  In this net
  the first downsampling block of each of the 64/128/256 levels adds a shortcut with
  half the channels, and two blocks add a smaller conv output to a larger average-pooled
  shortcut: 3x3 into 4x4 (first 256 level) and 1x1 into 2x2 (last 256 level).
* fc_: flatten in dlib's (k, nr, nc) order, then x @ W (W stored as (inputs, outputs)).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from faceapp.keras.quiet import import_keras_quietly

import_keras_quietly()

import keras
import numpy as np
from keras import layers, ops

from training.conversion.dlib_format import (
    FC,
    AddPrev,
    Affine,
    AvgPool,
    Conv,
    DlibNet,
    Layer,
    MaxPool,
    Relu,
    Skip,
    Tag,
    load_face_recognition_model,
)

# --------------------------------------------------------------------------------------
# Custom layers (small, serializable)
# --------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="dlib")
class DlibInputScaling(layers.Layer):
    """``(x * pixel_scale - mean_rgb) / 256`` per channel, as dlib's input_rgb_image does
    (``pixel_scale`` 255 takes faceapp's [0, 1] pictures; 1 takes 0..255 pixels)."""

    def __init__(self, mean_rgb: Sequence[float], pixel_scale: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.mean_rgb = [float(m) for m in mean_rgb]
        self.pixel_scale = float(pixel_scale)

    def call(self, x: Any) -> Any:
        mean = ops.convert_to_tensor(np.asarray(self.mean_rgb, np.float32))
        pixels = ops.multiply(x, np.float32(self.pixel_scale))
        return ops.multiply(ops.subtract(pixels, mean), np.float32(1.0 / 256.0))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean_rgb": self.mean_rgb, "pixel_scale": self.pixel_scale}


@keras.saving.register_keras_serializable(package="dlib")
class DlibAffine(layers.Layer):
    """y = gamma * x + beta (dlib affine_); gamma/beta shaped (C,) or (H, W, C)."""

    def __init__(self, shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.param_shape = tuple(int(v) for v in shape)

    def build(self, input_shape: Any) -> None:
        self.gamma = self.add_weight(
            name="gamma", shape=self.param_shape, initializer="ones", trainable=False
        )
        self.beta = self.add_weight(
            name="beta", shape=self.param_shape, initializer="zeros", trainable=False
        )

    def call(self, x: Any) -> Any:
        return ops.add(ops.multiply(x, self.gamma), self.beta)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "shape": list(self.param_shape)}


@keras.saving.register_keras_serializable(package="dlib")
class ZeroPadAdd(layers.Layer):
    """dlib add_prev_: zero-pad both NHWC inputs at the end of H, W, C to the max, add."""

    def compute_output_shape(self, input_shapes: Any) -> tuple[Any, ...]:
        a, b = input_shapes
        return (a[0],) + tuple(max(x, y) for x, y in zip(a[1:], b[1:]))

    def call(self, inputs: Sequence[Any]) -> Any:
        a, b = inputs
        target = [max(x, y) for x, y in zip(a.shape[1:], b.shape[1:])]

        def pad(t: Any) -> Any:
            extra = [tt - s for tt, s in zip(target, t.shape[1:])]
            if not any(extra):
                return t
            return ops.pad(t, [[0, 0]] + [[0, e] for e in extra])

        return ops.add(pad(a), pad(b))


CUSTOM_OBJECTS: dict[str, type] = {
    "dlib>DlibInputScaling": DlibInputScaling,
    "dlib>DlibAffine": DlibAffine,
    "dlib>ZeroPadAdd": ZeroPadAdd,
}


# --------------------------------------------------------------------------------------
# Graph building
# --------------------------------------------------------------------------------------


def fold_affine_into_conv(layer_list: Sequence[Layer]) -> list[Layer]:
    """Merge every con_ directly followed by a conv-mode affine_ into one Conv.

    W'[o] = W[o] * gamma[o], b' = b * gamma + beta (computed in float64, stored float32).
    A con_ with a fused relu, or an affine_ that is disabled, is left alone.
    """
    out: list[Layer] = []
    i = 0
    while i < len(layer_list):
        cur = layer_list[i]
        nxt = layer_list[i + 1] if i + 1 < len(layer_list) else None
        if (
            isinstance(cur, Conv)
            and not cur.fused_relu
            and isinstance(nxt, Affine)
            and nxt.conv_mode
            and not nxt.disabled
        ):
            g = nxt.gamma.astype(np.float64)
            w = cur.weights.astype(np.float64) * g[:, None, None, None]
            b = (
                cur.bias.astype(np.float64) if cur.bias is not None else 0.0
            ) * g + nxt.beta.astype(np.float64)
            out.append(
                Conv(w.astype(np.float32), b.astype(np.float32), cur.stride, cur.padding, False)
            )
            i += 2
        else:
            out.append(cur)
            i += 1
    return out


def _keras_padding(
    kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int]
) -> str | None:
    """'valid' / 'same' when dlib's padding equals that Keras mode, else None."""
    if pad == (0, 0):
        return "valid"
    if stride == (1, 1) and all(k % 2 == 1 and p == k // 2 for k, p in zip(kernel, pad)):
        return "same"
    return None


def _conv(x: Any, layer: Conv, name: str) -> Any:
    """con_ as (optional ZeroPadding2D +) Conv2D with dlib weights (O,I,H,W -> H,W,I,O)."""
    kernel = (layer.weights.shape[2], layer.weights.shape[3])
    mode = _keras_padding(kernel, layer.stride, layer.padding)
    if mode is None:
        x = layers.ZeroPadding2D(padding=layer.padding, name=f"{name}_pad")(x)
        mode = "valid"
    conv = layers.Conv2D(
        filters=layer.weights.shape[0],
        kernel_size=kernel,
        strides=layer.stride,
        padding=mode,
        use_bias=layer.bias is not None,
        activation="relu" if layer.fused_relu else None,
        name=name,
    )
    y = conv(x)
    weights = [np.transpose(layer.weights, (2, 3, 1, 0))]
    if layer.bias is not None:
        weights.append(layer.bias)
    conv.set_weights(weights)
    return y


def _affine(x: Any, layer: Affine, name: str) -> Any:
    """affine_ (conv mode: per channel; fc mode: per (k, nr, nc) element)."""
    if layer.disabled:
        return x
    gamma, beta = layer.gamma, layer.beta
    if not layer.conv_mode:
        if len(x.shape) != 4:
            raise NotImplementedError("fc-mode affine_ after an fc_ layer is not supported")
        gamma, beta = np.transpose(gamma, (1, 2, 0)), np.transpose(beta, (1, 2, 0))
    aff = DlibAffine(gamma.shape, name=name)
    y = aff(x)
    aff.set_weights([gamma, beta])
    return y


def _pool(x: Any, layer: MaxPool | AvgPool, name: str) -> Any:
    """max_pool_/avg_pool_; window 0 = whole plane (avg_pool_everything)."""
    is_max = isinstance(layer, MaxPool)
    size = tuple(int(x.shape[1 + i]) if s == 0 else s for i, s in enumerate(layer.size))
    if layer.padding != (0, 0):
        raise NotImplementedError(f"pooling with padding {layer.padding} is not supported")
    # A window of 0 (avg_pool_everything) is a window as big as the input, as in dlib;
    # a pooling op (not MEAN) keeps the whole graph in one XNNPACK partition.
    cls = layers.MaxPooling2D if is_max else layers.AveragePooling2D
    return cls(pool_size=size, strides=layer.stride, padding="valid", name=name)(x)


def _fc(x: Any, layer: FC, name: str) -> Any:
    """fc_: flatten in dlib's NCHW order, then a Dense layer."""
    if len(x.shape) == 4:
        if x.shape[1] != 1 or x.shape[2] != 1:
            x = layers.Permute((3, 1, 2), name=f"{name}_nchw")(x)
        # static Reshape rather than Flatten: one RESHAPE op in TFLite, no SHAPE/PACK chain
        x = layers.Reshape((int(np.prod(x.shape[1:])),), name=f"{name}_flatten")(x)
    dense = layers.Dense(layer.weights.shape[1], use_bias=layer.bias is not None, name=name)
    y = dense(x)
    dense.set_weights([layer.weights] + ([layer.bias] if layer.bias is not None else []))
    return y


def build_keras_model(
    net: DlibNet,
    fold_affine: bool = True,
    batch_size: int | None = None,
    name: str = "dlib_face_recognition_resnet_v1",
    pixel_scale: float = 1.0,
) -> keras.Model:
    """Keras functional model: (rows, cols, 3) float32 RGB -> dlib's output vector. Pixels
    are 0..255 (``pixel_scale`` 1, as dlib takes them) or 0..1 (``pixel_scale`` 255, as
    faceapp's run time gives them).

    ``fold_affine`` merges each con_+affine_ pair into one Conv2D (same maths, fewer
    ops; the TFLite converter would fold them anyway).  ``batch_size=1`` gives a fully
    static graph, which is what the TFLite conversion uses (no SHAPE/PACK ops).
    """
    inp = keras.Input(
        shape=(net.input.rows, net.input.cols, 3),
        batch_size=batch_size,
        dtype="float32",
        name="chip_rgb",
    )
    x = DlibInputScaling(net.input.mean_rgb, pixel_scale, name="dlib_input_scaling")(inp)
    tags: dict[int, Any] = {}
    layer_list = fold_affine_into_conv(net.layers) if fold_affine else list(net.layers)
    counts: dict[str, int] = {}

    def next_name(kind: str) -> str:
        counts[kind] = counts.get(kind, 0) + 1
        return f"{kind}_{counts[kind]}"

    for layer in layer_list:
        if isinstance(layer, Conv):
            x = _conv(x, layer, next_name("con"))
        elif isinstance(layer, Affine):
            x = _affine(x, layer, next_name("affine"))
        elif isinstance(layer, Relu):
            if not layer.disabled:
                x = layers.ReLU(name=next_name("relu"))(x)
        elif isinstance(layer, (MaxPool, AvgPool)):
            x = _pool(x, layer, next_name("max_pool" if isinstance(layer, MaxPool) else "avg_pool"))
        elif isinstance(layer, Tag):
            tags[layer.tag] = x
        elif isinstance(layer, Skip):
            x = tags[layer.tag]
        elif isinstance(layer, AddPrev):
            x = ZeroPadAdd(name=next_name("add_prev"))([x, tags[layer.tag]])
        elif isinstance(layer, FC):
            x = _fc(x, layer, next_name("fc"))
        else:
            raise NotImplementedError(f"no Keras mapping for {type(layer).__name__}")
    if len(x.shape) == 4 and x.shape[1] == 1 and x.shape[2] == 1:
        x = layers.Reshape((int(x.shape[3]),), name="descriptor")(x)
    return keras.Model(inputs=inp, outputs=x, name=name)


def build_face_recognition_model(
    dat_path: str | os.PathLike | None = None,
    fold_affine: bool = True,
    batch_size: int | None = None,
    pixel_scale: float = 1.0,
) -> keras.Model:
    """Read dlib_face_recognition_resnet_model_v1.dat and build the Keras model."""
    net = load_face_recognition_model(dat_path)
    return build_keras_model(
        net, fold_affine=fold_affine, batch_size=batch_size, pixel_scale=pixel_scale
    )


def load_keras_model(path: str | os.PathLike[str]) -> keras.Model:
    """Load a saved .keras file of this model (registers the custom layers; safe mode)."""
    return keras.saving.load_model(path, custom_objects=CUSTOM_OBJECTS, compile=False)
