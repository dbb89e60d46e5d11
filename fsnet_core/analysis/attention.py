"""Read-outs of what RCAM exchanged and what the BPMs changed, from one :class:`FSNetTrace`.

Numbers and arrays only (the figures that show them are in
:mod:`fsnet_core.course.viz.attention`). Gates are keyed by their code names
(``motion_to_appearance``, ``appearance_to_motion``; the table in
:mod:`fsnet_core.model.rcam` gives their paper, authors' and Table 5 names),
features by the trace's field names. Everything is read from the trace, which
records the gated features themselves: nothing here recomputes the gating.
Traces come from ``model.forward_with_intermediates(image, flow)``; every
function takes ``sample`` to pick one item of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from ..model import FSNetTrace, StageTrace
from ..model.rcam import APPEARANCE_TO_MOTION, MOTION_TO_APPEARANCE, RCAM_GATES, Gate

EXCHANGE_PANELS: tuple[str, ...] = (
    "appearance",
    "gated_appearance",
    "motion",
    "gated_motion",
    "merged_before",
    "merged_after",
)
"""The maps :func:`exchange_maps` returns, named as the trace's fields, in reading order."""


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


def _gate_values(stage: StageTrace, gate: Gate, sample: int | None) -> np.ndarray | None:
    """One gate's ``C`` values for one sample (``None``: the batch mean), None where it is off."""
    values = stage.gate(gate)
    if values is None:
        return None
    return _np(values.mean(0) if sample is None else values[sample])


def attention_vectors(trace: FSNetTrace, sample: int = 0) -> dict[str, list[np.ndarray | None]]:
    """Per gate (code name), its values at every stage (``C_k`` values; None where it is off)."""
    return {g.name: [_gate_values(st, g, sample) for st in trace.stages] for g in RCAM_GATES}


def attention_table(traces: Mapping[str, FSNetTrace], sample: int | None = None) -> pd.DataFrame:
    """Long table of every gate value: ``model, stage, direction, channel, value``.

    ``traces`` maps a name (e.g. the RCAM mode) to a trace; ``direction`` is the
    gate's code name; ``sample=None`` averages the gates over the batch first.
    """
    rows = []
    for name, trace in traces.items():
        for k, stage in enumerate(trace.stages):
            for gate in RCAM_GATES:
                values = _gate_values(stage, gate, sample)
                if values is None:
                    continue
                rows.extend(
                    {"model": name, "stage": k, "direction": gate.name, "channel": c, "value": v}
                    for c, v in enumerate(values.tolist())
                )
    return pd.DataFrame(rows, columns=["model", "stage", "direction", "channel", "value"])


def exchange_maps(
    trace: FSNetTrace, stage: int, channel: int, sample: int = 0
) -> dict[str, np.ndarray | float]:
    """One channel of one stage before and after RCAM's exchange, as the trace recorded it.

    Maps (``h x w``), keyed by :data:`EXCHANGE_PANELS`: X_k, Q^X_k, Y_k, Q^Y_k,
    the merge stream before the exchange (zeros at stage 0, where it starts)
    and after it (= before + Q^X_k + Q^Y_k). Scalars, keyed by the gates' code
    names: each gate's value for this channel (1.0 for a gate that is off,
    which passes its feature unchanged).
    """
    st = trace.stages[stage]
    channels = st.appearance.shape[1]
    if not 0 <= channel < channels:
        raise ValueError(f"stage {stage} has channels 0-{channels - 1}, got {channel}")
    maps: dict[str, np.ndarray | float] = {}
    for name in EXCHANGE_PANELS:
        feature = getattr(st, name)  # merged_before is None at stage 0, where the stream starts
        empty = np.zeros(st.appearance.shape[-2:], np.float32)
        maps[name] = empty if feature is None else _np(feature[sample, channel])
    for gate in RCAM_GATES:
        values = _gate_values(st, gate, sample)
        maps[gate.name] = 1.0 if values is None else float(values[channel])
    return maps


