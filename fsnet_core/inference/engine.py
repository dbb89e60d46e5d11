"""The CPU engine: FSNet converted for OpenVINO, cached on disk, run behind the predictor.

PyTorch's eager CPU path, even with pre-packed convolutions (:mod:`.onednn`),
spends much of its time between operations; an engine made for CPU inference
plans the whole graph once (fused layers, its own memory layout, bfloat16 on
CPUs that compute it natively). OpenVINO is an optional extra
(``pip install "fsnet-lab[cpu-engine]"``): without it the predictor runs on
PyTorch and says so in one line.

Converting FSNet takes seconds to a minute, so a converted model is kept in
the lab's cache folder (``runs/cache/openvino/`` under
:func:`fsnet_core.runtime.lab_path`; ``$FSNET_LAB_HOME`` moves it), one entry
per weights and input size. An entry is used only when its record names the
same weights digest, input size, stored precision, OpenVINO version and model
code as the run asks for, and its files still have the SHA-256 digests
recorded when they were written; anything else (stale, truncated, altered) is
converted again and replaced. Entries are written in a temporary folder and
renamed into place, so an interrupted conversion leaves nothing half-written
under the entry's name. The stored graph holds float32 weights whatever the
precision: bfloat16 is a setting of the compiled model, not of the graph.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import hashlib
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..extras import available, missing_message, require
from ..io import mkdtemp_honouring_umask, sha256_of, state_digest
from ..runtime import lab_path

ENGINE = "openvino"
BACKEND_ENV = "FSNET_LAB_BACKEND"
"""``auto`` (the default), ``openvino`` or ``torch``: which backend ``backend="auto"`` means."""
BACKENDS: tuple[str, ...] = ("auto", ENGINE, "torch")
CACHE_FORMAT = "fsnet-openvino/1"
GRAPH_PRECISION = "float32"
"""The precision of the weights a cache entry stores (the compiled model may compute in bf16)."""
_RECORD = "entry.json"
_FILES = ("model.xml", "model.bin")
_HINTS = {torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16"}
_DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}

_said: set[str] = set()


def note(text: str) -> None:
    """Print ``text`` on one line to stderr, once per process (the engine's notes)."""
    if text not in _said:
        _said.add(text)
        print(f"note: {text}", file=sys.stderr, flush=True)


def engine_available() -> bool:
    """Whether OpenVINO can be imported (the ``cpu-engine`` extra is installed)."""
    return available(ENGINE)


def engine_missing_note() -> str:
    """The one line said when the CPU runs on PyTorch for want of the engine."""
    return missing_message(ENGINE, "the faster CPU engine") + " (running on PyTorch meanwhile)"


def requested_backend(backend: str = "auto") -> str:
    """``backend``; for ``auto``, what ``$FSNET_LAB_BACKEND`` says (``auto`` when unset)."""
    chosen = backend
    if backend == "auto":
        chosen = os.environ.get(BACKEND_ENV, "").strip().lower() or "auto"
        if chosen not in BACKENDS:
            raise ValueError(f"${BACKEND_ENV} must be one of {BACKENDS}, got {chosen!r}")
    elif backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return chosen


def engine_version() -> str:
    """OpenVINO's full version (build included), part of every cache entry's record."""
    return require(ENGINE, "the CPU engine").get_version()


def cache_root() -> Path:
    """Where converted models are kept: ``runs/cache/openvino`` in the lab's folder."""
    return lab_path("runs", "cache", ENGINE)


def code_digest() -> str:
    """SHA-256 of the code that decides the converted graph: the model package and this module.

    A fix to the network's wiring keeps the weights' digest but changes the graph,
    so the cache must not hand back a graph converted from the old code.
    """
    model_dir = Path(__file__).resolve().parents[1] / "model"
    digest = hashlib.sha256()
    for path in [*sorted(model_dir.glob("*.py")), Path(__file__).resolve()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def engine_precision(precision: str) -> torch.dtype:
    """The dtype OpenVINO computes in for ``precision`` on this CPU.

    ``auto`` is bfloat16 where the CPU computes it natively (AVX512-BF16, AMX; OpenVINO's
    own test, which honours ``ONEDNN_MAX_CPU_ISA``), float32 elsewhere. A precision the
    CPU lacks runs in float32, as OpenVINO itself does.
    """
    ov = require(ENGINE, "the CPU engine")
    capabilities = set(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    native = {torch.float32: "FP32", torch.bfloat16: "BF16", torch.float16: "FP16"}
    if precision == "auto":
        return torch.bfloat16 if "BF16" in capabilities else torch.float32
    wanted = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if precision not in wanted:
        raise ValueError(f"precision must be one of auto, {', '.join(wanted)}; got {precision!r}")
    dtype = wanted[precision]
    return dtype if native[dtype] in capabilities else torch.float32


@dataclass(frozen=True)
class CacheKey:
    """What a converted model depends on; an entry is used only when all of it matches."""

    weights: str
    size: tuple[int, int]
    engine: str
    code: str
    precision: str = GRAPH_PRECISION
    format: str = CACHE_FORMAT

    def record(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "weights": self.weights,
            "size": list(self.size),
            "precision": self.precision,
            "engine": self.engine,
            "code": self.code,
        }

    def folder(self, root: Path) -> Path:
        """One folder per weights, size and precision; a new engine or code replaces it."""
        height, width = self.size
        return root / f"{self.weights[:24]}-{height}x{width}-{self.precision}"


def _entry_problem(folder: Path, key: CacheKey) -> str | None:
    """Why the entry in ``folder`` cannot be used for ``key``, or None when it can."""
    try:
        record = json.loads((folder / _RECORD).read_text())
    except FileNotFoundError:
        return "no entry"
    except (OSError, ValueError) as exc:
        return f"unreadable record ({exc})"
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        return "not an entry record"
    changed = [k for k, v in key.record().items() if record.get(k) != v]
    if changed:
        return f"made for another {', '.join(changed)}"
    for name in _FILES:
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if sha256_of(path) != record["files"].get(name):
            return f"{name} differs from what was written (corrupt or altered)"
    return None


def _write_entry(folder: Path, key: CacheKey, write_graph: Callable[[Path], None]) -> None:
    """Write an entry in a temporary folder beside ``folder``, then rename it into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = mkdtemp_honouring_umask(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent)
    try:
        write_graph(tmp / _FILES[0])
        files = {name: sha256_of(tmp / name) for name in _FILES}
        (tmp / _RECORD).write_text(json.dumps({**key.record(), "files": files}, indent=1) + "\n")
        if folder.exists():  # stale or corrupt: it was checked before converting
            shutil.rmtree(folder)
        try:
            os.replace(tmp, folder)
        except OSError:
            # Another process put a complete entry there meanwhile: keep that one.
            if _entry_problem(folder, key) is not None:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Conversion:
    """How a converted model was had: from the cache, or converted now (in ``seconds``)."""

    folder: Path
    cached: bool
    seconds: float = 0.0
    replaced: str | None = None
    """Why an entry already in ``folder`` was not used (stale, corrupt), if there was one."""


def converted_model(
    net: nn.Module, key: CacheKey, root: Path | None = None
) -> tuple[Any, Conversion]:
    """The OpenVINO model of ``net`` for ``key``: from the cache, else converted and cached.

    ``net`` is an eval-mode float32 FSNet; it is traced, never changed.
    """
    ov = require(ENGINE, "the CPU engine")
    folder = key.folder(root or cache_root())
    problem = _entry_problem(folder, key)
    if problem is None:
        try:
            return ov.Core().read_model(folder / _FILES[0]), Conversion(folder, cached=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable graph is converted again
            problem = f"unreadable graph ({type(exc).__name__})"
    replaced = None if problem == "no entry" else problem
    start = time.perf_counter()
    height, width = key.size
    example = torch.zeros(1, 3, height, width)
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        # Tracing warns about every Python-level shape check (the graph is fixed to one size)
        # and that TorchScript is deprecated (it is what OpenVINO's converter reads).
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", r"`torch\.jit\.trace", FutureWarning)
        graph = ov.convert_model(
            net, example_input=(example, example), input=[(1, 3, height, width)] * 2
        )

    def write_graph(path: Path) -> None:
        ov.save_model(graph, path, compress_to_fp16=False)

    _write_entry(folder, key, write_graph)
    seconds = time.perf_counter() - start
    return graph, Conversion(folder, cached=False, seconds=seconds, replaced=replaced)


class _SignalStack(ctypes.Structure):
    """Linux's ``stack_t``: an alternate signal stack (glibc's field order)."""

    _fields_ = [("sp", ctypes.c_void_p), ("flags", ctypes.c_int), ("size", ctypes.c_size_t)]


@contextlib.contextmanager
def kept_signal_stack() -> Iterator[None]:
    """Give the calling thread back its alternate signal stack when the block ends.

    OpenVINO's CPU plugin (2026.4) gives the thread that compiles a model an alternate
    signal stack of its own, and puts back the one it found when the compiled model is
    freed. Two compiled models freed in the order they were made leave the thread on the
    first one's freed stack, and its next signal (Ctrl-C, a child process ending) then
    kills Python with a segmentation fault. With the thread's own stack put back at once,
    every compiled model finds, and later restores, that one. Linux only (elsewhere the
    block just runs).
    """
    if not sys.platform.startswith("linux"):
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    own = _SignalStack()
    if libc.sigaltstack(None, ctypes.byref(own)) != 0:
        yield
        return
    try:
        yield
    finally:
        libc.sigaltstack(ctypes.byref(own), None)


def _array(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.detach().float().cpu().numpy())


class OpenVINOModel:
    """FSNet compiled by OpenVINO for the CPU, one compiled model per input size.

    ``model(image, flow)`` takes ``N x 3 x H x W`` float32 tensors and returns the two
    logit maps as float32 tensors; a batch runs frame by frame (batch 1 is what a
    CPU computes fastest, and one compiled shape serves every batch size).
    """

    def __init__(
        self,
        net: nn.Module,
        precision: str = "auto",
        threads: int | None = None,
        root: Path | None = None,
    ) -> None:
        self._ov = require(ENGINE, "the CPU engine")
        self.net = net
        self.dtype = engine_precision(precision)
        self.threads = threads
        self.root = root
        self.weights = state_digest(net)
        self.version = engine_version()
        self.conversions: list[Conversion] = []
        self._compiled: dict[tuple[int, int], Any] = {}

    def key(self, size: tuple[int, int]) -> CacheKey:
        return CacheKey(self.weights, size, self.version, code_digest())

    def _request(self, size: tuple[int, int]) -> Any:
        request = self._compiled.get(size)
        if request is None:
            graph, conversion = converted_model(self.net, self.key(size), self.root)
            self.conversions.append(conversion)
            if not conversion.cached:
                again = f" ({conversion.replaced}: replaced)" if conversion.replaced else ""
                note(
                    f"FSNet converted for OpenVINO at {size[0]}x{size[1]} in "
                    f"{conversion.seconds:.1f} s, once: cached in {conversion.folder}{again}"
                )
            config = {
                "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_PRECISION_HINT": _HINTS[self.dtype],
                # Unpinned: the cores are shared (fsnet segment's flow and write threads, other
                # programs), and a thread pinned to a busy core cannot move to an idle one.
                "ENABLE_CPU_PINNING": False,
            }
            if self.threads:
                config["INFERENCE_NUM_THREADS"] = self.threads
            with kept_signal_stack():
                compiled = self._ov.Core().compile_model(graph, "CPU", config)
            computed = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
            self.dtype = _DTYPES.get(computed, torch.float32)
            request = compiled.create_infer_request()
            self._compiled[size] = request
        return request

    def __call__(self, image: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, ...]:
        request = self._request((int(image.shape[-2]), int(image.shape[-1])))
        outputs: list[list[np.ndarray]] = [[], []]
        for i in range(image.shape[0]):
            pair = [_array(t[i : i + 1]) for t in (image, flow)]
            result = request.infer(pair)
            for out, value in zip(outputs, result.to_tuple(), strict=True):
                out.append(np.array(value, copy=True))
        return tuple(torch.from_numpy(np.concatenate(parts)) for parts in outputs)

    def describe(self) -> str:
        precision = str(self.dtype).removeprefix("torch.")
        return f"OpenVINO {self._ov.__version__.split('-')[0]} on the CPU, {precision}"


def reference_copy(model: nn.Module) -> nn.Module:
    """An eval-mode float32 copy of ``model`` on the CPU (the graph the engine converts)."""
    return copy.deepcopy(model).float().cpu().eval()


__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "CACHE_FORMAT",
    "ENGINE",
    "CacheKey",
    "Conversion",
    "OpenVINOModel",
    "cache_root",
    "code_digest",
    "converted_model",
    "engine_available",
    "engine_missing_note",
    "engine_precision",
    "engine_version",
    "kept_signal_stack",
    "requested_backend",
]
