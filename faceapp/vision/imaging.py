"""Reading images and the one preprocessing shared by training and the app.

``preprocess`` turns an image (a path, encoded bytes, or a BGR frame from OpenCV) into the
network's input: a 100x100x3 float32 array, RGB channel order, values in [0, 1].
Training (through ``tf.data``), enrolment and verification all call it, so the colour
order and scaling can never disagree between them.

Files are decoded with OpenCV from bytes (``np.fromfile`` + ``cv2.imdecode``), which
handles non-ASCII names, greyscale, 16-bit and alpha images. Empty, truncated or
undecodable files raise :class:`~faceapp.errors.FaceappError` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from faceapp.errors import FaceappError

INPUT_SIZE = 100
INPUT_SHAPE = (INPUT_SIZE, INPUT_SIZE, 3)
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
MAX_PIXELS = 100_000_000  # refuse images larger than 100 megapixels (decompression bombs)

ImageSource = str | os.PathLike | bytes | bytearray | memoryview | np.ndarray


def is_image_file(path: Path) -> bool:
    """True for a visible regular file with an image suffix."""
    return (
        path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()
    )


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files directly inside ``folder``, sorted by name.

    Hidden files, sub-folders and files without an image suffix are ignored.
    A missing folder raises :class:`FaceappError`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FaceappError(f"image folder not found: {folder}")
    try:
        return sorted(p for p in folder.iterdir() if is_image_file(p))
    except OSError as error:
        raise FaceappError(f"cannot read image folder {folder}: {error.strerror}") from None


def _jpeg_runs_out(data: bytes) -> bool:
    """True when a JPEG's data ends before its end-of-image marker.

    Walks the segments (skipping the entropy-coded scans) instead of looking at the last
    bytes, so files with data after the image (thumbnails, phones' "motion photos") pass.
    A stream it cannot follow is left to the decoder (False).
    """
    size, pos = len(data), 2
    while pos < size:
        if data[pos] != 0xFF:
            return False  # not a marker where one belongs: malformed, not truncated
        while pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 1 >= size:
            return True
        marker = data[pos + 1]
        pos += 2
        if marker == 0xD9:  # end of image
            return False
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            continue  # markers without a length
        if pos + 2 > size:
            return True
        pos += int.from_bytes(data[pos : pos + 2], "big")
        if marker != 0xDA:
            continue
        while True:  # start of scan: skip entropy-coded data up to the next real marker
            pos = data.find(b"\xff", pos)
            if pos < 0 or pos + 1 >= size:
                return True
            following = data[pos + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7:
                pos += 2
            elif following == 0xFF:
                pos += 1
            else:
                break
    return True


def _png_runs_out(data: bytes) -> bool:
    """True when a PNG's chunks end before its IEND chunk."""
    size, pos = len(data), 8
    while pos + 8 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] == b"IEND":
            return False
        pos += 12 + length
    return True


def _truncation_problem(data: bytes) -> str | None:
    """Why an encoded JPEG/PNG is visibly incomplete, or None.

    Decoders happily return half-grey images for truncated files; a stream that ends
    before its end marker is the reliable sign.
    """
    if data[:2] == b"\xff\xd8" and _jpeg_runs_out(data):
        return "truncated JPEG (no end-of-image marker)"
    if data[:8] == b"\x89PNG\r\n\x1a\n" and _png_runs_out(data):
        return "truncated PNG (no IEND chunk)"
    return None


def decode_image(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode encoded image bytes to a BGR uint8 array (H, W, 3)."""
    if len(data) == 0:
        raise FaceappError(f"empty image file: {name}")
    problem = _truncation_problem(bytes(data))
    if problem:
        raise FaceappError(f"{problem}: {name}")
    buffer = np.frombuffer(data, dtype=np.uint8)
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        image = None
    if image is None:
        raise FaceappError(f"not a readable image: {name}")
    return to_bgr8(image, name)


def to_bgr8(image: np.ndarray, name: str = "<array>") -> np.ndarray:
    """Convert any decoded image (grey, BGRA, 16-bit, float) to BGR uint8 (H, W, 3)."""
    image = np.asarray(image)
    if image.size == 0 or image.ndim not in (2, 3):
        raise FaceappError(f"not an image (shape {image.shape}): {name}")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise FaceappError(f"unsupported number of channels ({image.shape[2]}): {name}")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise FaceappError(f"image too large ({image.shape[1]}x{image.shape[0]}): {name}")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        if not np.isfinite(image).all():
            raise FaceappError(f"image has NaN or infinite values: {name}")
        scale = 255.0 if image.max(initial=0) <= 1.0 else 1.0
        image = np.clip(image * scale, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise FaceappError(f"unsupported pixel type {image.dtype}: {name}")
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as BGR uint8 (H, W, 3); a clear error names a bad file."""
    path = Path(path)
    if not path.exists():
        raise FaceappError(f"file not found: {path}")
    if not path.is_file():
        raise FaceappError(f"not a file: {path}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FaceappError(f"cannot read {path}: {error.strerror}") from error
    return decode_image(data, str(path))


def load_bgr(source: ImageSource) -> np.ndarray:
    """Any supported source (path, bytes, BGR array) as BGR uint8 (H, W, 3)."""
    if isinstance(source, np.ndarray):
        return to_bgr8(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return decode_image(bytes(source))
    if isinstance(source, (str, os.PathLike)):
        return read_image(source)
    raise FaceappError(f"unsupported image source: {type(source).__name__}")


def preprocess(source: ImageSource, size: int = INPUT_SIZE) -> np.ndarray:
    """The network input for one image: ``size`` x ``size`` x 3 float32 (100 for the Siamese
    networks trained here, 150 for dlib's), RGB, values in [0, 1].

    ``source`` is a file path, encoded bytes, or a BGR frame (as OpenCV returns it).
    Arrays are taken to be BGR, like everything else OpenCV gives.
    """
    bgr = load_bgr(source)
    height, width = bgr.shape[:2]
    shrinking = height > size or width > size
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(bgr, (size, size), interpolation=interpolation)
    rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    return rgb.astype(np.float32) / np.float32(255.0)


def preprocess_many(
    sources: Iterable[ImageSource],
) -> tuple[np.ndarray, list[tuple[object, str]]]:
    """Preprocess a batch, skipping unreadable images.

    Returns ``(batch, skipped)``: a float32 array (N, 100, 100, 3) of the readable images
    and a list of ``(source, reason)`` for the others.
    """
    arrays: list[np.ndarray] = []
    skipped: list[tuple[object, str]] = []
    for source in sources:
        try:
            arrays.append(preprocess(source))
        except FaceappError as error:
            skipped.append((source, str(error)))
    batch = np.stack(arrays) if arrays else np.zeros((0, *INPUT_SHAPE), np.float32)
    return batch, skipped


def summarize_skipped(skipped: list[tuple[object, str]], what: str = "images") -> str | None:
    """One warning line for skipped images (None when nothing was skipped)."""
    if not skipped:
        return None
    first = skipped[0][1]
    more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
    return f"warning: skipped {len(skipped)} unreadable {what}: {first}{more}"