def selective_channels(trace: FSNetTrace, stage: int, count: int = 4, sample: int = 0) -> list[int]:
    """Channels where the two gates disagree most: half most opened for appearance (relative to
    motion), half most opened for motion -- the channels where the exchange does something."""
    st = trace.stages[stage]
    ones = np.ones(st.appearance.shape[1], np.float32)  # a gate that is off lets all through

    def values(gate: Gate) -> np.ndarray:
        found = _gate_values(st, gate, sample)
        return ones if found is None else found

    order = np.argsort(values(MOTION_TO_APPEARANCE) - values(APPEARANCE_TO_MOTION))
    picks = [*order[::-1][: (count + 1) // 2], *order[: count // 2]]
    return [int(c) for c in dict.fromkeys(picks)][:count]


def pyramid_energy(trace: FSNetTrace, sample: int = 0) -> dict[str, list[np.ndarray]]:
    """Mean absolute activation over channels of each pyramid level, before and after the BPMs.

    Keys: ``F before``, ``F after`` (fused pyramid), ``G before``, ``G after``
    (motion pyramid); each a list of four ``h x w`` maps, finest level first.
    With no BPM (``num_bpm=0``) "after" equals "before".
    """
    if not trace.pyramids:
        raise ValueError("the trace has no pyramids (run forward_with_intermediates)")
    first, last = trace.pyramids[0], trace.pyramids[-1]
    out = {}
    for key, levels in (
        ("F before", first[0]),
        ("F after", last[0]),
        ("G before", first[1]),
        ("G after", last[1]),
    ):
        out[key] = [_np(level[sample].abs().mean(0)) for level in levels]
    return out


def gate_spread(trace: FSNetTrace) -> pd.DataFrame:
    """Per stage, what the gates of a full-duplex trace vary with, averaged over the batch.

    Columns: ``channels``; ``spread across channels`` (std over the channels of
    one frame) and ``spread across frames`` (std over the frames of one channel:
    NaN for a single frame), both over the two gates together; ``same channel,
    two gates: mean |difference|``; and ``sorted curves: mean |difference|``
    (the two gates' value distributions compared, channels ignored). Attention
    that follows the frame shows as spread across frames.
    """
    rows = []
    for k, st in enumerate(trace.stages):
        a, m = st.motion_to_appearance, st.appearance_to_motion  # N frames x C channels
        if a is None or m is None:
            raise ValueError(f"stage {k} has a gate switched off: gate_spread needs full duplex")
        both = torch.cat([a, m], 1).float()
        rows.append(
            {
                "stage": k,
                "channels": a.shape[1],
                "spread across channels": float(both.std(1).mean()),
                "spread across frames": float(both.std(0).mean()) if len(both) > 1 else np.nan,
                "same channel, two gates: mean |difference|": float((a - m).abs().mean()),
                "sorted curves: mean |difference|": float(
                    (a.sort(1).values - m.sort(1).values).abs().mean()
                ),
            }
        )
    return pd.DataFrame(rows).set_index("stage")


INERT_GATE_DISTANCE = 0.05
"""A stage's gates *barely move* when they lie this close to 0.5 on average: a gate in
0.45-0.55 scales its channel by about one half whatever the channel and the frame, so the
exchange adds half of each feature (a constant factor the next convolutions absorb) instead
of choosing channels. An untrained RCAM sits at exactly 0.5 (``sigmoid(0)``)."""


def gate_movement(trace: FSNetTrace) -> pd.DataFrame:
    """Per stage, how far the gates moved from 0.5 (where an untrained RCAM starts).

    Both gates of every frame and channel together. Columns: ``channels``; ``mean gate``;
    ``mean |gate - 0.5|`` and ``largest |gate - 0.5|``; ``spread across channels`` (the
    standard deviation over the channels of one frame, averaged over frames, as in
    :func:`gate_spread`); ``lowest`` and ``highest`` gate; and ``barely moves``: the mean
    distance from 0.5 is under :data:`INERT_GATE_DISTANCE`. A gate that is off (a simplex
    model) is left out; a stage with neither gate raises ``ValueError``.
    """
    rows = []
    for k, st in enumerate(trace.stages):
        gates = [g for g in (st.motion_to_appearance, st.appearance_to_motion) if g is not None]
        if not gates:
            raise ValueError(f"stage {k} has no gate (rcam='none'): nothing moves")
        both = torch.cat(gates, 1).float()  # N frames x (C or 2C) gate values
        distance = (both - 0.5).abs()
        spread = both.std(1) if both.shape[1] > 1 else torch.zeros(len(both))
        rows.append(
            {
                "stage": k,
                "channels": st.appearance.shape[1],
                "mean gate": float(both.mean()),
                "mean |gate - 0.5|": float(distance.mean()),
                "largest |gate - 0.5|": float(distance.max()),
                "spread across channels": float(spread.mean()),
                "lowest": float(both.min()),
                "highest": float(both.max()),
                "barely moves": bool(distance.mean() < INERT_GATE_DISTANCE),
            }
        )
    return pd.DataFrame(rows).set_index("stage")


def pyramid_object_contrast(trace: FSNetTrace, mask: np.ndarray, sample: int = 0) -> pd.DataFrame:
    """How much brighter each pyramid level is on the object than off it, before and after.

    One row per (pyramid, level): the mean of :func:`pyramid_energy` inside
    ``mask`` (the object, at the input size, shrunk to the level's cells by
    area) divided by its mean outside, before and after the BPMs (NaN where the
    object covers no cell or all). A ratio that grows means the BPMs concentrated
    that pyramid on the object.
    """
    import cv2

    energy = pyramid_energy(trace, sample)
    rows = []
    for pyramid in ("F", "G"):
        for level, (before, after) in enumerate(
            zip(energy[f"{pyramid} before"], energy[f"{pyramid} after"], strict=True)
        ):
            h, w = before.shape
            inside = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
            inside = inside >= 0.5
            ratio = [np.nan, np.nan]  # the object covers no cell, or every cell: no contrast
            if inside.any() and not inside.all():
                ratio = [
                    float(e[inside].mean() / max(e[~inside].mean(), 1e-12)) for e in (before, after)
                ]
            row = {"pyramid": pyramid, "level": level + 1, "cells": f"{h}x{w}"}
            rows.append(row | {"on/off object before": ratio[0], "on/off object after": ratio[1]})
    return pd.DataFrame(rows)


__all__ = [
    "EXCHANGE_PANELS",
    "INERT_GATE_DISTANCE",
    "attention_table",
    "attention_vectors",
    "exchange_maps",
    "gate_movement",
    "gate_spread",
    "pyramid_energy",
    "pyramid_object_contrast",
    "selective_channels",
]
