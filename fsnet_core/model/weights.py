"""The authors' released checkpoint as a weights descriptor, in torchvision's manner.

``FSNetWeights.DAVIS16_ICCV21`` says everything about the file without
fetching it: its address and file name, the configuration it fits, the input
transform it expects (``.transforms()``, an :class:`~fsnet_core.model.inputs.FSNetInputs`)
and the numbers published for it (``.meta["_metrics"]``), like
``torchvision.models.ResNet50_Weights``. It subclasses torchvision's
``WeightsEnum``, so ``FSNetWeights.verify("DAVIS16_ICCV21")`` and the ``url``,
``transforms`` and ``meta`` properties behave as there.

The builder :func:`fsnet` sits beside it, as torchvision keeps ``resnet50``
beside ``ResNet50_Weights``. This layer fetches only through the floor's one
fetch path (:func:`fsnet_core.io.weights_file`): :meth:`FSNetWeights.get_state_dict`
takes torch.hub's arguments as ``WeightsEnum``'s does and downloads a missing
file into the torch hub cache; offline, :class:`~fsnet_core.io.WeightsUnavailable`
says in one line which file to put where.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import torch
from torchvision.models import Weights, WeightsEnum

from ..io import WeightsUnavailable, check_digest, hub_checkpoint_path, weights_file
from .architecture import FSNet
from .config import FSNetConfig
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


AUTHORS_CHECKPOINT_SHA256: str | None = None
"""The SHA-256 of the authors' released file, pinned as torchvision pins its weights.

Not recorded yet: the file was not at hand where this was written, and a
digest must never be guessed. Once set, every copy is refused unless it
matches (downloaded from the authors' address, ``--url`` or
``$FSNET_LAB_MIRROR``, found in the cache, or passed as a path); until then a
copy fetched from anywhere but the authors' address gets a one-line note that
it could not be verified against a pinned digest.
"""


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
            "sha256": AUTHORS_CHECKPOINT_SHA256,
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
        return hub_checkpoint_path(self.file_name)

    def local_file(
        self,
        model_dir: str | Path | None = None,
        progress: bool = True,
        check_hash: bool = True,
        file_name: str | None = None,
        *,
        source: str | None = None,
    ) -> Path:
        """The checkpoint on disk: in ``model_dir`` (default: the torch hub cache), downloaded
        there first when missing (from ``source`` if given, else ``$FSNET_LAB_MIRROR`` if
        set, else :attr:`url`), checked against the pinned digest when one is recorded."""
        folder = Path(model_dir) if model_dir is not None else self.default_path().parent
        return weights_file(
            self.url,
            what=f"{self!r} checkpoint",
            file_name=file_name or self.file_name,
            folder=folder,
            sha256=self.meta["sha256"],
            source=source,
            check_hash=check_hash,
            progress=progress,
            advice=(
                f" (the authors' README {self.meta['source']} lists a mirror; or run: "
                f"fsnet download {self.meta['asset']} --dest {folder})"
            ),
        )

    def get_state_dict(
        self,
        model_dir: str | Path | None = None,
        map_location: str | torch.device | None = None,
        progress: bool = True,
        check_hash: bool = True,
        file_name: str | None = None,
    ) -> dict[str, torch.Tensor]:
        """The checkpoint's state dict (authors' keys), as ``WeightsEnum.get_state_dict``:
        torch.hub's ``load_state_dict_from_url`` arguments, the file fetched by
        :meth:`local_file` and always loaded with ``weights_only=True``."""
        file = self.local_file(model_dir, progress, check_hash, file_name)
        state = read_state_dict(file)
        if map_location is not None:
            state = {k: v.to(map_location) for k, v in state.items()}
        return state

    def build(self, path: str | Path | None = None, *, progress: bool = True) -> FSNet:
        """An eval-mode :class:`FSNet` of :attr:`config` with these weights, loaded strictly:
        from the local file ``path`` when given (never downloaded), else from
        :meth:`get_state_dict` (the torch hub cache, downloaded when missing)."""
        if path is None:
            state = self.get_state_dict(progress=progress)
        else:
            path = Path(path)
            if not path.is_file():
                raise WeightsUnavailable(
                    path,
                    f"{self!r} checkpoint not found (no such file); pass no path to use "
                    f"the torch hub cache's copy, downloaded when missing",
                )
            if self.meta["sha256"]:
                check_digest(path, self.meta["sha256"])
            state = read_state_dict(path)
        model = load_official_weights(FSNet(self.config), state)
        return model.eval()  # type: ignore[return-value]


def fsnet(
    *,
    weights: FSNetWeights | str | None = None,
    progress: bool = True,
    path: str | Path | None = None,
    **kwargs: Any,
) -> FSNet:
    """An FSNet, in torchvision's builder manner (``resnet50(weights=..., progress=True)``).

    ``weights=None`` builds an untrained model (``kwargs`` go to
    :class:`FSNet`, as for ablations). With weights, the eval-mode model they
    fit (``kwargs`` are refused), loaded strictly from the local file ``path``
    or from the torch hub cache, where a missing file is downloaded first
    (``progress`` shows a bar). Use ``weights.transforms()`` to prepare inputs.
    """
    weights = FSNetWeights.verify(weights)
    if weights is None:
        return FSNet(**kwargs)
    if kwargs:
        raise ValueError(f"{weights!r} fits {weights.config} only; got overrides {sorted(kwargs)}")
    return weights.build(path, progress=progress)


__all__ = ["AUTHORS_CHECKPOINT_SHA256", "FSNetWeights", "fsnet"]
