"""Optical flow estimators: OpenCV's DIS and Farnebäck, torchvision's RAFT.

DIS is the CPU default (fast and good enough for teaching), Farnebäck the
classic dense baseline, RAFT (small and large) the accurate one, on the GPU
when there is one, with weights downloaded by torchvision.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from ..io import load_weights, weights_file
from ..runtime import resolve_device

METHODS: tuple[str, ...] = ("dis", "farneback", "raft-small", "raft-large")


class FlowEstimator(abc.ABC):
    """Dense optical flow from frame ``a`` to frame ``b`` (``a(x) ~ b(x + flow(x))``).

    Frames are ``H x W x 3`` uint8 RGB arrays; fields are ``H x W x 2``
    float32 (dx, dy) in pixels. ``batch_size`` is how many pairs
    :meth:`estimate_batch` handles at once efficiently.
    """

    name: str = ""
    batch_size: int = 1

    def __call__(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        return self.estimate_batch([frame_a], [frame_b])[0]

    def estimate_batch(
        self, firsts: Sequence[np.ndarray], seconds: Sequence[np.ndarray]
    ) -> list[np.ndarray]:
        """Flow for each pair ``(firsts[i], seconds[i])``."""
        if len(firsts) != len(seconds):
            raise ValueError(f"{len(firsts)} first frames but {len(seconds)} second frames")
        for a, b in zip(firsts, seconds, strict=True):
            if a.shape != b.shape or a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
                raise ValueError(
                    f"frames must be matching H x W x 3 uint8 arrays, got {a.shape} {a.dtype} "
                    f"and {b.shape} {b.dtype}"
                )
        return self._estimate(firsts, seconds)

    @abc.abstractmethod
    def _estimate(
        self, firsts: Sequence[np.ndarray], seconds: Sequence[np.ndarray]
    ) -> list[np.ndarray]: ...


class _GreyPairEstimator(FlowEstimator):
    """OpenCV methods: one pair at a time, on 8-bit grey images."""

    def _estimate(
        self, firsts: Sequence[np.ndarray], seconds: Sequence[np.ndarray]
    ) -> list[np.ndarray]:
        grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (*firsts, *seconds)]
        n = len(firsts)
        return [self._pair(grey[i], grey[n + i]).astype(np.float32) for i in range(n)]

    @abc.abstractmethod
    def _pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...


class DISEstimator(_GreyPairEstimator):
    """OpenCV's Dense Inverse Search (Kroeger et al., ECCV 2016), the CPU default.

    The MEDIUM preset (8x8 patches every 3 pixels, searched down to half
    resolution, then 5 variational iterations) is used because at DAVIS
    sizes (240x320 to 480x854) the FAST preset stops at quarter resolution
    and smears thin, fast-moving parts: on the synthetic set's exact flow
    MEDIUM cuts the end-point error on the target by 40% (1.4 px against
    2.4 px; 0.29 against 0.48 px over all pixels) for a 4-5x cost, and still
    computes 8-12 pairs/s at 480x854 on 2 busy cores, so a DAVIS-2016
    sequence takes seconds (figures from ``benchmarks/flow.py``).
    """

    name = "dis"

    def __init__(self, preset: int = cv2.DISOpticalFlow_PRESET_MEDIUM) -> None:
        self._dis = cv2.DISOpticalFlow_create(preset)

    def _pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._dis.calc(a, b, None)


class FarnebackEstimator(_GreyPairEstimator):
    """OpenCV's Farnebäck polynomial-expansion flow, the classic dense baseline.

    Five pyramid levels at scale 0.5 reach displacements of a few dozen
    pixels (DAVIS motions at 480p); a 15-pixel window with Gaussian
    weighting trades a little blur for robustness to JPEG noise.
    """

    name = "farneback"

    def __init__(
        self,
        pyr_scale: float = 0.5,
        levels: int = 5,
        winsize: int = 15,
        iterations: int = 3,
        poly_n: int = 5,
        poly_sigma: float = 1.2,
    ) -> None:
        self._params = (pyr_scale, levels, winsize, iterations, poly_n, poly_sigma)

    def _pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        flags = cv2.OPTFLOW_FARNEBACK_GAUSSIAN
        return cv2.calcOpticalFlowFarneback(a, b, None, *self._params, flags)


def _raft_builder(size: str):
    from torchvision.models.optical_flow import (
        Raft_Large_Weights,
        Raft_Small_Weights,
        raft_large,
        raft_small,
    )

    if size == "small":
        return raft_small, Raft_Small_Weights.DEFAULT
    if size == "large":
        return raft_large, Raft_Large_Weights.DEFAULT
    raise ValueError(f"RAFT size must be 'small' or 'large', got {size!r}")


class RAFTEstimator(FlowEstimator):
    """torchvision's RAFT (Teed and Deng, ECCV 2020), small or large, with ``DEFAULT`` weights.

    Frames are padded (edge replication) to multiples of 8 and at least
    128 pixels, which RAFT's 1/8-resolution correlation pyramid needs, and
    the flow is cropped back.
    Runs on the GPU when there is one, several pairs per batch. The weights come
    from the torch hub cache (:func:`fsnet_core.io.weights_file`: downloaded when
    missing, from ``weights_url`` if given, their SHA-256 checked against their
    name); offline, :class:`~fsnet_core.io.WeightsUnavailable` says where to put them.
    """

    def __init__(
        self,
        size: str = "small",
        device: str | torch.device | None = None,
        pretrained: bool = True,
        weights_url: str | None = None,
        num_flow_updates: int = 12,
        batch_size: int | None = None,
    ) -> None:
        builder, weights = _raft_builder(size)
        self.name = f"raft-{size}"
        self.device = resolve_device(device or "auto")
        self.batch_size = batch_size or (4 if self.device.type == "cuda" else 1)
        self.num_flow_updates = num_flow_updates
        self._preprocess = weights.transforms()
        model = builder(weights=None, progress=False)
        if pretrained:
            file = weights_file(
                weights.url,
                what=f"torchvision's {self.name} weights",
                source=weights_url,
                advice=f" (or run fsnet download {self.name} there), or use a method that "
                "needs no weights (--method dis or --method farneback)",
            )
            model.load_state_dict(load_weights(file))
        self.model = model.eval().to(self.device)

    MIN_SIDE = 128  # 1/8 resolution, pooled 3 times, must keep 2 cells: RAFT refuses less

    @classmethod
    def padding(cls, height: int, width: int) -> tuple[int, int]:
        """Rows and columns to add (bottom, right) to reach multiples of 8, at least 128."""
        return (
            max(height + -height % 8, cls.MIN_SIDE) - height,
            max(width + -width % 8, cls.MIN_SIDE) - width,
        )

    def _to_batch(self, frames: Sequence[np.ndarray]) -> torch.Tensor:
        x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)
        pad_h, pad_w = self.padding(*x.shape[-2:])
        if pad_h or pad_w:
            x = torch.nn.functional.pad(x.float(), (0, pad_w, 0, pad_h), mode="replicate")
            x = x.round().to(torch.uint8)
        return x.to(self.device)

    @torch.inference_mode()
    def _estimate(
        self, firsts: Sequence[np.ndarray], seconds: Sequence[np.ndarray]
    ) -> list[np.ndarray]:
        h, w = firsts[0].shape[:2]
        out: list[np.ndarray] = []
        for start in range(0, len(firsts), self.batch_size):
            a = self._to_batch(firsts[start : start + self.batch_size])
            b = self._to_batch(seconds[start : start + self.batch_size])
            a, b = self._preprocess(a, b)
            flow = self.model(a, b, num_flow_updates=self.num_flow_updates)[-1]
            flow = flow[:, :, :h, :w].permute(0, 2, 3, 1).float().cpu().numpy()
            out.extend(np.ascontiguousarray(f) for f in flow)
        return out


def default_method(device: str | torch.device) -> str:
    """RAFT (small) where a GPU runs it in milliseconds, DIS on a CPU (no weights, fast)."""
    return "raft-small" if torch.device(device).type == "cuda" else "dis"


def make_estimator(method: str = "dis", device: str | torch.device | None = None) -> FlowEstimator:
    """The estimator for ``method`` (one of :data:`METHODS`); ``device`` matters for RAFT only."""
    if method == "dis":
        return DISEstimator()
    if method == "farneback":
        return FarnebackEstimator()
    if method in ("raft-small", "raft-large"):
        return RAFTEstimator(method.split("-", 1)[1], device=device)
    raise ValueError(f"unknown flow method {method!r}; choose one of {', '.join(METHODS)}")


def estimate_flow(frame_a: np.ndarray, frame_b: np.ndarray, method: str = "dis") -> np.ndarray:
    """Flow from ``frame_a`` to ``frame_b`` (``H x W x 3`` uint8 RGB) as ``H x W x 2`` float32.

    Builds the estimator each call; for many pairs keep one from :func:`make_estimator`.
    """
    return make_estimator(method)(frame_a, frame_b)
