"""The course notebooks: stored clean, shaped alike, and every one runs in SMOKE mode.

Every ``notebooks/*.ipynb`` is picked up automatically. The execution tests
(marked slow) run each notebook top to bottom through the same runner as
``make run`` and check that it wrote its figures; the structure tests read
the stored files only.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from fsnet_core import cli
from fsnet_core.course import model_cache
from fsnet_core.data.synthetic import SyntheticConfig
from fsnet_core.harness.budgets import timing_table
from fsnet_core.harness.notebooks import (
    KERNEL_NAME,
    NOTEBOOK_DIR,
    REPO_ROOT,
    REPO_URL,
    SETUP_CELL,
    NotebookFailed,
    colab_badge,
    ensure_kernel,
    execute_notebook,
    find_notebooks,
    select_notebooks,
)

NOTEBOOKS = find_notebooks()
IDS = [p.stem for p in NOTEBOOKS]


def read(path):
    return nbformat.read(path, as_version=4)


def tagged(nb, tag: str) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if tag in c.metadata.get("tags", [])]


def test_the_course_is_there():
    names = [p.stem for p in NOTEBOOKS]
    for expected in ("00_quickstart", "01_optical_flow", "05_evaluation"):
        assert expected in names
    assert names == sorted(names) and all(re.match(r"\d\d_[a-z0-9_]+$", n) for n in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_stored_without_outputs(path):
    nb = read(path)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {i + 1} has stored outputs"
            assert cell.execution_count is None, f"{path.name}: cell {i + 1} has an execution count"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_opens_with_badge_setup_and_one_parameter_cell(path):
    nb = read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and colab_badge(path.stem) in first.source, (
        f"{path.name}: the first cell must carry the Colab badge {colab_badge(path.stem)}"
    )
    params = tagged(nb, "parameters")
    assert len(params) == 1, f"{path.name}: {len(params)} cells tagged 'parameters', want one"
    assert re.match(r"SMOKE = None\b", nb.cells[params[0]].source), (
        f"{path.name}: the parameters cell must start with SMOKE = None"
    )
    choice = nb.cells[params[0] + 1]  # runs after the values papermill injects
    assert choice.cell_type == "code" and re.search(
        r"^SMOKE = choose_smoke\(\s*SMOKE,", choice.source, re.M
    ), f"{path.name}: the cell after the parameters must choose: SMOKE = choose_smoke(SMOKE, ...)"
    setup = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "google.colab" in c.source and f"git+{REPO_URL}" in c.source
    ]
    assert setup and setup[0] < params[0], f"{path.name}: no Colab set-up cell before parameters"
    assert "torch.cuda.is_available()" in nb.cells[setup[0]].source  # detects the GPU
    assert nb.cells[setup[0]].source == SETUP_CELL, (
        f"{path.name}: the set-up cell differs from SETUP_CELL in fsnet_core/harness/notebooks.py"
    )
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
    for words in ("learn", "running time", "what to notice", "exercise"):
        assert words in text, f"{path.name}: no '{words}' in the markdown"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "save_figure(" in code, f"{path.name}: saves no figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_does_not_import_the_harness(path):
    """The harness runs notebooks; a notebook that imported it would need the runner's extras."""
    code = "\n".join(c.source for c in read(path).cells if c.cell_type == "code")
    assert not re.search(r"^\s*(from|import) fsnet_core\.harness\b", code, re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_exercise_has_a_collapsed_solution_or_check(path):
    markdown = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    start = re.search(r"^## Exercises?$", markdown, flags=re.M)
    assert start, f"{path.name}: no exercise section"
    section = markdown[start.end() :]
    section = section[: m.start()] if (m := re.search(r"^## ", section, flags=re.M)) else section
    exercises = re.findall(r"^\d+\. ", section, flags=re.M)
    answers = re.findall(r"<details>\s*<summary>[^<]*(?:Solution|Check|check)", section)
    assert exercises, f"{path.name}: an exercise section without exercises"
    assert len(answers) >= len(exercises), (
        f"{path.name}: {len(exercises)} exercises but {len(answers)} collapsed solutions or checks"
    )


# ------------------------------------------------------------------ the prose and the configuration

# Which course models each notebook's prose describes: SMOKE = True, SMOKE = False.
DESCRIBES: dict[str, set[bool]] = {"00_quickstart": {True, False}, "02_rcam_attention": {True}}
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
# How the prose names a course model: "16 channels, one BPM, 64 x 64 inputs, three short
# epochs" (SMOKE) or "32 channels, two BPMs, 16 epochs at 96 x 96" (the smoke preset).
MODEL_PHRASE = re.compile(
    r"(?P<channels>\d+) channels, (?P<bpm>\w+) BPMs?, (?:"
    r"(?P<size>\d+) x (?P=size) inputs, (?P<epochs>\w+) short epochs"
    r"|(?P<preset_epochs>\w+) epochs at (?P<preset_size>\d+) x (?P=preset_size))"
)


def markdown(path) -> str:
    """The notebook's text cells, joined, with every run of white space one space."""
    return " ".join(
        "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown").split()
    )


