"""Optional packages: a missing one is named with the pip command that adds it."""

from __future__ import annotations

import sys

import pytest

from fsnet_core.extras import MissingExtra, available, install_hint, require


def _hide(monkeypatch, name: str) -> None:
    """Make ``name`` (and its submodules) unimportable, as if it were not installed."""
    for key in [k for k in sys.modules if k.startswith(name + ".")]:
        monkeypatch.delitem(sys.modules, key)
    monkeypatch.setitem(sys.modules, name, None)


def test_install_hint_names_the_extra():
    assert install_hint("pydensecrf.densecrf") == 'pip install "fsnet-lab[crf]"'
    assert install_hint("py_sod_metrics") == 'pip install "fsnet-lab[vsod]"'
    assert available("numpy") and not available("pydensecrf_not_a_module")


def test_refine_without_densecrf_says_how_to_add_it(monkeypatch):
    import numpy as np

    from fsnet_core.inference.crf import refine

    _hide(monkeypatch, "pydensecrf")
    with pytest.raises(MissingExtra) as error:
        refine(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.float32))
    message = str(error.value)
    assert "\n" not in message and message.endswith('pip install "fsnet-lab[crf]"')
    assert isinstance(error.value, ImportError) and isinstance(error.value, RuntimeError)


def test_infer_crf_without_densecrf_is_one_line(monkeypatch, tmp_path, capsys):
    from fsnet_core import cli

    _hide(monkeypatch, "pydensecrf")
    args = ["infer", "--checkpoint", str(tmp_path / "x.pt"), "--data", str(tmp_path)]
    assert cli.main(args + ["--out", str(tmp_path / "out"), "--crf"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "fsnet-lab[crf]"' in err[0]


def test_training_logs_without_tensorboard(monkeypatch, tmp_path):
    from fsnet_core.train import logs

    monkeypatch.setattr(logs, "available", lambda module: False)
    with pytest.warns(UserWarning, match=r"fsnet-lab\[tensorboard\]"):
        logger = logs.RunLogger(tmp_path / "stage-x")
    logger.step(1, {"loss": 1.0})
    logger.close()
    assert logger.writer is None and not (tmp_path / "stage-x" / "tensorboard").exists()
    require("numpy", "anything")  # an installed module imports as usual
