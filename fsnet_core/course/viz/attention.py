"""Figures of what RCAM exchanges and what the BPMs change, from one :class:`FSNetTrace`.

At every stage k RCAM pools each stream's feature to one number per channel,
turns it into a gate in (0, 1) and hands the gate to the *other* stream:
the motion-derived gate re-weights the appearance feature X_k, the
appearance-derived gate re-weights the motion feature Y_k, and both gated
features are added to the merge stream. These plots show the gates
(:func:`plot_attention_vectors`, :func:`plot_attention_modes`), single
channels before and after the gating (:func:`plot_exchange`, built on
:func:`exchange_maps`, which the RCAM explorer widget shows too), and the
two pyramids before and after the stack of BPMs (:func:`plot_pyramids`).

Traces come from ``model.forward_with_intermediates(image, flow)``; every
function takes ``sample`` to pick one item of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from ...model import FSNetTrace, StageTrace

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The two directions, named after who computes the gate and whom it gates.
MOTION_GATES_APPEARANCE = "motion gates appearance"  # RCAM's atten_flow: App. <= Mo.
APPEARANCE_GATES_MOTION = "appearance gates motion"  # RCAM's atten_rgb: App. => Mo.
DIRECTION_COLOURS = {MOTION_GATES_APPEARANCE: "tab:orange", APPEARANCE_GATES_MOTION: "tab:blue"}
EXCHANGE_PANELS = (
    "appearance X",
    "gated appearance",
    "motion Y",
    "gated motion",
    "merge before",
    "merge after",
)


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


def attention_vectors(trace: FSNetTrace, sample: int = 0) -> dict[str, list[np.ndarray | None]]:
    """Per direction, the gate of every stage (``C_k`` values; None where that direction is off)."""
    out: dict[str, list[np.ndarray | None]] = {
        MOTION_GATES_APPEARANCE: [],
        APPEARANCE_GATES_MOTION: [],
    }
    for stage in trace.stages:
        for key, gate in (
            (MOTION_GATES_APPEARANCE, stage.motion_attention),
            (APPEARANCE_GATES_MOTION, stage.appearance_attention),
        ):
            out[key].append(None if gate is None else _np(gate[sample]))
    return out


def attention_table(traces: Mapping[str, FSNetTrace], sample: int | None = None) -> pd.DataFrame:
    """Long table of every gate value: ``model, stage, direction, channel, value``.

    ``traces`` maps a name (e.g. the RCAM mode) to a trace; ``sample=None``
    averages the gates over the batch first.
    """
    rows = []
    for name, trace in traces.items():
        for k, stage in enumerate(trace.stages):
            for direction, gate in (
                (MOTION_GATES_APPEARANCE, stage.motion_attention),
                (APPEARANCE_GATES_MOTION, stage.appearance_attention),
            ):
                if gate is None:
                    continue
                values = _np(gate.mean(0) if sample is None else gate[sample])
                rows.extend(
                    {"model": name, "stage": k, "direction": direction, "channel": c, "value": v}
                    for c, v in enumerate(values.tolist())
                )
    return pd.DataFrame(rows, columns=["model", "stage", "direction", "channel", "value"])


def _zoom_around_half(values: Sequence[np.ndarray]) -> tuple[float, float]:
    """Y limits centred on 0.5 (an untrained gate) that just hold every value (at least +-0.05)."""
    reach = max([0.05, *(float(np.abs(np.asarray(v) - 0.5).max()) * 1.15 for v in values)])
    return max(0.0, 0.5 - reach), min(1.0, 0.5 + reach)


def plot_attention_vectors(trace: FSNetTrace, sample: int = 0, title: str | None = None) -> Figure:
    """Both gates at each of the five stages, channels sorted from most to least open.

    A flat line means the gate treats every channel alike; a steep one means
    the other stream picks a few channels and mutes the rest. The y axis is
    centred on 0.5 (the gate of an untrained RCAM) and zooms to the values.
    """
    import matplotlib.pyplot as plt

    vectors = attention_vectors(trace, sample)
    limits = _zoom_around_half([g for gates in vectors.values() for g in gates if g is not None])
    n = len(trace.stages)
    fig, axes = plt.subplots(1, n, figsize=(3.0 * n, 2.8), sharey=True, squeeze=False)
    for k, ax in enumerate(axes[0]):
        for direction, gates in vectors.items():
            gate = gates[k]
            if gate is None:
                continue
            order = np.sort(gate)[::-1]
            colour = DIRECTION_COLOURS[direction]
            ax.plot(np.arange(len(order)), order, color=colour, label=direction)
        channels = trace.stages[k].appearance.shape[1]
        ax.set_title(f"stage {k} ({channels} channels)", fontsize=9)
        ax.set_xlabel("channel (sorted)", fontsize=8)
        ax.set_ylim(*limits)
        ax.axhline(0.5, color="grey", lw=0.5, ls=":")
    axes[0, 0].set_ylabel("gate value")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(title or "RCAM channel attention, stage by stage", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plot_attention_modes(traces: Mapping[str, FSNetTrace], title: str | None = None) -> Figure:
    """Gate values per stage for several models (e.g. full duplex and the two simplex modes).

    One panel per direction; boxes show the spread of the batch-averaged gate
    over channels. A direction a model does not have is simply absent. The y
    axis is centred on 0.5 and zooms to the values.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    table = attention_table(traces)
    if table.empty:
        raise ValueError("none of the traces has an attention vector (all RCAM modes 'none')")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
    order = list(traces)
    limits = _zoom_around_half([table.value.to_numpy()])
    for ax, direction in zip(axes, (MOTION_GATES_APPEARANCE, APPEARANCE_GATES_MOTION), strict=True):
        part = table[table.direction == direction]
        if part.empty:
            ax.text(0.5, 0.5, "no model has this direction", ha="center", transform=ax.transAxes)
        else:
            sns.boxplot(
                data=part, x="stage", y="value", hue="model", hue_order=order, ax=ax,
                fliersize=1.5, linewidth=0.8,
            )  # fmt: skip
            ax.legend(fontsize=7, title=None)
        ax.set_title(direction, fontsize=10)
        ax.set_ylim(*limits)
        ax.axhline(0.5, color="grey", lw=0.5, ls=":")
    fig.suptitle(title or "RCAM gates: full duplex against simplex", fontsize=11)
    fig.tight_layout()
    return fig


