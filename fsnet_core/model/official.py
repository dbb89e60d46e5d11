"""Key mapping between this package's FSNet and the authors' released checkpoint.

The authors' ``lib/fsnet.py`` names modules flatly (``bpm1.conv7``,
``output_s.conv_cat1``); this package names them by role
(``bpms.0.purify.0.lifts.0``, ``decoder_fused.merge.2``). This module is the
only place that knows both, in both directions.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

import torch
from torch import nn

from ..io import InputError, load_weights
from .config import FSNetConfig
from .rcam import RCAM_GATES

# Parameters the official model defines but never uses in its forward pass:
# the merge stream's own stem and the dead ``RGBF_conv3``. They are dropped on
# load and filled with neutral placeholders on export.
DEAD_PREFIXES = ("resnet.conv1.", "resnet.bn1.", "RGBF_conv3.")
DATAPARALLEL_PREFIX = "module."

_STREAM_SUFFIX = {"appearance": "_rgb", "motion": "_flow", "merge": ""}


def _stream(m: re.Match) -> str:
    return f"resnet.{m[2]}{_STREAM_SUFFIX[m[1]]}."


def _bpm_lift(m: re.Match) -> str:
    # Official numbering of the 12 ``conv_upsample`` modules: enrich levels 1-3
    # use conv1-3, conv4-5, conv6; purify levels 1-3 use conv7-9, conv10-11, conv12.
    level, j = int(m[3]), int(m[4])
    first = {0: 1, 1: 4, 2: 6}[level] + (6 if m[2] == "purify" else 0)
    return f"bpm{int(m[1]) + 1}.conv{first + j}.conv."


def _bpm_fuse(m: re.Match) -> str:
    return f"bpm{int(m[1]) + 1}.conv_f{int(m[3]) + 1 + (4 if m[2] == 'purify' else 0)}."


def _rcam_gate(prefix: str, m: re.Match) -> str:
    return f"{prefix}{m[1]}.1."


def _decoder(name: str) -> str:
    return {"fused": "output_s", "motion": "output_e"}[name]


# (internal pattern, official replacement) applied to the start of each key, first match wins.
_PREFIX_RULES: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"^(appearance|motion|merge)\.(conv1|bn1|layer\d)\."), _stream),
    # RCAM's gates: code name -> the authors' ``atten_rgb_k`` / ``atten_flow_k`` (rcam.RCAM_GATES).
    *(
        (
            re.compile(rf"^rcam\.(\d)\.{gate.name}\.conv\."),
            partial(_rcam_gate, gate.authors.removesuffix("k")),
        )
        for gate in RCAM_GATES
    ),
    (
        re.compile(r"^reduce_(fused|motion)\.(\d)\.(\d)\."),
        lambda m: f"reduce_{'a' if m[1] == 'fused' else 'm'}{int(m[2]) + 1}.reduce.{m[3]}.",
    ),
    (re.compile(r"^bpms\.(\d+)\.(enrich|purify)\.(\d)\.lifts\.(\d)\.proj\."), _bpm_lift),
    (re.compile(r"^bpms\.(\d+)\.(enrich|purify)\.(\d)\.fuse\."), _bpm_fuse),
    (
        re.compile(r"^decoder_(fused|motion)\.ppm\.(\d)\.branches\.(\d)\."),
        lambda m: f"{_decoder(m[1])}.ppm{int(m[2]) + 1}.conv{int(m[3]) + 1}.",
    ),
    (
        re.compile(r"^decoder_(fused|motion)\.ppm\.(\d)\.project\."),
        lambda m: f"{_decoder(m[1])}.ppm{int(m[2]) + 1}.out.",
    ),
    (
        re.compile(r"^decoder_(fused|motion)\.up\.(\d)\."),
        lambda m: f"{_decoder(m[1])}.conv_upsample{3 - int(m[2])}.",
    ),
    (
        re.compile(r"^decoder_(fused|motion)\.merge\.(\d)\."),
        lambda m: f"{_decoder(m[1])}.conv_cat{3 - int(m[2])}.",
    ),
    (re.compile(r"^decoder_(fused|motion)\.head\."), lambda m: f"{_decoder(m[1])}.output."),
]
# ``ConvBN`` (``.conv``/``.bn``) is the authors' ``BasicConv2d`` (``.conv_bn.0``/``.conv_bn.1``).
_CONVBN_LEAF = re.compile(r"^(?:(.*)\.)?(conv|bn)\.([a-z_]+)$")


def official_key(key: str) -> str:
    """The authors' name for one of this package's state-dict keys."""
    for pattern, replace in _PREFIX_RULES:
        m = pattern.match(key)
        if m:
            head, rest = replace(m), key[m.end() :]
            if not head.startswith("resnet.") and not re.match(r"^atten_", head):
                leaf = _CONVBN_LEAF.match(rest)
                if leaf:
                    index = 0 if leaf[2] == "conv" else 1
                    rest = f"{leaf[1] + '.' if leaf[1] else ''}conv_bn.{index}.{leaf[3]}"
            return head + rest
    raise KeyError(f"no official name for {key!r}")


def official_key_map(model: nn.Module) -> OrderedDict[str, str]:
    """Official key -> this package's key, for every entry of ``model.state_dict()``."""
    mapping = OrderedDict((official_key(k), k) for k in model.state_dict())
    if len(mapping) != len(model.state_dict()):
        raise RuntimeError("official key mapping is not one-to-one")
    return mapping


