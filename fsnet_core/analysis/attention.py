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

from collections.abc import Mapping, Sequence

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


def _bpm_span(trace: FSNetTrace, step: int | None) -> tuple[int, int]:
    """The indices into ``trace.pyramids`` around BPM ``step`` (1-based), or the whole stack."""
    if not trace.pyramids:
        raise ValueError("the trace has no pyramids (run forward_with_intermediates)")
    last = len(trace.pyramids) - 1
    if step is None:
        return 0, last
    if not 1 <= step <= last:
        raise ValueError(f"the model has BPMs 1-{last}, got step {step}")
    return step - 1, step


def pyramid_energy(
    trace: FSNetTrace, sample: int = 0, step: int | None = None
) -> dict[str, list[np.ndarray]]:
    """Mean absolute activation over channels of each pyramid level, before and after BPMs.

    Keys: ``F before``, ``F after`` (fused pyramid), ``G before``, ``G after``
    (motion pyramid); each a list of four ``h x w`` maps, finest level first.
    ``step=None`` spans the whole stack (the allocator's output, then the last
    BPM's); ``step=n`` spans BPM n alone (1-based). With no BPM (``num_bpm=0``)
    "after" equals "before".
    """
    first, last = (trace.pyramids[i] for i in _bpm_span(trace, step))
    out = {}
    for key, levels in (
        ("F before", first[0]),
        ("F after", last[0]),
        ("G before", first[1]),
        ("G after", last[1]),
    ):
        out[key] = [_np(level[sample].abs().mean(0)) for level in levels]
    return out


def energy_change(
    trace: FSNetTrace, sample: int = 0, step: int | None = None
) -> dict[str, list[np.ndarray]]:
    """What BPM ``step`` (``None``: the whole stack) changed: after minus before energy.

    Keys ``F`` and ``G``, each four ``h x w`` maps (see :func:`pyramid_energy`):
    positive where the BPMs strengthened a place, negative where they damped it.
    """
    energy = pyramid_energy(trace, sample, step)
    return {
        p: [a - b for a, b in zip(energy[f"{p} after"], energy[f"{p} before"], strict=True)]
        for p in ("F", "G")
    }


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


