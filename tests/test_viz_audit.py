"""The figure audit: it flags what colour-blind readers cannot tell apart, text too small to
read, detached colour bars and overlapping tick labels; every course figure passes it."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from fsnet_core.analysis.attribution import CueAttribution  # noqa: E402
from fsnet_core.course import (
    ablation_results,  # noqa: E402
    viz,  # noqa: E402
)
from fsnet_core.course.viz import audit  # noqa: E402
from fsnet_core.course.viz import panels as P  # noqa: E402
from fsnet_core.data.samples import Sample  # noqa: E402
from fsnet_core.data.synthetic import DISTRACTOR, MOVING_BACKGROUND, MOVING_OBJECT, TARGET  # noqa: E402

OLD_RED, OLD_GREEN = (230, 60, 40), (40, 200, 80)  # the course's colours before the palette


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def unit(rgb) -> tuple[float, ...]:
    return tuple(c / 255 for c in rgb)


def rules(fig, **kwargs) -> list[str]:
    """The rules ``fig`` breaks, each once."""
    return sorted({p.rule for p in audit.audit_figure(fig, **kwargs)})


# ------------------------------------------------------------------ the rules


def test_simulation_keeps_greys_and_collapses_red_against_green():
    greys = np.linspace(0, 1, 5)[:, None].repeat(3, axis=1)
    for vision in audit.DICHROMACIES:  # the matrices' rows sum to one: greys stay grey
        assert np.allclose(audit.lab(greys, vision), audit.lab(greys), atol=0.05)
    assert audit.confusable(OLD_RED, OLD_GREEN) == "deuteranopia"
    assert audit.confusable(matplotlib.colors.to_rgb("tab:orange"), (0.17, 0.63, 0.17))
    assert audit.confusable(P.ORANGE, P.DARK_BLUE) is None


def test_the_palette_stays_apart_for_colour_blind_readers():
    colours = {name: getattr(P, name) for name in ("ORANGE", "SKY_BLUE", "YELLOW", "DARK_BLUE",
                                                   "VERMILLION", "PURPLE")}  # fmt: skip
    for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
        assert audit.confusable(ca, cb) is None, f"{a} and {b}"
    assert set(P.PALETTE) == set(colours.values())
    for role in (P.PREDICTION, P.GROUND_TRUTH, P.APPEARANCE, P.MOTION):
        assert role in P.PALETTE and role in P.COLOUR_NAMES
    assert (P.RED, P.GREEN, P.BLUE) == (P.PREDICTION, P.GROUND_TRUTH, P.MOTION)  # old names
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][:2] == ["#0072b2", "#e69f00"]


def test_a_bad_figure_is_flagged_and_a_good_one_passes():
    bad, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1], color=unit(OLD_RED), label="prediction")
    ax.plot([0, 1], [1, 0], color=unit(OLD_GREEN), label="truth")
    ax.set_title("six-point title", fontsize=6)
    problems = audit.audit_figure(bad)
    assert sorted(p.rule for p in problems) == ["colour", "text"]
    text = "\n".join(map(str, problems))
    assert "'six-point title': 6 pt, shown at 6.2 pt (minimum 8)" in text
    assert "#28c850 and #e63c28" in text and "deuteranopia" in text

    good, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1], color=P.hex_colour(P.PREDICTION), label="prediction")
    ax.plot([0, 1], [1, 0], color=P.hex_colour(P.GROUND_TRUTH), label="truth")
    ax.axhline(0.5, color="grey")  # greys are not data colours
    ax.set_title("ten-point title", fontsize=10)
    ax.legend()
    assert audit.audit_figure(good) == []


def test_text_is_measured_as_shown_in_a_notebook():
    def figure(width: float):
        fig, ax = plt.subplots(figsize=(width, 2))
        ax.set_title("eight points", fontsize=8)
        ax.tick_params(labelsize=9)
        return fig

    assert rules(figure(6)) == []  # shown at its size: 8 pt at 100 dpi is 8.3 CSS points
    assert rules(figure(14)) == ["text"]  # shrunk to 900 px: about 5.3 pt
    assert rules(figure(14), display_width=1400) == []
    assert rules(figure(6), dpi=72) == ["text"]  # fewer pixels per point: 6 pt on screen


def test_colour_maps_red_against_green_fail_the_perceptual_ones_pass():
    verdicts = {"RdYlGn": ["colour"], "jet": ["colour"], "viridis": [], "magma": [],
                "cividis": [], "RdBu_r": [], "PuOr": []}  # fmt: skip
    for cmap, expected in verdicts.items():
        fig, ax = plt.subplots(figsize=(3, 3))
        ax.imshow(np.random.default_rng(0).random((8, 8)), cmap=cmap)
        assert rules(fig) == expected, cmap


def test_a_colour_bar_must_sit_beside_its_picture():
    square = np.random.default_rng(0).random((8, 8))
    detached, ax = plt.subplots(figsize=(8, 3), layout="constrained")
    detached.colorbar(ax.imshow(square), ax=ax)  # the square image leaves the wide axes empty
    problems = audit.audit_figure(detached)
    assert [p.rule for p in problems] == ["colour bar"] and "axes 1" in str(problems[0])
    beside, ax = plt.subplots(figsize=(3, 3))
    beside.colorbar(ax.imshow(square), ax=ax, fraction=0.046, pad=0.04)
    assert rules(beside) == []


def test_overlapping_tick_labels_are_flagged():
    names = [f"sequence-{i}" for i in range(12)]
    for rotation, width, expected in [(0, 4, ["overlap"]), (60, 2, ["overlap"]), (60, 6, [])]:
        fig, ax = plt.subplots(figsize=(width, 3))
        ax.bar(range(12), range(12))
        ax.set_xticks(range(12), names, rotation=rotation, ha="right" if rotation else "center")
        assert rules(fig) == expected, (rotation, width)
    frames = [np.zeros((24, 32, 3), np.uint8)] * 6
    titles = [f"frame 0000{i}: J = 0.56" for i in range(6)]
    assert rules(viz.show_row(frames, titles)) == ["overlap"]  # they read as one line
    assert rules(viz.show_row(frames, [t.replace(": ", "\n") for t in titles])) == []


def test_save_figure_refuses_an_unreadable_figure_by_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(viz.FIGURES_ENV, str(tmp_path))
    monkeypatch.delenv(audit.MODE_ENV, raising=False)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], color=unit(OLD_RED))
    ax.plot([1, 0], color=unit(OLD_GREEN))
    with pytest.raises(audit.UnreadableFigure, match=r"^99_red_green\.png is hard to read:\n"):
        viz.save_figure(fig, "99_red_green")
    assert list(tmp_path.iterdir()) == []  # nothing written
    monkeypatch.setenv(audit.MODE_ENV, "warn")
    path = viz.save_figure(fig, "99_red_green")
    assert path.is_file() and "99_red_green.png is hard to read" in capsys.readouterr().out
    monkeypatch.setenv(audit.MODE_ENV, "wran")
    with pytest.raises(ValueError, match="FSNET_LAB_FIGURES must be 'warn' or unset"):
        viz.save_figure(fig, "99_red_green")


# ------------------------------------------------------------------ every course figure

SIZE = 64


def sample(i: int = 0, size: int = SIZE, sequence: str = "val-00-rounded-box-dots") -> Sample:
    g = torch.Generator().manual_seed(i)
    regions = np.zeros((size, size), np.uint8)
    s = size // 8
    regions[2 * s : 4 * s, 2 * s : 4 * s] = TARGET
    regions[5 * s : 7 * s, 1 * s : 3 * s] = DISTRACTOR
    regions[1 * s : 2 * s, 5 * s : 7 * s] = MOVING_OBJECT
    regions[5 * s : 7 * s, 5 * s : 7 * s] = MOVING_BACKGROUND
    image, flow = (torch.randn(1, 3, size, size, generator=g) for _ in range(2))
    return Sample(sequence, f"{i:05d}", image, flow, regions == TARGET, regions)


@pytest.fixture(scope="module")
def traces(tiny_fsnet):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    s = sample()
    with torch.no_grad():
        out = {
            mode: tiny_fsnet(rcam=mode).forward_with_intermediates(s.image, s.flow)
            for mode in ("full", "appearance_to_motion", "motion_to_appearance")
        }
    torch.set_num_threads(before)
    return out


def attributions(
    s: Sample, names=("integrated gradients", "occlusion", "Grad-CAM, stage 1")
) -> dict[str, CueAttribution]:
    g = torch.Generator().manual_seed(3)
    out = {}
    size = s.mask.shape[0]
    for name in names:
        image, flow = (torch.randn(1, 3, size, size, generator=g) for _ in range(2))
        out[name] = CueAttribution(name, image, flow, torch.zeros(1), torch.zeros(1))
    return out


def cue_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i, label in itertools.product(range(4), (TARGET, DISTRACTOR, MOVING_OBJECT)):
        image_total, flow_total = rng.normal(size=2)
        rows.append(
            dict(sequence=f"val-0{i}", frame="00000", label=label, region=str(label),
                 image_total=image_total, flow_total=flow_total,
                 image_share=abs(image_total) / (abs(image_total) + abs(flow_total)))
        )  # fmt: skip
    return pd.DataFrame(rows)


def frames(n: int = 4, h: int = 120, w: int = 160) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [(rng.random((h, w, 3)) * 255).astype(np.uint8) for _ in range(n)]


def course_figures(traces) -> dict[str, object]:
    """Every public figure function of the course, on small inputs shaped like the notebooks'."""
    truth = np.zeros((120, 160), bool)
    truth[30:90, 40:120] = True
    samples = [sample(i) for i in range(3)]
    big = [sample(i, 352, "breakdance-flare") for i in range(3)]
    probabilities = [np.clip(s.mask + 0.2 * np.random.default_rng(0).random(s.mask.shape), 0, 1)
                     for s in big]  # fmt: skip
    results = ablation_results.load_results()
    first = samples[0]
    return {
        "show_row (overlays)": lambda: viz.show_row(
            [viz.compare_overlay(f, truth, truth) for f in frames(5)],
            [f"prediction {i}\nJ = 0.93  F = 0.12" for i in range(5)],
            suptitle="Prediction (orange) against the truth (blue outline)",
        ),
        "show_row (maps)": lambda: viz.show_row(
            [truth, truth * 0.5], ["perfect", "timid (0.1 to 0.5)"], suptitle="Probability maps"
        ),
        "plot_predictions": lambda: viz.plot_predictions(
            big,
            probabilities,
            title="The authors' FSNet on DAVIS-2016 val, 352 x 352 inputs, "
            "dis flow: a title longer than its figure is wide",
        ),
        "plot_attention_vectors": lambda: viz.plot_attention_vectors(traces["full"]),
        "plot_attention_modes": lambda: viz.plot_attention_modes(traces),
        "plot_exchange": lambda: viz.plot_exchange(traces["full"], 1, frame=first.frame_rgb),
        "plot_pyramids": lambda: viz.plot_pyramids(
            traces["full"],
            title=f"Fused (F) and motion (G) pyramids around the BPM, {first.name}",
            frame=first.frame_rgb,
            mask=first.mask,
        ),
        "plot_cue_attribution": lambda: viz.plot_cue_attribution(first, attributions(first)),
        "plot_cue_attribution (real)": lambda: viz.plot_cue_attribution(
            big[0],
            attributions(big[0], ["integrated gradients"]),
            title=f"What moved the annotated object's logit in the authors' FSNet, {big[0].name}",
        ),
        "plot_cue_summary": lambda: viz.plot_cue_summary(cue_table()),
        "plot_ablations": lambda: ablation_results.plot_ablations(
            results, live={"full": 0.4, "rcam": 0.35}
        ),
    }


