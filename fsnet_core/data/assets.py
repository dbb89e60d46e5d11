"""The public files FSNet Lab can fetch: where each comes from and what it becomes on disk.

Every entry records its address, what the download unpacks to, and which
loader reads the result, so ``fsnet download --list`` doubles as a map of the
data the paper used. The FSNet files are the Google Drive links of the
authors' README (github.com/GewelsJI/FSNet); the Baidu mirrors listed there
are kept as the manual fallback. Sizes and SHA-256 digests of the Drive files
are not published, so only the transfer length and archive integrity are
checked for them; torchvision's files carry the first 8 hex digits of their
SHA-256 in their names, and those are checked. A digest recorded here (full
or a name's prefix) is enforced on every copy, from any source: the asset's
own address, ``--url`` or ``$FSNET_LAB_MIRROR``. The authors' checkpoint's
pin is :data:`fsnet_core.model.weights.AUTHORS_CHECKPOINT_SHA256`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..io import InputError, davis, hub_checkpoint_path
from ..model.weights import FSNetWeights

FSNET_README = "https://github.com/GewelsJI/FSNet#3-usage"
DRIVE_DOWNLOAD = "https://drive.google.com/uc?export=download&id={}"
# ``default_dest`` of files kept in the torch hub cache (``$TORCH_HOME/hub/checkpoints``).
HUB_CACHE = "<torch hub cache>"


def drive_url(file_id: str) -> str:
    """The direct-download address of a public Google Drive file."""
    return DRIVE_DOWNLOAD.format(file_id)


def davis2016_imagesets(root: Path) -> None:
    """Add ``ImageSets/2016/{train,val}.txt`` (sequence names) to an unpacked DAVIS-2016.

    The official DAVIS-2016 archive lists frame pairs in ``ImageSets/480p``
    (lines like ``/JPEGImages/480p/bear/00000.jpg /Annotations/...``); the
    loaders read the sequence lists of the later DAVIS releases.
    """
    for split in ("train", "val"):
        listing = root / davis.IMAGESETS / davis.RESOLUTION / f"{split}.txt"
        if not listing.is_file():
            raise InputError(listing, "DAVIS-2016 split list missing from the archive")
        davis.write_split_list(root, split, davis.read_split_list(listing))


@dataclass(frozen=True)
class Asset:
    """One downloadable file.

    ``kind`` is ``"archive"`` (unpacked into the folder ``target``),
    ``"file"`` (kept as ``target``) or ``"torch-weights"`` (a file for the
    torch hub cache, where torchvision finds it). ``target`` is relative to
    the destination folder, whose default is ``default_dest`` (:data:`HUB_CACHE`:
    the torch hub cache, as for the authors' checkpoint).
    """

    name: str
    description: str
    url: str
    filename: str
    kind: str
    target: str
    reads_it: str
    source: str
    default_dest: str = "data"
    size: int | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None
    expect: tuple[str, ...] = ()
    manual: str = ""
    after_unpack: Callable[[Path], None] | None = None

    def destination(self, dest: str | os.PathLike | None = None) -> Path:
        """The folder the asset goes into: ``dest``, or its default."""
        if dest is not None:
            return Path(dest)
        if self.in_hub_cache:
            return hub_checkpoint_path(self.filename).parent  # where torchvision looks
        return Path(self.default_dest)

    @property
    def in_hub_cache(self) -> bool:
        """Whether its default place is the torch hub cache (weights), not a folder of data."""
        return self.kind == "torch-weights" or self.default_dest == HUB_CACHE

    @property
    def digest(self) -> str | None:
        """The SHA-256 every copy must have: the full one if recorded, else its prefix."""
        return self.sha256 or self.sha256_prefix

    @property
    def is_drive(self) -> bool:
        return "drive.google.com" in self.url


def _from_fsnet_readme(url: str, baidu: str) -> dict[str, str]:
    """Address, source and manual fallback shared by the authors' Drive files."""
    return {
        "url": url,
        "source": FSNET_README,
        "manual": f"Baidu mirror from the authors' README: {baidu}",
    }


# The checkpoint's address and file name live with its weights descriptor (model layer).
_CHECKPOINT = FSNetWeights.DAVIS16_ICCV21


def _torchvision(name: str, url: str, description: str, reads_it: str) -> Asset:
    filename = url.rsplit("/", 1)[-1]
    return Asset(
        name=name,
        description=description,
        url=url,
        filename=filename,
        kind="torch-weights",
        target=filename,
        reads_it=reads_it,
        source="https://pytorch.org/vision/stable/models.html",
        sha256_prefix=filename.rsplit("-", 1)[-1].split(".")[0],
    )


ASSETS: tuple[Asset, ...] = (
    Asset(
        name=_CHECKPOINT.meta["asset"],
        **_from_fsnet_readme(
            _CHECKPOINT.url, "https://pan.baidu.com/s/1GRUg-n1EEV_nku-2nG3QRw (code 36lm)"
        ),
        description="the authors' trained FSNet (ResNet-50 streams, 20 epochs)",
        filename=_CHECKPOINT.file_name,
        kind="file",
        target=_CHECKPOINT.file_name,
        reads_it="fsnet_core.fsnet(weights=FSNetWeights.DAVIS16_ICCV21), fsnet segment, "
        "load_model, load_official_weights (official key layout)",
        default_dest=HUB_CACHE,  # where FSNetWeights.default_path() looks, as torchvision does
        sha256=_CHECKPOINT.meta["sha256"],  # None until recorded: then enforced from any source
    ),
    Asset(
        name="fsnet-testset",
        **_from_fsnet_readme(
            drive_url("1ZjJoCy8YVLbDlHZXHTZHx7cdaonePlqp"),
            "https://pan.baidu.com/s/1lTYWFXvOnAkmH5EdvHgeyQ (code aaw8)",
        ),
        description="the authors' test sets: DAVIS16, FBMS, SegTrack-V2, MCL, DAVSOD with "
        "their FlowNet2 flow images",
        filename="TestSet.zip",
        kind="archive",
        target="TestSet",
        reads_it="authors' test layout: TestSet/DATASET/SEQ/{Frame,OF_FlowNet2,GT}",
        expect=("DAVIS",),
    ),
    Asset(
        name="fsnet-trainset-video",
        **_from_fsnet_readme(
            drive_url("1aoneB-wbnATRHV8OVcjNd5zBlGOxftQv"),
            "https://pan.baidu.com/s/12l1VVZqQsQJL5clty10DbQ (code u01t)",
        ),
        description="the authors' video training set (DAVIS16 + FBMS train) with flow images, "
        "for the flow pretraining and fine-tuning stages",
        filename="VOS-TrainSet_Video.zip",
        kind="archive",
        target="TrainSet_Video",
        reads_it="authors' training layout: TrainSet_Video/{Imgs,Flow,ground-truth}",
        expect=("Imgs", "Flow", "ground-truth"),
    ),
    Asset(
        name="fsnet-trainset-static-video",
        **_from_fsnet_readme(
            drive_url("1NKjAwqbd6nd1SrlgCB3C1UP5dhouSeIF"),
            "https://pan.baidu.com/s/12l1VVZqQsQJL5clty10DbQ (code u01t)",
        ),
        description="the authors' RGB pretraining set: DUTS (12,926 images) + DAVIS16 and FBMS "
        "frames (2,373)",
        filename="VOS-TrainSet_StaticAndVideo.zip",
        kind="archive",
        target="TrainSet_StaticAndVideo",
        reads_it="authors' RGB pretraining layout: TrainSet_StaticAndVideo/{Imgs,GTs}",
        expect=("Imgs", "GTs"),
    ),
    Asset(
        name="fsnet-results-uvos",
        **_from_fsnet_readme(
            drive_url("1p3CGVyHuHfrCi6xaNtUdbrFa08H4Uj-b"),
            "https://pan.baidu.com/s/12fvRu-_Ca9qzYJVnmcucKA (code ojsl)",
        ),
        description="the authors' pre-computed U-VOS predictions (binary maps, DAVIS16 and more)",
        filename="FSNet-UVOS-results.zip",
        kind="archive",
        target="FSNet-UVOS",
        reads_it="prediction folders DATASET/SEQ/FRAME.png for fsnet_core.metrics (J, F, T)",
        default_dest="results",
    ),
    Asset(
        name="fsnet-results-vsod",
        **_from_fsnet_readme(
            drive_url("1gScv9xmFRN6hX0ZehDMXhwtm6oNobkke"),
            "https://pan.baidu.com/s/1xWvuTIXM6YujhYFaWC9hsQ (code rgk1)",
        ),
        description="the authors' pre-computed V-SOD saliency maps (non-binary)",
        filename="FSNet-VSOD-results.zip",
        kind="archive",
        target="FSNet-VSOD",
        reads_it="prediction folders DATASET/SEQ/FRAME.png for fsnet_core.metrics (S, E, F, MAE)",
        default_dest="results",
    ),
    Asset(
        name="davis-2016",
        description="DAVIS-2016 (50 sequences, 480p and 1080p) from its official site",
        url="https://graphics.ethz.ch/Downloads/Data/Davis/DAVIS-data.zip",
        filename="DAVIS-data.zip",
        kind="archive",
        target="DAVIS",
        reads_it="DAVIS layout: JPEGImages/480p/SEQ, Annotations/480p/SEQ, ImageSets/2016",
        source="https://davischallenge.org/davis2016/code.html",
        expect=("JPEGImages/480p", "Annotations/480p", "ImageSets/480p"),
        after_unpack=davis2016_imagesets,
    ),
    _torchvision(
        "resnet50-imagenet",
        "https://download.pytorch.org/models/resnet50-0676ba61.pth",
        "torchvision ResNet-50 IMAGENET1K_V1, the backbone initialisation of FSNet's streams",
        "torchvision.models.resnet50(weights='IMAGENET1K_V1') via fsnet_core.model.backbone",
    ),
    _torchvision(
        "raft-small",
        "https://download.pytorch.org/models/raft_small_C_T_V2-01064c6d.pth",
        "torchvision RAFT small (C_T_V2), for fsnet flow --method raft-small",
        "fsnet_core.flow.RAFTEstimator('small')",
    ),
    _torchvision(
        "raft-large",
        "https://download.pytorch.org/models/raft_large_C_T_SKHT_V2-ff5fadd5.pth",
        "torchvision RAFT large (C_T_SKHT_V2), for fsnet flow --method raft-large",
        "fsnet_core.flow.RAFTEstimator('large')",
    ),
)

REGISTRY: dict[str, Asset] = {a.name: a for a in ASSETS}


def get_asset(name: str) -> Asset:
    """The registry entry called ``name``; the error lists the valid names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown asset {name!r}; choose one of {', '.join(REGISTRY)}") from None


__all__ = [
    "ASSETS",
    "HUB_CACHE",
    "REGISTRY",
    "Asset",
    "davis2016_imagesets",
    "drive_url",
    "get_asset",
]