def number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def described_models(text: str) -> set[tuple[int, int, int, int]]:
    """(channels, BPMs, input size, epochs) of every course model ``text`` describes."""
    return {
        (
            number(m["channels"]),
            number(m["bpm"]),
            number(m["size"] or m["preset_size"]),
            number(m["epochs"] or m["preset_epochs"]),
        )
        for m in MODEL_PHRASE.finditer(text)
    }


def test_described_models_reads_both_phrasings():
    text = "A model (16 channels, one BPM, 64 x 64 inputs, three short epochs) or 32 channels, "
    text += "two BPMs, 16 epochs at 96 x 96; not 8 channels, one BPM, 64 x 32 inputs."
    assert described_models(text) == {(16, 1, 64, 3), (32, 2, 96, 16)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_prose_describes_the_course_model_as_configured(path, monkeypatch, tmp_path):
    """What a notebook's text says of the model ``notebook_config`` builds (in each mode it
    describes) is what the configuration holds: a changed preset shows here, not in class."""
    monkeypatch.setattr(model_cache, "synthetic_root", lambda: tmp_path)  # no data generated
    monkeypatch.delenv(model_cache.CONFIG_ENV, raising=False)
    configs = [model_cache.notebook_config(smoke) for smoke in DESCRIBES.get(path.stem, ())]
    expected = {(c.model.channels, c.model.num_bpm, c.size, c.epochs) for c in configs}
    assert described_models(markdown(path)) == expected


def test_the_quickstart_describes_the_built_in_clips_as_generated():
    text = markdown(NOTEBOOK_DIR / "00_quickstart.ipynb")
    train = re.search(r"training clips are many and short \((\d+) frames", text)
    val = re.search(r"validation clips, which we look at, have (\d+) frames", text)
    assert train and val, "00_quickstart no longer says how long the built-in clips are"
    built = SyntheticConfig()  # what synthetic_root() generates
    assert (int(train[1]), int(val[1])) == (built.train_frames, built.frames)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_in_smoke_mode_and_writes_figures(path, tmp_path):
    figures = tmp_path / "figures"
    run = execute_notebook(path, tmp_path / "executed", smoke=True, figures_dir=figures)
    executed = read(run.output)
    errors = [
        o
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert not errors
    written = sorted(p.name for p in figures.glob("*.png"))
    assert written, f"{path.name} wrote no figure to $FSNET_FIGURES_DIR"
    prefix = path.stem[:3]
    assert all(name.startswith(prefix) for name in written), written
    injected = tagged(executed, "injected-parameters")
    assert injected and "SMOKE = True" in executed.cells[injected[0]].source
    said = "".join(o.get("text", "") for o in executed.cells[injected[0] + 1].outputs)
    assert said.startswith("SMOKE on: SMOKE = True was set"), said  # the choice, in one line


# ------------------------------------------------------------------ the runner itself


def tiny_notebook(path, cells):
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(src) for src in cells])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)
    return path


def test_runner_injects_parameters_and_names_the_failing_cell(tmp_path):
    source = tiny_notebook(
        tmp_path / "99_broken.ipynb",
        [
            "SMOKE = False\nSIZE = 1",
            "import os\nprint('values', SMOKE, SIZE, os.environ['FSNET_FIGURES_DIR'])",
            "ratio = SIZE / 0",
        ],
    )
    figures = tmp_path / "figs"
    with pytest.raises(NotebookFailed) as failure:
        execute_notebook(
            source, tmp_path / "out", smoke=True, parameters={"SIZE": 3}, figures_dir=figures
        )
    message = str(failure.value)
    assert message.startswith("99_broken.ipynb failed in cell 3:")
    assert "ratio = SIZE / 0" in message and "ZeroDivisionError" in message
    assert failure.value.cell == 3
    executed = read(tmp_path / "out" / "99_broken.ipynb")  # kept for inspection
    printed = "".join(
        o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
    )
    assert f"values True 3 {figures.resolve()}" in printed