def _gate(gate: torch.Tensor | None, sample: int, channel: int) -> float:
    """The gate's value for one channel; an absent gate passes the feature unchanged (1)."""
    return 1.0 if gate is None else float(gate[sample, channel].detach())


def exchange_maps(
    trace: FSNetTrace, stage: int, channel: int, sample: int = 0
) -> dict[str, np.ndarray | float]:
    """One channel of one stage before and after RCAM's exchange.

    Maps (``h x w``): the appearance feature X, X times the motion-derived
    gate, the motion feature Y, Y times the appearance-derived gate, the
    merge stream before the exchange (zeros at stage 0, where it starts) and
    after it (= before + gated X + gated Y). Scalars: the two gate values.
    """
    st: StageTrace = trace.stages[stage]
    channels = st.appearance.shape[1]
    if not 0 <= channel < channels:
        raise ValueError(f"stage {stage} has channels 0-{channels - 1}, got {channel}")
    x = _np(st.appearance[sample, channel])
    y = _np(st.motion[sample, channel])
    gate_x = _gate(st.motion_attention, sample, channel)
    gate_y = _gate(st.appearance_attention, sample, channel)
    before = np.zeros_like(x)  # the merge stream starts at stage 0
    if st.merged_before is not None:
        before = _np(st.merged_before[sample, channel])
    maps: dict[str, np.ndarray | float] = dict(
        zip(
            EXCHANGE_PANELS,
            (x, x * gate_x, y, y * gate_y, before, _np(st.merged_after[sample, channel])),
            strict=True,
        )
    )
    maps["gate on appearance"] = gate_x
    maps["gate on motion"] = gate_y
    return maps