class CheckpointMismatch(RuntimeError):
    """A checkpoint does not fit the model; the message lists what is missing and extra."""


def _describe(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    return f"{len(keys)} ({shown}{', ...' if len(keys) > limit else ''})"


def mismatches(
    expected: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]
) -> list[str]:
    """Missing, unexpected and mis-shaped keys of ``state`` against ``expected``, summarised
    (a count and the first few names each), for a one-line error."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong_shape = [
        f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
        for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    parts = []
    if missing:
        parts.append(f"missing keys {_describe(missing)}")
    if unexpected:
        parts.append(f"unexpected keys {_describe(unexpected)}")
    if wrong_shape:
        parts.append(f"shape mismatches {_describe(wrong_shape)}")
    return parts


def read_state_dict(checkpoint: str | Path | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict from a path (loaded with ``weights_only=True``) or a mapping."""
    if isinstance(checkpoint, Mapping):
        return dict(checkpoint)
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint file not found")
    try:
        state = load_weights(path)
    except InputError as exc:
        problem = f"not a readable PyTorch checkpoint ({exc.problem})"
        raise CheckpointMismatch(f"{path}: {problem}") from exc
    if not isinstance(state, Mapping):
        raise CheckpointMismatch(f"{path}: expected a state dict, found {type(state).__name__}")
    return dict(state)


def load_official_weights(
    model: nn.Module, checkpoint: str | Path | Mapping[str, torch.Tensor]
) -> nn.Module:
    """Load the authors' checkpoint (path or state dict) strictly into ``model``.

    Accepts keys with or without DataParallel's ``module.`` prefix. Raises
    :class:`CheckpointMismatch` naming missing, unexpected and mis-shaped keys.
    Values are cast to each parameter's dtype, so a float64 model stays float64.
    """
    source = checkpoint if isinstance(checkpoint, Mapping) else Path(checkpoint)
    state = read_state_dict(checkpoint)
    state = {
        (k[len(DATAPARALLEL_PREFIX) :] if k.startswith(DATAPARALLEL_PREFIX) else k): v
        for k, v in state.items()
    }
    state = {k: v for k, v in state.items() if not k.startswith(DEAD_PREFIXES)}
    mapping = official_key_map(model)
    own = model.state_dict()
    parts = mismatches({k: own[ours] for k, ours in mapping.items()}, state)
    if parts:
        where = f"{source}: " if isinstance(source, Path) else ""
        config = getattr(model, "config", None)
        hint = "" if config is None else f" (model config: {config})"
        raise CheckpointMismatch(
            f"{where}not an official FSNet checkpoint for this model{hint}: " + "; ".join(parts)
        )
    converted = {mapping[k]: v.to(own[mapping[k]].dtype) for k, v in state.items()}
    model.load_state_dict(converted, strict=True)
    return model


def _placeholder(key: str, shape: torch.Size, like: torch.Tensor) -> torch.Tensor:
    """Neutral values for the official parameters that the forward pass never reads."""
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return torch.zeros((), dtype=torch.long)
    if leaf in ("weight", "running_var") and len(shape) == 1:
        return torch.ones(shape, dtype=like.dtype)
    return torch.zeros(shape, dtype=like.dtype)


def to_official_state_dict(model: nn.Module, data_parallel: bool = False) -> OrderedDict:
    """This model's weights under the official names, loadable by the authors' code.

    Only the paper configuration has an official counterpart. The never-used
    official parameters (merge stem, ``RGBF_conv3``) get neutral placeholders.
    """
    config = getattr(model, "config", None)
    if config is not None and config != FSNetConfig():
        raise ValueError(f"only the paper configuration has an official format, got {config}")
    own = model.state_dict()
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for off, ours in official_key_map(model).items():
        out[off] = own[ours].detach().clone()
    like = next(iter(own.values()))
    dead = {
        "resnet.conv1.weight": (64, 3, 7, 7),
        **{f"resnet.bn1.{p}": (64,) for p in ("weight", "bias", "running_mean", "running_var")},
        "resnet.bn1.num_batches_tracked": (),
        "RGBF_conv3.conv_bn.0.weight": (1024, 2048, 3, 3),
        **{
            f"RGBF_conv3.conv_bn.1.{p}": (1024,)
            for p in ("weight", "bias", "running_mean", "running_var")
        },
        "RGBF_conv3.conv_bn.1.num_batches_tracked": (),
    }
    for key, shape in dead.items():
        out[key] = _placeholder(key, torch.Size(shape), like)
    prefix = DATAPARALLEL_PREFIX if data_parallel else ""
    return OrderedDict((prefix + k, v) for k, v in out.items())
