"""BlazeFace (Bazarevsky et al. 2019): faces in an image, each with six key points.

The network sees the image letterboxed into a square (128x128 for the short-range model, for
faces within about 2 m of a webcam; 192x192 for the full-range one), and scores a fixed grid
of *anchors*. Each anchor regresses a box and six points relative to its centre: the two eyes,
the nose tip, the mouth centre and the two ear tragions. Decoding and the weighted
non-maximum suppression follow MediaPipe's calculators (``ssd_anchors_calculator``,
``tensors_to_detections_calculator``, ``non_max_suppression_calculator`` with
``WEIGHTED``): overlapping candidates are averaged by score instead of the best one winning,
which steadies the box from frame to frame.

numpy and OpenCV only; the network runs on LiteRT (:mod:`faceapp.vision.litert`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.numeric import sigmoid
from faceapp.vision.facenets import DETECTOR_FILE, FULL_RANGE_DETECTOR_FILE, network_path
from faceapp.vision.litert import TFLiteNetwork

MIN_SCORE = 0.5  # MediaPipe's default
NMS_OVERLAP = 0.3  # IoU above which two candidates are the same face
RAW_SCORE_LIMIT = 80.0  # logits are clipped before the sigmoid (as MediaPipe does)


@dataclass(frozen=True)
class Detection:
    """One face in pixel coordinates of the image it was found in.

    ``box``: (x0, y0, x1, y1); ``points``: (6, 2): eye, eye, nose tip, mouth centre,
    ear, ear (the first two and the last two in the network's order, which depends on
    mirroring); ``score``: the network's confidence in (0, 1).
    """

    box: np.ndarray
    points: np.ndarray
    score: float

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    def eyes(self) -> tuple[np.ndarray, np.ndarray]:
        """The two eye points, the one further left in the image first."""
        a, b = self.points[0], self.points[1]
        return (a, b) if a[0] <= b[0] else (b, a)

    def moved(self, matrix: np.ndarray) -> Detection:
        """This detection under the 2x3 affine ``matrix`` (box: the bounds of its corners)."""
        x0, y0, x1, y1 = self.box
        corners = _apply(matrix, np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]))
        box = np.concatenate([corners.min(axis=0), corners.max(axis=0)])
        return Detection(box, _apply(matrix, self.points), self.score)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


# (input side, strides of its layers, anchors per cell of each layer)
_LAYOUTS = {DETECTOR_FILE: (128, (8, 16, 16, 16), 2), FULL_RANGE_DETECTOR_FILE: (192, (4,), 1)}


def anchor_centres(side: int, strides: tuple[int, ...], per_layer: int) -> np.ndarray:
    """Anchor centres (N, 2) in [0, 1], in the network's output order.

    Consecutive layers with the same stride share one grid: their anchors (``per_layer``
    each) sit together in every cell.
    """
    centres = []
    k = 0
    while k < len(strides):
        same = sum(1 for s in strides[k:] if s == strides[k])
        cells = side // strides[k]
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        ys, xs = np.meshgrid(grid, grid, indexing="ij")
        cell_centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cell_centres, same * per_layer, axis=0))
        k += same
    return np.concatenate(centres)


class BlazeFace:
    """The BlazeFace network with its anchors. Not thread-safe: one per thread."""

    def __init__(self, file_name: str = DETECTOR_FILE, threads: int | None = None):
        self.side, strides, per_layer = _LAYOUTS[file_name]
        self.network = TFLiteNetwork(network_path(file_name), threads=threads, name=file_name)
        self.anchors = anchor_centres(self.side, strides, per_layer)

    def __call__(self, image_bgr: np.ndarray, min_score: float = MIN_SCORE) -> list[Detection]:
        """The faces in a BGR image, most confident first."""
        height, width = image_bgr.shape[:2]
        scale = self.side / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        small = cv2.resize(image_bgr, (new_w, new_h), interpolation=interpolation)
        pad_x, pad_y = (self.side - new_w) // 2, (self.side - new_h) // 2
        square = cv2.copyMakeBorder(
            small,
            pad_y,
            self.side - new_h - pad_y,
            pad_x,
            self.side - new_w - pad_x,
            cv2.BORDER_CONSTANT,
            value=0,
        )
        tensor = cv2.cvtColor(square, cv2.COLOR_BGR2RGB).astype(np.float32)
        tensor = tensor * np.float32(2.0 / 255.0) - np.float32(1.0)  # [-1, 1]
        raw, logits = self.network.run(tensor[None])
        scores = sigmoid(np.clip(logits.reshape(-1), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT))
        keep = np.flatnonzero(scores >= min_score)
        if keep.size == 0:
            return []
        values = raw.reshape(len(self.anchors), -1)[keep] / self.side
        anchors = self.anchors[keep]
        centre, size = values[:, 0:2] + anchors, values[:, 2:4]
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        points = values[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
        # from the padded square in [0, 1] to the image's pixels
        offset = np.array([pad_x, pad_y], np.float32)
        boxes = (boxes * self.side - np.tile(offset, 2)) / scale
        points = (points * self.side - offset) / scale
        return weighted_nms(boxes, points, scores[keep])


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (x0, y0, x1, y1) box with each of ``boxes``."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(
    boxes: np.ndarray, points: np.ndarray, scores: np.ndarray, overlap: float = NMS_OVERLAP
) -> list[Detection]:
    """Group candidates that overlap the most confident one left; each group becomes one
    detection whose box and points are the score-weighted mean of the group's."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    remaining = np.ones(len(scores), bool)
    faces = []
    for k in range(len(scores)):
        if not remaining[k]:
            continue
        group = remaining & (iou(boxes[k], boxes) > overlap)
        group[k] = True
        weights = scores[group][:, None]
        box = (boxes[group] * weights).sum(axis=0) / weights.sum()
        pts = (points[group] * weights[:, :, None]).sum(axis=0) / weights.sum()
        faces.append(Detection(box.astype(np.float32), pts.astype(np.float32), float(scores[k])))
        remaining &= ~group
    return faces
