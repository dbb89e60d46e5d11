"""The authors' released checkpoint as a weights descriptor, in torchvision's manner.

``FSNetWeights.DAVIS16_ICCV21`` says everything about the file without
fetching it: its address and file name, the configuration it fits, the input
transform it expects (``.transforms()``, an :class:`~fsnet_core.model.inputs.FSNetInputs`)
and the numbers published for it (``.meta["_metrics"]``), like
``torchvision.models.ResNet50_Weights``. It subclasses torchvision's
``WeightsEnum``, so ``FSNetWeights.verify("DAVIS16_ICCV21")`` and the ``url``,
``transforms`` and ``meta`` properties behave as there.

This layer never touches the network: :meth:`FSNetWeights.get_state_dict`
reads the local file (the torch hub cache, or a path) and names the file to
put where when it is missing. Downloading is the data layer's job:
``fsnet_core.fsnet(weights=..., progress=True)`` (in
:mod:`fsnet_core.data.pretrained`) fetches a missing file with the package's
downloader, then loads it here.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import torch
from torchvision.models import Weights, WeightsEnum

from .config import FSNetConfig
from .fsnet import FSNet
from .inputs import PAPER_SIZE, FSNetInputs
from .official import load_official_weights, read_state_dict

PAPER = (
    "Ji, Fu, Wu, Fan, Shen, Shao. Full-Duplex Strategy for Video Object Segmentation. "
    "ICCV 2021, arXiv:2108.03151"
)
README = "https://github.com/GewelsJI/FSNet#3-usage"

# The authors' README table for the released model on DAVIS-2016 val, U-VOS, "slight
# improvement" over the paper; in ``fsnet eval``'s keys and 0-1 scale.
_README_DAVIS16 = {
    "with_crf": {
        "J_mean": 0.834, "J_recall": 0.945, "J_decay": 0.032,
        "F_mean": 0.831, "F_recall": 0.902, "F_decay": 0.026, "T_mean": 0.213,
    },
    "without_crf": {
        "J_mean": 0.823, "J_recall": 0.943, "J_decay": 0.033,
        "F_mean": 0.833, "F_recall": 0.919, "F_decay": 0.028, "T_mean": 0.213,
    },
}  # fmt: skip
# The paper's Table 1 (DAVIS-2016 val, U-VOS), J and F mean on the same 0-1 scale.
_PAPER_TABLE1_DAVIS16 = {
    "with_crf": {"J_mean": 0.834, "F_mean": 0.831},
    "without_crf": {"J_mean": 0.821, "F_mean": 0.830},
}


class WeightsNotFound(FileNotFoundError):
    """The checkpoint file is not where it was looked for; the message says what to put where."""


class FSNetWeights(WeightsEnum):
    """Trained FSNet weights. One entry: the authors' ICCV 2021 release.

    ``meta["_metrics"]`` holds the published scores on the 0-1 scale of
    ``fsnet eval``: ``"davis16_val_readme"`` (the authors' README, measured
    with this file) and ``"davis16_val_paper"`` (the paper's Table 1), each
    ``with_crf`` and ``without_crf``.
    """

    DAVIS16_ICCV21 = Weights(
        url="https://drive.google.com/uc?export=download&id=1rXSG2ruiw1pzUJN-m8BJAfEcjxheYe0D",
        transforms=partial(FSNetInputs, size=PAPER_SIZE),
        meta={
            "file_name": "2021-ICCV-FSNet-20epoch-new.pth",
            "asset": "fsnet-checkpoint",  # its name for ``fsnet download``
            "config": FSNetConfig(),
            "key_layout": "authors' lib/fsnet.py names, DataParallel 'module.' prefix",
            "num_params": 83_415_746,  # this package's FSNet; the file also holds 18.9 M unused
            "input_size": (PAPER_SIZE, PAPER_SIZE),
            "paper": PAPER,
            "source": README,
            "recipe": (
                "RGB pretraining on DUTS + DAVIS16/FBMS frames, flow pretraining, then "
                "fine-tuning on DAVIS16 + FBMS train; SGD lr 2e-3, 20 epochs, 352 x 352, "
                "scales 0.75/1/1.25; FlowNet 2.0 flow as colour images"
            ),
            "_metrics": {
                "davis16_val_readme": _README_DAVIS16,
                "davis16_val_paper": _PAPER_TABLE1_DAVIS16,
            },
            "_docs": "The authors' released FSNet (ResNet-50 streams, N = 4 BPMs), 20 epochs.",
        },
    )

    @property
    def file_name(self) -> str:
        """The name the authors gave the file (and the one it is cached under)."""
        return self.meta["file_name"]

    @property
    def config(self) -> FSNetConfig:
        """The architecture these weights fit."""
        return self.meta["config"]

    def default_path(self) -> Path:
        """Where the file is looked for by default: the torch hub cache, as torchvision does."""
        return Path(torch.hub.get_dir()) / "checkpoints" / self.file_name

    def missing_message(self, path: Path) -> str:
        """One line naming the file, the place it should be and where to get it."""
        return (
            f"{path}: {self!r} checkpoint not found; download {self.url} "
            f"(the authors' README {self.meta['source']} lists a mirror) "
            f"and save it as {path} "
            f"(or run: fsnet download {self.meta['asset']} --dest {path.parent})"
        )

    def get_state_dict(  # type: ignore[override]
        self, path: str | Path | None = None, *args: Any, **kwargs: Any
    ) -> dict[str, torch.Tensor]:
        """The checkpoint's state dict (authors' keys) from ``path`` or :meth:`default_path`.

        Never downloads; a missing file raises :class:`WeightsNotFound` with
        the one-line instruction of :meth:`missing_message`.
        """
        file = Path(path) if path is not None else self.default_path()
        if not file.is_file():
            raise WeightsNotFound(self.missing_message(file))
        return read_state_dict(file)

    def build(self, path: str | Path | None = None) -> FSNet:
        """An eval-mode :class:`FSNet` of :attr:`config` with these weights, loaded strictly
        from the local file (see :meth:`get_state_dict`; never downloads)."""
        model = load_official_weights(FSNet(self.config), self.get_state_dict(path))
        return model.eval()  # type: ignore[return-value]


__all__ = ["FSNetWeights", "WeightsNotFound"]