NAMES = [
    "show_row (overlays)",
    "show_row (maps)",
    "plot_predictions",
    "plot_attention_vectors",
    "plot_attention_modes",
    "plot_exchange",
    "plot_pyramids",
    "plot_cue_attribution",
    "plot_cue_attribution (real)",
    "plot_cue_summary",
    "plot_ablations",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_course_figure_passes_the_audit(name, traces):
    builders = course_figures(traces)
    assert set(builders) == set(NAMES)
    problems = audit.audit_figure(builders[name]())
    assert problems == [], "\n".join(map(str, problems))


def test_explorers_static_figures_pass_the_audit(tiny_fsnet):
    from fsnet_core.course.widgets import RCAMExplorer, VideoScrubber, flow_explorer

    pictures = frames(3)
    flows = [np.random.default_rng(i).normal(size=(120, 160, 2)).astype(np.float32)
             for i in range(2)]  # fmt: skip
    maps = [np.random.default_rng(i).random((120, 160)).astype(np.float32) for i in range(3)]
    explorers = [
        flow_explorer(pictures, {"dis": flows, "farneback": flows}, flows),
        VideoScrubber(pictures, maps, ["00000", "00001", "00002"]),
        RCAMExplorer(tiny_fsnet(), [sample(0, 128), sample(1, 128)], size=64),
    ]
    for explorer in explorers:
        problems = audit.audit_figure(explorer.figure(title="the frame with the lowest J"))
        assert problems == [], f"{type(explorer).__name__}: " + "\n".join(map(str, problems))


def test_widget_titles_stay_readable_at_the_size_they_are_shown():
    import cv2

    from fsnet_core.course.viz.panels import TITLE_SCALES, _fitted_title

    smallest = min(TITLE_SCALES)
    cap = cv2.getTextSize("H", cv2.FONT_HERSHEY_SIMPLEX, smallest, 1)[0][1]
    em_points = cap / 0.7 * 72 / audit.CSS_DPI  # capitals are about 0.7 of the type's size
    assert em_points >= audit.MIN_POINTS
    text, scale = _fitted_title("a title far too long for a panel of forty pixels", 40)
    assert scale == smallest and text.endswith("..")


def test_a_long_title_is_wrapped_to_its_figure_not_shrunk_with_it():
    frames = [np.zeros((24, 32, 3), np.uint8)] * 2
    title = "The lowest-J sequence of this run, with its mask and its true outline, " * 2
    fig = viz.show_row(frames, ["a", "b"], suptitle=title)
    plain, _ = plt.subplots(1, 2, figsize=fig.get_size_inches(), layout="constrained")
    plain.suptitle(title, fontsize=11)
    widths = []
    for f in (fig, plain):
        f.canvas.draw()
        widths.append(f._suptitle.get_window_extent().width / f.bbox.width)
    assert widths[0] <= 1 < widths[1]  # the plain title widens the saved picture
    assert "\n" in fig._suptitle.get_text() and audit.audit_figure(fig) == []