def selective_channels(trace: FSNetTrace, stage: int, count: int = 4, sample: int = 0) -> list[int]:
    """Channels where the two gates disagree most: half most opened for appearance (relative to
    motion), half most opened for motion -- the channels where the exchange does something."""
    st = trace.stages[stage]
    channels = st.appearance.shape[1]
    gx, gy = (
        np.ones(channels) if gate is None else _np(gate[sample])
        for gate in (st.motion_attention, st.appearance_attention)
    )
    order = np.argsort(gx - gy)
    picks = [*order[::-1][: (count + 1) // 2], *order[: count // 2]]
    return [int(c) for c in dict.fromkeys(picks)][:count]


def plot_exchange(
    trace: FSNetTrace,
    stage: int,
    channels: Sequence[int] | None = None,
    sample: int = 0,
    title: str | None = None,
) -> Figure:
    """Rows of channels, columns of :data:`EXCHANGE_PANELS`; one colour scale per row."""
    import matplotlib.pyplot as plt

    if channels is None:
        channels = selective_channels(trace, stage, 4, sample)
    channels = list(channels)
    if not channels:
        raise ValueError("no channels to plot")
    cols = len(EXCHANGE_PANELS)
    fig, axes = plt.subplots(
        len(channels), cols, figsize=(1.9 * cols, 1.9 * len(channels) + 0.6), squeeze=False
    )
    for row, channel in enumerate(channels):
        maps = exchange_maps(trace, stage, channel, sample)
        images = [maps[name] for name in EXCHANGE_PANELS]
        vmax = max(float(np.abs(m).max()) for m in images) or 1.0  # type: ignore[arg-type]
        vmin = min(0.0, min(float(np.min(m)) for m in images))  # type: ignore[arg-type]
        for col, (name, image) in enumerate(zip(EXCHANGE_PANELS, images, strict=True)):
            ax = axes[row, col]
            ax.imshow(image, cmap="viridis", vmin=vmin, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            label = name
            if name == "gated appearance":
                label += f" (x{maps['gate on appearance']:.2f})"
            elif name == "gated motion":
                label += f" (x{maps['gate on motion']:.2f})"
            if row == 0 or "gated" in name:
                ax.set_title(label, fontsize=7)
            if col == 0:
                ax.set_ylabel(f"channel {channel}", fontsize=8)
    fig.suptitle(title or f"RCAM exchange at stage {stage}", fontsize=10)
    fig.tight_layout()
    return fig


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


def plot_pyramids(trace: FSNetTrace, sample: int = 0, title: str | None = None) -> Figure:
    """The fused (F) and motion (G) pyramids before and after the BPM stack, level by level.

    Each panel is the mean absolute activation of a level; the two rows of
    one pyramid share a colour scale per level, so brighter after means the
    BPMs strengthened that place, darker means they suppressed it.
    """
    import matplotlib.pyplot as plt

    energy = pyramid_energy(trace, sample)
    rows = list(energy)
    levels = len(energy[rows[0]])
    fig, axes = plt.subplots(len(rows), levels, figsize=(2.3 * levels, 2.2 * len(rows)))
    for r, key in enumerate(rows):
        partner = key.split()[0] + (" after" if key.endswith("before") else " before")
        for level in range(levels):
            image = energy[key][level]
            vmax = max(float(image.max()), float(energy[partner][level].max())) or 1.0
            ax = axes[r, level]
            ax.imshow(image, cmap="magma", vmin=0, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                h, w = image.shape
                ax.set_title(f"level {level + 1} ({h}x{w})", fontsize=8)
            if level == 0:
                ax.set_ylabel(key, fontsize=9)
    n_bpm = len(trace.pyramids) - 1
    fig.suptitle(title or f"Pyramids before and after {n_bpm} BPM(s)", fontsize=10)
    fig.tight_layout()
    return fig


__all__ = [
    "APPEARANCE_GATES_MOTION",
    "EXCHANGE_PANELS",
    "MOTION_GATES_APPEARANCE",
    "attention_table",
    "attention_vectors",
    "exchange_maps",
    "plot_attention_modes",
    "plot_attention_vectors",
    "plot_exchange",
    "plot_pyramids",
    "pyramid_energy",
    "selective_channels",
]