def test_the_runner_always_passes_smoke(tmp_path, monkeypatch):
    """`make run` (`fsnet run-all`), `--no-smoke` and CI's tests inject SMOKE as True or
    False, so the notebooks' `SMOKE = None` (choose from the machine's GPU) never decides."""
    import papermill

    import fsnet_core.harness.notebooks as harness

    injected = []
    monkeypatch.setattr(
        papermill, "execute_notebook", lambda *a, parameters, **k: injected.append(parameters)
    )
    monkeypatch.setattr(harness, "ensure_kernel", lambda name=KERNEL_NAME: name)
    out = ["--out", str(tmp_path / "out"), "--figures", str(tmp_path / "figs")]
    assert cli.main(["run-all", "--only", "00", *out]) == 0
    assert cli.main(["run-all", "--only", "00", "--no-smoke", *out]) == 0
    assert [p["SMOKE"] for p in injected] == [True, False]
    makefile = (REPO_ROOT / "Makefile").read_text()  # make run: run-all, no --no-smoke
    assert re.search(r"^run: .*\n\t\$\(PY\) -m fsnet_core run-all$", makefile, re.M)
    for smoke in (None, "False"):
        with pytest.raises(TypeError, match=f"smoke must be True or False, got {smoke!r}"):
            execute_notebook(NOTEBOOKS[0], tmp_path, smoke=smoke)
    with pytest.raises(ValueError, match="pass SMOKE as smoke=True or False"):
        execute_notebook(NOTEBOOKS[0], tmp_path, parameters={"SMOKE": None})
    assert len(injected) == 2


def test_select_notebooks_by_prefix(tmp_path):
    paths = [tmp_path / f"{n}.ipynb" for n in ("00_a", "01_b", "05_c")]
    assert select_notebooks(paths, None) == paths
    assert select_notebooks(paths, ["01", "05_c"]) == paths[1:]
    with pytest.raises(ValueError, match="no notebook matches 07"):
        select_notebooks(paths, ["07"])


def test_run_all_command_reports_an_unknown_notebook(capsys):
    assert cli.main(["run-all", "--only", "zz"]) == 1
    assert "no notebook matches zz" in capsys.readouterr().err


def test_kernel_runs_this_interpreter():
    import sys

    from jupyter_client.kernelspec import KernelSpecManager

    name = ensure_kernel()
    argv0 = KernelSpecManager().get_kernel_spec(name).argv[0]
    assert argv0 in ("python", "python3", sys.executable) or argv0.startswith("python3.")


def test_timing_table_totals_the_runs(tmp_path):
    from fsnet_core.harness.notebooks import NotebookRun

    runs = [
        NotebookRun("00_quickstart", tmp_path, tmp_path, 12.0),
        NotebookRun("01_optical_flow", tmp_path, tmp_path, 30.5),
    ]
    table = timing_table(runs)
    assert "00_quickstart       12.0  (budget 120 s on 2 cores, cold: within)" in table
    assert "01_optical_flow     30.5\n" in table  # no budget of its own
    assert table.splitlines()[-1].split()[:2] == ["total", "42.5"]
    assert table.endswith("(budget 900 s on 2 cores, cold: within)")
    slow = timing_table([NotebookRun("00_quickstart", tmp_path, tmp_path, 130.0)])
    assert "cold: OVER" in slow.splitlines()[1]


def test_a_kernel_of_another_python_is_replaced_in_this_environment(monkeypatch):
    import sys
    from types import SimpleNamespace

    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager

    argv = ["/opt/other/bin/python3.9", "-m", "ipykernel_launcher"]
    installs = []

    def fake_install(kernel_name, prefix):
        installs.append((kernel_name, prefix))
        argv[0] = sys.executable

    monkeypatch.setattr(
        KernelSpecManager, "get_kernel_spec", lambda self, name: SimpleNamespace(argv=list(argv))
    )
    monkeypatch.setattr(ipykernel.kernelspec, "install", fake_install)
    assert ensure_kernel("python3") == "python3"
    assert installs == [("python3", sys.prefix)]
    assert ensure_kernel("python3") == "python3" and len(installs) == 1  # now it is fine

    def shadowed_install(kernel_name, prefix):
        installs.append((kernel_name, prefix))

    argv[0] = "/opt/other/bin/python3.9"
    monkeypatch.setattr(ipykernel.kernelspec, "install", shadowed_install)
    with pytest.raises(RuntimeError, match="does not run"):
        ensure_kernel("python3")
