"""Fast inference: the same network, prepared for speed rather than for training.

Batch norm is folded into the preceding convolutions, tensors are laid out
channels-last, and the forward pass runs under ``torch.inference_mode`` in
reduced precision (bfloat16 on CPUs with native bf16, float16 on CUDA). The
weights are cast once, when the predictor is built: autocast would cast every
weight again on every call, a fifth of the CPU time at 352x352. On the CPU the
convolutions are then pre-packed for oneDNN with their ReLUs and residual
additions fused (:mod:`.onednn`). Optionally the whole graph is handed to
``torch.compile`` with weight freezing instead: the first call then takes
minutes on a small CPU.

On the CPU the predictor runs on OpenVINO when it is installed (:mod:`.engine`:
about twice as fast again on AMX, 1.2-1.3x on AVX2-only CPUs), and on PyTorch as
above otherwise, with a one-line note; ``backend="torch"`` (or
``$FSNET_LAB_BACKEND=torch``) keeps PyTorch. PyTorch stays the reference, and
the only path on a GPU.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..extras import require
from ..io import state_digest
from ..model.architecture import FSNetOutput
from ..model.inputs import check_same_shape
from ..runtime import Precision, resolve_device, resolve_precision
from .engine import (
    ENGINE,
    OpenVINOModel,
    engine_available,
    engine_missing_note,
    engine_precision,
    note,
    reference_copy,
    requested_backend,
)
from .onednn import pack_convolutions, packing_supported


def _fold_pair(parent: nn.Module, conv_name: str, bn_name: str) -> bool:
    conv, bn = getattr(parent, conv_name, None), getattr(parent, bn_name, None)
    if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
        setattr(parent, conv_name, fuse_conv_bn_eval(conv, bn))
        setattr(parent, bn_name, nn.Identity())
        return True
    return False


def fold_batchnorm(model: nn.Module) -> int:
    """Fold every eval-mode batch norm into the convolution before it, in place.

    Knows the three places FSNet has such pairs: ``ConvBN`` (``conv``/``bn``),
    torchvision's residual blocks and stems (``convN``/``bnN``), and
    ``downsample`` sequences (``Conv2d`` then ``BatchNorm2d``). Returns the count.
    """
    if model.training:
        raise RuntimeError("fold_batchnorm needs a model in eval mode")
    folded = 0
    for module in list(model.modules()):
        folded += _fold_pair(module, "conv", "bn")
        for i in range(1, 4):
            folded += _fold_pair(module, f"conv{i}", f"bn{i}")
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in zip(names, names[1:], strict=False):
                folded += _fold_pair(module, a, b)
    return folded


NORMALISED_LIMIT = 10.0
"""Largest magnitude accepted as an ImageNet-normalised input (which spans about -2.1 to 2.6)."""

_HOW = (
    "the predictor expects ImageNet-normalised float tensors (values about -2.1 to 2.6): "
    "prepare frames and flow colour images with fsnet_core.model.inputs.FSNetInputs "
    "(FSNetWeights.DAVIS16_ICCV21.transforms() gives one)"
)


def check_model_input(x: torch.Tensor, what: str) -> None:
    """ValueError when ``x`` is plainly not normalised: integers, or pixel values of 0-255.

    A uint8 frame passed as it is gives masks without an error otherwise, and
    wrong ones. (Values in 0-1 cannot be told from normalised ones.)
    """
    if not torch.is_floating_point(x):
        raise ValueError(f"{what}: a {str(x.dtype).removeprefix('torch.')} tensor, but {_HOW}")
    if x.numel():
        top = float(x.detach().abs().amax())
        if top > NORMALISED_LIMIT:
            raise ValueError(
                f"{what}: values reach {top:.4g}, far outside the normalised range, but {_HOW}"
            )


def choose_backend(
    backend: str = "auto", device: torch.device | None = None, compile: bool = False
) -> str:
    """``"openvino"`` or ``"torch"``: what a predictor with these settings runs on.

    ``auto`` (or ``$FSNET_LAB_BACKEND``, when it names one) is OpenVINO on the
    CPU when it is installed, else PyTorch with a one-line note saying how to add
    it. A GPU, and ``torch.compile``, always run on PyTorch.
    """
    device = device or torch.device("cpu")
    wanted = requested_backend(backend)
    if device.type != "cpu" or compile:
        if backend == ENGINE:
            raise ValueError("the OpenVINO backend runs on the CPU and without torch.compile")
        return "torch"
    if wanted == ENGINE:
        require(ENGINE, "backend='openvino'")
        return ENGINE
    if wanted == "torch":
        return "torch"
    if engine_available():
        return ENGINE
    note(engine_missing_note())
    return "torch"


def default_precision(device: torch.device, backend: str = "auto") -> torch.dtype:
    """The dtype a predictor with ``precision="auto"`` computes in on ``device``."""
    if choose_backend(backend, device) == ENGINE:
        return engine_precision("auto")
    return resolve_precision("auto", device)


class FSNetPredictor:
    """Wraps a trained FSNet for fast inference; the original model is left untouched.

    ``predictor(image, flow)`` returns float32 logits as an :class:`FSNetOutput`;
    :meth:`probabilities` and :meth:`masks` give sigmoid maps and binary masks.
    ``device`` and ``precision`` follow :mod:`fsnet_core.runtime` (``None`` and ``"auto"``:
    the GPU if there is one, and the fastest dtype the device computes natively).
    ``backend``: ``"auto"`` (OpenVINO on the CPU when installed, see
    :func:`choose_backend`), ``"openvino"`` or ``"torch"``; :attr:`backend` says which
    runs and :meth:`describe` says it in words. The PyTorch options: ``pack=False``
    keeps PyTorch's own convolutions (for comparison), ``compile`` uses torch.compile.
    ``precision="float32"`` gives the float32 model's masks on either backend.
    """

    def __init__(
        self,
        model: nn.Module,
        device: str | torch.device | None = None,
        precision: Precision = "auto",
        channels_last: bool = True,
        fold_bn: bool = True,
        compile: bool = False,
        pack: bool = True,
        backend: str = "auto",
    ) -> None:
        self.device = resolve_device(device or "auto")
        self.backend = choose_backend(backend, self.device, compile)
        self.engine: OpenVINOModel | None = None
        self._digest: str | None = None
        self.packed = False
        if self.backend == ENGINE:
            # The engine converts the plain float32 network (it folds batch norm itself).
            self.model = reference_copy(model)
            self.engine = OpenVINOModel(self.model, precision, threads=torch.get_num_threads())
            self._digest = self.engine.weights
            self.memory_format = torch.contiguous_format
            return
        self.dtype = resolve_precision(precision, self.device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        net = copy.deepcopy(model).float().eval()
        if fold_bn:
            fold_batchnorm(net)
        net = net.to(self.device, self.dtype, memory_format=self.memory_format)
        # Pre-packed oneDNN convolutions need folded batch norms; inductor packs on its own.
        self.packed = (
            pack
            and self.device.type == "cpu"
            and fold_bn
            and not compile
            and packing_supported(self.dtype)
        )
        if self.packed:
            pack_convolutions(net)
        # Freezing lets inductor fold the (now constant) weights and pre-pack them
        # for oneDNN on CPU; it is what makes compilation pay off for inference.
        self.model = torch.compile(net, options={"freezing": True}) if compile else net

    @property
    def dtype(self) -> torch.dtype:
        """The dtype the network computes in (the engine's, once it has compiled)."""
        return self.engine.dtype if self.engine is not None else self._dtype

    @dtype.setter
    def dtype(self, value: torch.dtype) -> None:
        self._dtype = value

    def describe(self) -> str:
        """One line: the backend, its device and precision (what ``fsnet segment`` prints)."""
        if self.engine is not None:
            return self.engine.describe()
        precision = str(self.dtype).removeprefix("torch.")
        how = ", pre-packed oneDNN convolutions" if self.packed else ""
        where = "the CPU" if self.device.type == "cpu" else str(self.device)
        return f"PyTorch {torch.__version__.split('+')[0]} on {where}, {precision}{how}"

    def digest(self) -> str:
        """SHA-256 of the weights this predictor runs (a manifest records it)."""
        if self._digest is None:
            self._digest = state_digest(self.model)
        return self._digest

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device, self.dtype).contiguous(memory_format=self.memory_format)

    @torch.inference_mode()
    def __call__(self, image: torch.Tensor, flow: torch.Tensor) -> FSNetOutput:
        """Logits for ``N x 3 x H x W`` normalised frames and flow images (checked first)."""
        check_model_input(image, "image")
        check_model_input(flow, "flow")
        if self.engine is not None:
            check_same_shape(image, flow)
            return FSNetOutput(*self.engine(image, flow))
        out = self.model(self._prepare(image), self._prepare(flow))
        return FSNetOutput(out[0].float().contiguous(), out[1].float().contiguous())

    def probabilities(self, image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """Sigmoid of the appearance (fused) logits: the map the authors save."""
        return torch.sigmoid(self(image, flow).appearance)

    def masks(self, image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """Binary masks (logit > 0, i.e. probability > 0.5)."""
        return self(image, flow).appearance > 0


__all__ = [
    "NORMALISED_LIMIT",
    "FSNetPredictor",
    "check_model_input",
    "choose_backend",
    "default_precision",
    "fold_batchnorm",
]
