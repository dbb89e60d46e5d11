"""Plain, unoptimised transcriptions of the official DAVIS formulas: the yardstick.

Tests compare :mod:`.uvos` and :mod:`.stability` with these, and
``benchmarks/metrics.py`` times them: ``db_eval_iou``, ``seg2bmap`` and
``f_measure`` follow ``davis2017-evaluation``'s ``davis2017/metrics.py``
(full-frame boundaries, ``cv2.dilate`` with a disk, which equals DAVIS-2016's
``skimage`` dilation), and :func:`t_pair` follows DAVIS-2016's
``t_stability.py`` (per-point shape contexts, the broadcast chi-square cost,
Dijkstra on the matching grid; SciPy's Dijkstra stands in for the C++ one and
:func:`~fsnet_core.metrics.stability.mask_contours` for the C++ contour tracer).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial.distance import pdist, squareform

from .stability import T_SCALE, mask_contours

__all__ = ["db_eval_iou", "disk_element", "f_measure", "seg2bmap", "t_pair"]


def db_eval_iou(annotation: np.ndarray, segmentation: np.ndarray) -> float:
    """Region similarity J as davis2017-evaluation computes it (no void pixels)."""
    annotation, segmentation = annotation.astype(bool), segmentation.astype(bool)
    void = np.zeros_like(segmentation)
    inters = np.sum((segmentation & annotation) & np.logical_not(void), axis=(-2, -1))
    union = np.sum((segmentation | annotation) & np.logical_not(void), axis=(-2, -1))
    return 1.0 if np.isclose(union, 0) else float(inters / union)


def seg2bmap(seg: np.ndarray) -> np.ndarray:
    """Martin's boundary map, full frame, as DAVIS writes it."""
    seg = seg.astype(bool)
    e, s, se = np.zeros_like(seg), np.zeros_like(seg), np.zeros_like(seg)
    e[:, :-1], s[:-1, :], se[:-1, :-1] = seg[:, 1:], seg[1:, :], seg[1:, 1:]
    b = seg ^ e | seg ^ s | seg ^ se
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = 0
    return b


def disk_element(radius: float) -> np.ndarray:
    """``skimage.morphology.disk``: x^2 + y^2 <= r^2, as uint8."""
    r = int(radius)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (xx**2 + yy**2 <= radius**2).astype(np.uint8)


def f_measure(foreground_mask: np.ndarray, gt_mask: np.ndarray, bound_th: float = 0.008) -> float:
    """Boundary F as davis2017-evaluation computes it (no void pixels)."""
    shape = foreground_mask.shape
    bound_pix = bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(shape))
    fg_boundary, gt_boundary = seg2bmap(foreground_mask), seg2bmap(gt_mask)
    fg_dil = cv2.dilate(fg_boundary.astype(np.uint8), disk_element(bound_pix))
    gt_dil = cv2.dilate(gt_boundary.astype(np.uint8), disk_element(bound_pix))
    n_fg, n_gt = np.sum(fg_boundary), np.sum(gt_boundary)
    if n_fg == 0 and n_gt > 0:
        precision, recall = 1.0, 0.0
    elif n_fg > 0 and n_gt == 0:
        precision, recall = 0.0, 1.0
    elif n_fg == 0 and n_gt == 0:
        precision, recall = 1.0, 1.0
    else:
        precision = np.sum(fg_boundary * gt_dil) / float(n_fg)
        recall = np.sum(gt_boundary * fg_dil) / float(n_gt)
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


def t_pair(a: np.ndarray, b: np.ndarray) -> float:
    """DAVIS-2016 T of two masks (with the x5 scale), written plainly."""

    def descriptor(mask):
        outlines = mask_contours(mask)
        if not outlines:
            return None
        cont = max(reversed(outlines), key=len)  # the last of the longest, as the C++
        pts = [cont[0].astype(np.float32)]
        for p, q in zip(cont[:-1].astype(np.float32), cont[1:].astype(np.float32), strict=True):
            d = q - p
            length = np.float32(np.sqrt(d[0] * d[0] + d[1] * d[1]))
            if length > 3:
                k = int(np.ceil(length / np.float32(3)))
                cur = pts[-1].copy()
                for _ in range(k - 1):
                    cur = cur + d / np.float32(k)
                    pts.append(cur)
            pts.append(q)
        pts = np.asarray(pts, dtype=np.float64)
        n = len(pts)
        r = squareform(pdist(pts))
        edges = np.logspace(np.log10(1 / 8), np.log10(2), 5)
        r_q = sum((r / r.mean() < e).astype(int) for e in edges)
        theta = np.arctan2(pts[None, :, 1] - pts[:, None, 1], pts[None, :, 0] - pts[:, None, 0])
        theta = np.fmod(np.fmod(theta, 2 * np.pi) + 2 * np.pi, 2 * np.pi)
        theta_q = 1 + np.floor(theta / (2 * np.pi / 12))
        hist = np.zeros((n, 60))
        for i in range(n):  # one point at a time, as sc_compute
            sel = r_q[i] > 0
            ids = (r_q[i, sel] - 1) * 12 + np.minimum(theta_q[i, sel], 12).astype(int) - 1
            hist[i] = np.bincount(ids, minlength=60)
        return hist / (hist.sum(axis=1, keepdims=True) + 2.2204e-16)

    def match(cost):
        n1, n2 = cost.shape
        idx = np.arange(n1 * n2).reshape(n1, n2)
        src, dst = [], []
        for dx, dy in ((0, 1), (1, 0), (1, 1)):
            src.append(idx[: n1 - dx, : n2 - dy].ravel())
            dst.append(idx[dx:, dy:].ravel())
        src, dst = np.concatenate(src), np.concatenate(dst)
        graph = sparse.csr_matrix((cost.ravel()[dst], (src, dst)), shape=(n1 * n2, n1 * n2))
        _, pred = dijkstra(graph, indices=0, return_predecessors=True)
        path, node = [], n1 * n2 - 1
        while node != 0:
            path.append(node)
            node = pred[node]
        path.append(0)
        path = np.array(path)
        k = np.argmin(cost.ravel()[path[:-1]]) if len(path) > 1 else 0
        cells = np.column_stack(np.unravel_index(path, (n1, n2)))
        return cells, *cells[k]

    h1, h2 = descriptor(a), descriptor(b)
    if h1 is None or h2 is None:
        return float("nan")
    t1 = h1[:, None, :]
    t2 = h2[None, :, :]
    cost = 0.5 * np.sum((t1 - t2) ** 2 / (t1 + t2 + 2.2204e-16), axis=2)
    _, sx, sy = match(cost)
    rolled = np.roll(np.roll(cost, -(sy + 1), axis=1), -(sx + 1), axis=0)
    pairs, _, _ = match(rolled)
    pairs = np.column_stack([(pairs[:, 0] + sx + 1) % len(h1), (pairs[:, 1] + sy + 1) % len(h2)])
    for side in (0, 1):
        keep = []
        for i in np.unique(pairs[:, side]):
            group = pairs[pairs[:, side] == i]
            keep.append(group[np.argmin(cost[group[:, 0], group[:, 1]])])
        pairs = np.array(keep)
    return T_SCALE * float(np.mean(cost[pairs[:, 0], pairs[:, 1]]))
