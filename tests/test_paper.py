"""The paper's numbers: config names that build, and agreement with the shared facts file."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from fsnet_core import FSNetConfig
from fsnet_core.course import paper

FACTS = Path(__file__).resolve().parents[1].parent / "shared" / "fsnet_paper_facts.md"
TABLES = [paper.table3_components, paper.table4_num_bpm, paper.table5_directions]


@pytest.mark.parametrize("table", TABLES)
def test_config_columns_build_models(table):
    for row in table().itertuples():
        if pd.isna(row.rcam):
            continue
        cfg = FSNetConfig(rcam=row.rcam, bpm=row.bpm, num_bpm=int(row.num_bpm))
        assert cfg.num_bpm == row.num_bpm


def test_full_duplex_n4_is_the_same_model_in_every_table():
    """FSNet (N = 4, full duplex) appears in Tables 3, 4 and 5 with the same scores."""
    scores = ["davis_s_alpha", "davis_mae", "mcl_s_alpha", "mcl_mae"]
    rows = []
    for table in TABLES:
        t = table()
        rows.append(t[(t.rcam == "full") & (t.bpm == "both") & (t.num_bpm == 4)][scores])
    both = pd.concat(rows)
    assert len(both) == 3 and (both.nunique() == 1).all()


def test_table5_arrows_follow_the_config_docstring():
    t = paper.table5_directions().set_index(["rcam", "bpm"])
    assert t.loc[("appearance_to_motion", "purify"), "rcam_arrow"] == "App. => Mo."
    assert t.loc[("motion_to_appearance", "enrich"), "bpm_arrow"] == "(App.+Mo.) <= Mo."


def _facts_rows(header: str) -> list[list[str]]:
    """Table rows (cells) of the markdown table following ``header`` in the facts file."""
    text = FACTS.read_text()
    start = text.index(header)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header row


@pytest.fixture()
def facts():
    if not FACTS.is_file():
        pytest.skip("../shared/fsnet_paper_facts.md is not present")
    return FACTS


def test_table4_matches_the_facts_file(facts):
    rows = _facts_rows("Table 4 (number of BPMs")
    ours = paper.table4_num_bpm()
    assert len(rows) == len(ours)
    for cells, row in zip(rows, ours.itertuples(), strict=True):
        numbers = [float(c) for c in cells]
        assert numbers == [
            row.num_bpm,
            row.params_m,
            row.gflops,
            row.seconds_per_frame,
            row.davis_s_alpha,
            row.davis_mae,
            row.mcl_s_alpha,
            row.mcl_mae,
        ]


def test_tables_3_and_5_match_the_facts_file(facts):
    for header, table in (
        ("Table 3 (components)", paper.table3_components()),
        ("Table 5 (direction of RCAM", paper.table5_directions()),
    ):
        rows = _facts_rows(header)
        assert len(rows) == len(table)
        for cells, row in zip(rows, table.itertuples(), strict=True):
            assert [float(c) for c in cells[-4:]] == [
                row.davis_s_alpha,
                row.davis_mae,
                row.mcl_s_alpha,
                row.mcl_mae,
            ]


def test_fig2_matches_the_facts_file(facts):
    line = next(x for x in facts.read_text().splitlines() if x.startswith("N = 0: J"))
    pairs = [tuple(map(float, p)) for p in re.findall(r"(\d+\.\d) / (\d+\.\d)", line)]
    first = re.search(r"J ≈ (\d+\.\d), F ≈ (\d+\.\d)", line)
    ours = paper.fig2_num_bpm_jf()
    assert [tuple(map(float, first.groups())), *pairs] == list(zip(ours.J, ours.F, strict=True))


def test_readme_table_matches_the_facts_file_and_eval_keys():
    from fsnet_core.metrics.evaluate import UVOS_KEYS

    table = paper.readme_davis16_uvos()
    assert list(table.columns) == list(UVOS_KEYS)
    assert table.loc[True, "J_mean"] == 0.834 and table.loc[False, "F_recall"] == 0.919
    if not FACTS.is_file():
        pytest.skip("../shared/fsnet_paper_facts.md is not present")
    text = FACTS.read_text()
    for crf, label in ((True, "w/ CRF"), (False, "w/o CRF")):
        line = next(x for x in text.splitlines() if x.startswith(f"| FSNet ({label}) | 0."))
        values = [float(v) for v in line.split("|")[2:-1]]
        assert values == table.loc[crf].tolist()
