"""RCAM and BPM figures: the maps add up as RCAM adds them, gates per direction, pyramids."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from fsnet_core.analysis import attention as A  # noqa: E402
from fsnet_core.course.viz import attention as V  # noqa: E402
from fsnet_core.course.viz import save_figure  # noqa: E402
from fsnet_core.model.rcam import MOTION_TO_APPEARANCE, RCAM_GATES  # noqa: E402

pytestmark = pytest.mark.usefixtures("single_thread")


def trace_of(make, rcam: str = "full", num_bpm: int = 1, n: int = 2, size: int = 64):
    """A trace of ``make(...)`` (the ``tiny_fsnet`` factory: default init, so that the gates
    differ between channels) on random inputs."""
    model = make(num_bpm=num_bpm, rcam=rcam)
    g = torch.Generator().manual_seed(1)
    image, flow = (torch.randn(n, 3, size, size, generator=g) for _ in range(2))
    with torch.no_grad():
        return model.forward_with_intermediates(image, flow)


@pytest.fixture(scope="module")
def full(tiny_fsnet):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield trace_of(tiny_fsnet, "full")
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_merge_after_is_before_plus_both_gated_features(full):
    for stage in range(5):
        for channel in (0, 7, 63):
            maps = V.exchange_maps(full, stage, channel, sample=1)
            total = maps["merged_before"] + maps["gated_appearance"] + maps["gated_motion"]
            assert np.allclose(maps["merged_after"], total, atol=1e-5)
            gate = float(full.stages[stage].motion_to_appearance[1, channel])
            assert maps["motion_to_appearance"] == pytest.approx(gate)
            assert np.allclose(maps["gated_appearance"], maps["appearance"] * gate, atol=1e-6)
    assert not np.any(V.exchange_maps(full, 0, 0)["merged_before"])  # the merge stream starts here
    with pytest.raises(ValueError, match="channels 0-63"):
        V.exchange_maps(full, 1, 64)


@pytest.mark.parametrize(
    ("rcam", "ungated"),
    [("none", ("appearance", "motion")), ("appearance_to_motion", ("appearance",))],
)
def test_a_gate_that_is_off_passes_its_feature_unchanged(rcam, ungated, tiny_fsnet):
    trace = trace_of(tiny_fsnet, rcam, n=1, size=32)
    maps = V.exchange_maps(trace, 2, 5)
    for gate in RCAM_GATES:
        if gate.target in ungated:
            assert maps[gate.name] == 1.0
            assert np.array_equal(maps[gate.gated], maps[gate.target])
        else:
            assert maps[gate.name] != 1.0
    vectors = V.attention_vectors(trace)
    assert (vectors[MOTION_TO_APPEARANCE.name][2] is None) == ("appearance" in ungated)


def test_attention_table_and_vectors(full, tiny_fsnet):
    half = trace_of(tiny_fsnet, "appearance_to_motion", size=32)
    table = V.attention_table({"full": full, "half": half})
    channels = [s.appearance.shape[1] for s in full.stages]
    assert len(table) == 2 * sum(channels) + sum(channels)  # the simplex model has one direction
    one = table[(table.model == "full") & (table.stage == 3)]
    gates = full.stages[3].appearance_to_motion.mean(0).numpy()
    part = one[one.direction == "appearance_to_motion"].sort_values("channel")
    assert np.allclose(part.value, gates)
    vectors = V.attention_vectors(full, sample=1)
    assert [len(v) for v in vectors["appearance_to_motion"]] == channels


def test_selective_channels_are_where_the_gates_disagree(full):
    picks = V.selective_channels(full, 2, count=4)
    st = full.stages[2]
    diff = (st.motion_to_appearance[0] - st.appearance_to_motion[0]).numpy()
    assert len(set(picks)) == 4
    assert picks[0] == int(np.argmax(diff)) and picks[2] == int(np.argmin(diff))


def test_pyramid_energy_before_and_after(full, tiny_fsnet):
    energy = V.pyramid_energy(full)
    assert list(energy) == ["F before", "F after", "G before", "G after"]
    assert [m.shape for m in energy["F before"]] == [(16, 16), (8, 8), (4, 4), (2, 2)]
    assert not np.allclose(energy["F before"][0], energy["F after"][0])
    plain = V.pyramid_energy(trace_of(tiny_fsnet, num_bpm=0, n=1, size=32))
    for before, after in zip(plain["G before"], plain["G after"], strict=True):
        assert np.array_equal(before, after)


def test_maps_under_16_cells_a_side_are_refused(full):
    assert V.readable_stages(full) == [0, 1]  # 32 x 32 and 16 x 16 at 64 px
    with pytest.raises(ValueError, match="stage 3 is 4x4 cells, smaller than 16x16"):
        V.plot_exchange(full, 3, channels=[0])
    fig = V.plot_exchange(full, 2, channels=[0], min_cells=8)  # the real model's 11 x 11 rule
    assert "stage 2" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="stage 3 is 4x4 cells, smaller than 8x8"):
        V.plot_exchange(full, 3, channels=[0], min_cells=8)


def test_figures_have_their_panels_and_save(full, tmp_path, monkeypatch, tiny_fsnet):
    monkeypatch.setenv("FSNET_FIGURES_DIR", str(tmp_path))
    fig = V.plot_attention_vectors(full)
    assert len(fig.axes) == 5 and len(fig.axes[4].lines) == 3  # two gates and the 0.5 line
    fig = V.plot_exchange(full, 1, channels=[1, 2])
    panels = len(V.EXCHANGE_PANELS)
    assert len(fig.axes) == 2 * panels + 2  # and one colour bar per row
    gate = float(full.stages[1].motion_to_appearance[0, 2])
    assert f"(x{gate:.2f})" in fig.axes[panels + 1].get_title()
    frame = np.zeros((64, 64, 3), np.uint8)
    fig = V.plot_exchange(full, 1, channels=[1], frame=frame)
    assert fig.axes[0].get_title() == "input frame\n(16x16 cells)"
    fig = V.plot_pyramids(full, frame=frame, mask=np.ones((64, 64)))
    titles = [ax.get_title() for ax in fig.axes]
    assert "level 1\n(16x16 cells)" in titles and "input frame" in titles and "true mask" in titles
    assert not any("level 2" in t for t in titles)  # 8 x 8 cells at 64 px
    title = " ".join(fig._suptitle.get_text().split())  # wrapped to the figure's width
    assert "(3 coarser level(s) under 16x16 cells not drawn)" in title
    modes = {
        "full": full,
        "motion_to_appearance": trace_of(tiny_fsnet, "motion_to_appearance", size=32),
    }
    fig = V.plot_attention_modes(modes)
    low, high = fig.axes[0].get_ylim()
    assert low < 0.5 < high and high - 0.5 == pytest.approx(0.5 - low)
    path = save_figure(fig, "rcam_modes")
    assert path == tmp_path / "rcam_modes.png" and path.stat().st_size > 1000
    with pytest.raises(ValueError, match="none of the traces"):
        V.plot_attention_modes({"none": trace_of(tiny_fsnet, "none", n=1, size=32)})


def smallest_text(fig) -> float:
    """The smallest type (points) of any visible text in ``fig``, once drawn."""
    from matplotlib.text import Text

    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    return min(sizes)


def test_rcam_figures_read_at_notebook_size(full):
    """The course's figure audit finds nothing (text of 8 pt or more as a notebook shows it,
    safe colours, attached colour bars); each row's colour bar sits against its last map."""
    from fsnet_core.course.viz.audit import audit_figure

    frame = np.zeros((64, 64, 3), np.uint8)
    exchange = V.plot_exchange(full, 1, channels=[1, 2, 3], frame=frame)
    for fig in (exchange, V.plot_attention_vectors(full)):
        assert audit_figure(fig) == []
    bars = [ax for ax in exchange.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 3
    last = exchange.axes[len(V.EXCHANGE_PANELS)]  # row 0's "merge after"
    gap = bars[0].get_position().x0 - last.get_position().x1
    assert 0 <= gap < 0.05  # beside it, not detached


def test_gate_spread_measures_channels_frames_and_the_two_gates(full, tiny_fsnet):
    spread = V.gate_spread(full)
    assert list(spread.index) == [0, 1, 2, 3, 4]
    assert list(spread.channels) == [st.appearance.shape[1] for st in full.stages]
    st = full.stages[2]
    both = torch.cat([st.motion_to_appearance, st.appearance_to_motion], 1)
    assert spread.loc[2, "spread across channels"] == pytest.approx(float(both.std(1).mean()))
    assert spread.loc[2, "spread across frames"] == pytest.approx(float(both.std(0).mean()))
    same = spread["same channel, two gates: mean |difference|"]
    assert (same >= spread["sorted curves: mean |difference|"] - 1e-7).all()  # sorting aligns
    one = V.gate_spread(trace_of(tiny_fsnet, n=1, size=32))
    assert one["spread across frames"].isna().all()
    with pytest.raises(ValueError, match="gate switched off"):
        V.gate_spread(trace_of(tiny_fsnet, "motion_to_appearance", n=1, size=32))


def test_object_contrast_compares_energy_on_and_off_the_object(full):
    mask = np.zeros((64, 64), bool)
    mask[8:40, 8:40] = True  # cells 2..9 of the 16 x 16 level, exactly
    masks = [mask, np.zeros((64, 64), bool)]  # the second sample's region is empty
    table = V.pyramid_object_contrast(full, masks)
    assert list(table.columns) == list(A.CONTRAST_COLUMNS)
    assert len(table) == 2 * 2 * 4  # samples x pyramids x levels, one BPM
    first = table[table["sample"] == 0]
    assert list(first.pyramid) == ["F"] * 4 + ["G"] * 4 and list(first.level[:4]) == [1, 2, 3, 4]
    energy = V.pyramid_energy(full)
    inside = np.zeros((16, 16), bool)
    inside[2:10, 2:10] = True
    on, off = energy["G after"][0][inside].mean(), energy["G after"][0][~inside].mean()
    row = first[(first.pyramid == "G") & (first.level == 1)].iloc[0]
    assert row["contrast after"] == pytest.approx((on - off) / (on + off), rel=1e-5)
    assert row.cells == "16x16" and row.BPM == "1"
    change = energy["G after"][0] - energy["G before"][0]
    assert row["change on"] == pytest.approx(change[inside].mean(), rel=1e-5, abs=1e-7)
    assert row["change off"] == pytest.approx(change[~inside].mean(), rel=1e-5, abs=1e-7)
    assert table[table["sample"] == 1]["contrast before"].isna().all()  # no region: no contrast


def test_object_contrast_ignores_scale_and_weighs_cells_by_their_share():
    energy = np.array([[4.0, 1.0], [1.0, 1.0]])
    weights = A.cell_weights(np.array([[1, 1, 0, 0], [1, 1, 0, 0]] + [[0] * 4] * 2), (2, 2))
    assert weights.tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert A.object_contrast(energy, weights) == pytest.approx((4 - 1) / (4 + 1))
    assert A.object_contrast(10 * energy, weights) == pytest.approx(
        A.object_contrast(energy, weights)
    )
    half = A.cell_weights(np.array([[1, 0], [0, 0]]), (1, 1))  # a quarter of one cell
    assert half.tolist() == [[0.25]]
    assert A.inside_outside(np.array([[2.0]]), half) == (2.0, 2.0)
    assert np.isnan(A.object_contrast(energy, np.ones((2, 2))))  # nothing outside


def test_contrast_per_step_and_over_the_stack(tiny_fsnet):
    trace = trace_of(tiny_fsnet, num_bpm=2, n=1, size=64)
    mask = np.zeros((64, 64), bool)
    mask[16:48, 16:48] = True
    steps = V.pyramid_object_contrast(trace, mask)
    stack = V.pyramid_object_contrast(trace, mask, per_step=False)
    assert sorted(set(steps.BPM)) == ["1", "2"] and set(stack.BPM) == {"1-2"}
    one, two = (steps[steps.BPM == n].reset_index(drop=True) for n in ("1", "2"))
    assert np.allclose(one["contrast after"], two["contrast before"])  # BPM 2 reads BPM 1's
    assert np.allclose(stack["contrast before"], one["contrast before"])
    assert np.allclose(stack["contrast after"], two["contrast after"])
    assert not np.allclose(one["contrast before"], one["contrast after"])
    change = A.energy_change(trace, step=2)
    energy = V.pyramid_energy(trace, step=2)
    assert np.allclose(change["F"][0], energy["F after"][0] - energy["F before"][0])
    with pytest.raises(ValueError, match="BPMs 1-2, got step 3"):
        V.pyramid_energy(trace, step=3)
    plain = trace_of(tiny_fsnet, num_bpm=0, n=1, size=32)
    assert V.pyramid_object_contrast(plain, np.ones((32, 32)), per_step=True).empty
    none = V.pyramid_object_contrast(plain, np.eye(32), per_step=False)
    assert set(none.BPM) == {"none"} and (none["change on"] == 0).all()


def test_contrast_refuses_masks_that_do_not_fit_the_batch(full):
    with pytest.raises(ValueError, match="1 mask\\(s\\) for a batch of 2"):
        V.pyramid_object_contrast(full, np.ones((64, 64)))
    with pytest.raises(ValueError, match="mask 1 is 32x32, the input 64x64"):
        V.pyramid_object_contrast(full, [np.ones((64, 64)), np.ones((32, 32))])


def test_contrast_summary_counts_frames_that_rose():
    rows = [
        (0, "G", 1, "16x16", "1", 0.2, 0.3, 0.1, 0.0),
        (1, "G", 1, "16x16", "1", 0.4, 0.1, 0.0, 0.1),
        (2, "G", 1, "16x16", "1", np.nan, np.nan, 0.0, 0.0),  # a frame without the region
    ]
    table = pd.DataFrame(rows, columns=list(A.CONTRAST_COLUMNS))
    summary = A.contrast_summary(table).loc[("G", 1, "1")]
    assert summary.frames == 2 and summary.rose == 1
    assert summary.before == pytest.approx(0.3) and summary.after == pytest.approx(0.2)
    assert summary["change on"] == pytest.approx(0.05)
    assert summary["median change"] == pytest.approx((0.1 - 0.3) / 2)
    assert A.typical_sample(table.iloc[:2]) in (0, 1)
    three = pd.concat([table.iloc[:2], table.iloc[:1].assign(sample=5, **{"contrast after": 0.22})])
    assert A.typical_sample(three) == 5  # changes +0.1, -0.3, +0.02: the median is +0.02
    with pytest.raises(ValueError, match="no rows with a contrast"):
        A.typical_sample(table.iloc[2:])
    both = pd.concat([table.assign(region="object"), table.assign(region="mover")])
    by_region = A.contrast_summary(both)
    assert by_region.index.names == ["region", "pyramid", "level", "BPM"]
    assert by_region.loc[("mover", "G", 1, "1"), "frames"] == 2


def test_bpm_change_figure_shows_frame_maps_change_and_the_numbers(full):
    frame = np.zeros((64, 64, 3), np.uint8)
    obj = np.zeros((64, 64), bool)
    obj[8:40, 8:40] = True
    other = np.zeros((64, 64), bool)
    other[48:60, 48:60] = True
    regions = {"object": obj, "mover": other, "look-alike": np.zeros((64, 64), bool)}
    fig = V.plot_bpm_change(full, regions, frame, flow=frame, sample=0)
    maps = fig.axes[:8]
    assert len(fig.axes) == 8 + 3  # the panels, one change bar per row, one energy bar
    row = V.pyramid_object_contrast(full, [obj, obj], per_step=False)
    g = row[(row["sample"] == 0) & (row.pyramid == "G") & (row.level == 1)].iloc[0]
    assert f"object {g['contrast before']:+.2f}" in maps[5].get_title()
    assert f"object {g['change on']:+.3f}" in maps[7].get_title()
    assert maps[4].get_title().startswith("flow") and "look-alike" not in maps[5].get_title()
    assert all(t.get_fontsize() >= 8 for ax in maps for t in [ax.title])
    assert fig._suptitle.get_text().startswith("What the one BPM changed at level 1 (16x16 cells)")
    fig = V.plot_bpm_change(full, regions, frame, title="mine")
    assert fig._suptitle.get_text().startswith("mine\ncontrast = (inside - outside)")
    low, high = maps[7].images[0].get_clim()
    assert low == pytest.approx(-high)  # the change is centred on zero
    assert maps[1].images[0].get_clim() == maps[6].images[0].get_clim()  # one energy scale
    with pytest.raises(ValueError, match="level 2 is 8x8 cells"):
        V.plot_bpm_change(full, regions, frame, level=1)
    with pytest.raises(ValueError, match="regions present"):
        V.plot_bpm_change(full, {"nothing": np.zeros((64, 64), bool)}, frame)


def test_contrast_frames_figure_counts_the_frames_lowered(full):
    obj = np.zeros((64, 64), bool)
    obj[8:40, 8:40] = True
    table = V.pyramid_object_contrast(full, [obj, obj]).assign(region="object")
    fig = V.plot_contrast_frames(table)
    rows = table[(table.level == 1) & (table.pyramid == "G")]
    fell = int((rows["contrast after"] < rows["contrast before"]).sum())
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == [f"object: lowered in {fell} of 2 frames"]
    with pytest.raises(ValueError, match="no rows at level 9"):
        V.plot_contrast_frames(table, level=9)