def cell_weights(mask: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """The share of each cell of an ``h x w`` map that ``mask`` (at the input size) covers.

    Shares, not a thresholded mask, so that an object smaller than a cell of a
    coarse level still counts where it is (area averaging, as the map itself pools).
    """
    import cv2

    h, w = shape[-2:]
    return cv2.resize(np.asarray(mask, np.float32), (w, h), interpolation=cv2.INTER_AREA)


def inside_outside(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Means of ``values`` inside and outside a region given as cell ``weights`` in [0, 1];
    NaN for a side the region leaves empty."""
    inside, outside = float(weights.sum()), float((1.0 - weights).sum())
    on = float((values * weights).sum()) / inside if inside > 1e-6 else np.nan
    off = float((values * (1.0 - weights)).sum()) / outside if outside > 1e-6 else np.nan
    return on, off


def object_contrast(energy: np.ndarray, weights: np.ndarray) -> float:
    """(inside - outside) / (inside + outside) of an energy map: +1 when all of it is on the
    region, 0 when it does not prefer it, negative when it avoids it. The ratio ignores the
    map's scale, so a BPM that only amplifies everything alike leaves it unchanged."""
    on, off = inside_outside(energy, weights)
    total = on + off
    return (on - off) / total if total > 0 else np.nan


def _input_masks(trace: FSNetTrace, masks: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """One mask per sample of the trace's batch, each at the input size, or ValueError."""
    size = tuple(trace.appearance_logits.shape[-2:])
    batch = trace.appearance_logits.shape[0]
    single = isinstance(masks, np.ndarray) and masks.ndim == 2
    listed = [masks] if single else [np.asarray(m) for m in masks]
    if len(listed) != batch:
        raise ValueError(f"{len(listed)} mask(s) for a batch of {batch} sample(s)")
    for i, m in enumerate(listed):
        if m.shape != size:
            raise ValueError(
                f"mask {i} is {'x'.join(map(str, m.shape))}, the input {size[0]}x{size[1]}"
            )
    return listed


CONTRAST_COLUMNS = (
    "sample",
    "pyramid",
    "level",
    "cells",
    "BPM",
    "contrast before",
    "contrast after",
    "change on",
    "change off",
)
"""The columns of :func:`pyramid_object_contrast`."""


def pyramid_object_contrast(
    trace: FSNetTrace, masks: np.ndarray | Sequence[np.ndarray], per_step: bool = True
) -> pd.DataFrame:
    """How much more each pyramid level responds on a region than off it, around each BPM.

    ``masks``: one ``H x W`` mask per sample of the batch (the object, or any other
    region such as a moving distractor), at the input size; a single mask for a batch
    of one. One row per (sample, pyramid, level, BPM step): :func:`object_contrast` of
    the level's :func:`pyramid_energy` before and after the step, and the step's
    :func:`energy_change` averaged on and off the region (``change on``, ``change off``).
    ``per_step=True`` gives each BPM's own rows (``BPM`` = ``"1"``, ``"2"``, ...; none
    when the model has no BPM); ``per_step=False`` one span over the whole stack
    (``BPM`` = ``"1-N"``, or ``"1"`` for one BPM, ``"none"`` for none). Contrasts rise
    where a step concentrated a pyramid on the region; NaN where the region covers no
    cell's worth of the level, or all of it.
    """
    listed = _input_masks(trace, masks)
    n_bpm = len(trace.pyramids) - 1 if trace.pyramids else 0
    if per_step:
        steps: list[tuple[int | None, str]] = [(n, str(n)) for n in range(1, n_bpm + 1)]
    else:
        steps = [(None, "none" if n_bpm == 0 else "1" if n_bpm == 1 else f"1-{n_bpm}")]
    rows = []
    for sample, mask in enumerate(listed):
        for step, name in steps:
            energy = pyramid_energy(trace, sample, step)
            change = energy_change(trace, sample, step)
            for pyramid in ("F", "G"):
                for level, before in enumerate(energy[f"{pyramid} before"]):
                    weights = cell_weights(mask, before.shape)
                    on, off = inside_outside(change[pyramid][level], weights)
                    after = energy[f"{pyramid} after"][level]
                    rows.append(
                        {
                            "sample": sample,
                            "pyramid": pyramid,
                            "level": level + 1,
                            "cells": f"{before.shape[0]}x{before.shape[1]}",
                            "BPM": name,
                            "contrast before": object_contrast(before, weights),
                            "contrast after": object_contrast(after, weights),
                            "change on": on,
                            "change off": off,
                        }
                    )
    return pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS))


def contrast_summary(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`pyramid_object_contrast` table over its samples, per (pyramid, level, BPM),
    and per ``region`` first when the table has that column (several regions' tables
    concatenated): ``frames`` counted (NaN rows left out), the mean ``contrast before``
    and ``after``, ``rose`` (how many frames' contrast rose), the ``median change`` of
    a frame's contrast (after minus before: what a typical frame saw, where a few frames
    can move the mean) and the mean ``change on`` and ``off`` of the energy."""
    keys = [k for k in ("region",) if k in table.columns] + ["pyramid", "level", "BPM"]
    valid = table.dropna(subset=["contrast before", "contrast after"])
    moved = valid["contrast after"] - valid["contrast before"]
    grouped = valid.assign(rose=moved > 0, moved=moved).groupby(keys, sort=False)
    return grouped.agg(
        frames=("sample", "size"),
        before=("contrast before", "mean"),
        after=("contrast after", "mean"),
        rose=("rose", "sum"),
        median_change=("moved", "median"),
        change_on=("change on", "mean"),
        change_off=("change off", "mean"),
    ).rename(columns=lambda c: c.replace("_", " "))


def typical_sample(table: pd.DataFrame) -> int:
    """The sample whose contrast change (after minus before) is the median of ``table``'s
    rows: a typical frame to draw, not the one where the BPMs did most. Pass the rows of
    one region, pyramid, level and BPM span."""
    valid = table.dropna(subset=["contrast before", "contrast after"])
    if valid.empty:
        raise ValueError("no rows with a contrast to choose a typical sample from")
    moved = (valid["contrast after"] - valid["contrast before"]).to_numpy()
    return int(valid["sample"].to_numpy()[np.argmin(np.abs(moved - np.median(moved)))])


__all__ = [
    "CONTRAST_COLUMNS",
    "EXCHANGE_PANELS",
    "INERT_GATE_DISTANCE",
    "attention_table",
    "attention_vectors",
    "cell_weights",
    "contrast_summary",
    "energy_change",
    "exchange_maps",
    "gate_movement",
    "gate_spread",
    "inside_outside",
    "object_contrast",
    "pyramid_energy",
    "pyramid_object_contrast",
    "selective_channels",
    "typical_sample",
]
