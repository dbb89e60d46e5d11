"""The set on disk: writing the DAVIS-layout folder and ``meta.json``, reading regions back.

See :mod:`fsnet_core.data.synthetic` for the layout. A set is built in a
hidden folder and moved into place, ``meta.json`` last, so an interrupted
run never leaves a set that looks complete; replacing a set removes only the
files the package wrote for it (:func:`_own_files`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from ...flow import flow_to_color, write_flo
from ...io import InputError, atomic_write, davis, mkdtemp_honouring_umask
from ...io.images import read_labels
from .regions import REGION_NAMES, TARGET
from .renderer import Scene
from .scenes import DEFAULT_DOMAIN, SyntheticConfig, clip_hazards, clip_rng, get_domain, make_scene

GENERATOR = "fsnet_core.data.synthetic"  # meta.json's mark of a set made here
GENERATOR_VERSION = 2
DEFAULT_SYNTHETIC_DIR = Path("data") / "synthetic"
FLOW_SOURCE = "gt"
JPEG_QUALITY = 95


def _write_clip(root: Path, name: str, scene: Scene, frames: int) -> None:
    folders = {
        key: root / sub / name
        for key, sub in (
            ("img", "JPEGImages/480p"),
            ("ann", "Annotations/480p"),
            ("reg", "Regions/480p"),
            ("flo", f"Flow/{FLOW_SOURCE}"),
            ("flow_img", f"FlowImages/{FLOW_SOURCE}"),
        )
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    for t in range(frames):
        frame, labels, flow = scene.render(t)
        stem = f"{t:05d}"
        cv2.imwrite(
            str(folders["img"] / f"{stem}.jpg"),
            cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
        )
        cv2.imwrite(
            str(folders["ann"] / f"{stem}.png"), np.where(labels == TARGET, 255, 0).astype(np.uint8)
        )
        cv2.imwrite(str(folders["reg"] / f"{stem}.png"), labels)
        if t < frames - 1:  # the last frame has no successor, hence no flow
            write_flo(folders["flo"] / f"{stem}.flo", flow)
            colour = cv2.cvtColor(flow_to_color(flow), cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(folders["flow_img"] / f"{stem}.png"), colour)


def _make_clip(
    root: Path, cfg: SyntheticConfig, seed: int, split: str, index: int, domain: str
) -> dict:
    """Render and write one clip; return its meta entry (with its name)."""
    rng = clip_rng(seed, split, index, domain)
    scene = make_scene(rng, cfg, clip_hazards(index), domain)
    d = scene.description
    name = f"{split}-{index:02d}-{d['shape']}-{d['texture']}"
    frames = cfg.clip_frames(split)
    _write_clip(root, name, scene, frames)
    return {"name": name, "split": split, "frames": frames, **d}


def _build(
    root: Path, cfg: SyntheticConfig, seed: int, smoke: bool, domain: str = DEFAULT_DOMAIN
) -> dict:
    counts = {"train": cfg.train_clips, "val": cfg.val_clips}
    clips = [
        _make_clip(root, cfg, seed, split, i, domain)
        for split in counts
        for i in range(counts[split])
    ]
    splits = {split: [c["name"] for c in clips if c["split"] == split] for split in counts}
    sequences = {c.pop("name"): c for c in clips}
    for split, names in splits.items():
        davis.write_split_list(root, split, names)
    # the default domain's meta.json has no "domain" key: sets made before domains stay valid
    named = {} if domain == DEFAULT_DOMAIN else {"domain": domain}
    return {
        "generator": GENERATOR,
        "version": GENERATOR_VERSION,
        **named,
        "seed": seed,
        "smoke": smoke,
        "height": cfg.height,
        "width": cfg.width,
        "frames_per_clip": cfg.frames,
        "train_frames_per_clip": cfg.train_frames,
        "flow_source": FLOW_SOURCE,
        "regions": {str(k): v for k, v in REGION_NAMES.items()},
        "splits": splits,
        "sequences": sequences,
    }


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def read_regions(root: str | os.PathLike, sequence: str, frame: str) -> np.ndarray:
    """The ``H x W`` uint8 region labels (see :data:`REGION_NAMES`) of one synthetic frame."""
    path = Path(root) / "Regions" / "480p" / sequence / f"{frame}.png"
    return read_labels(path)


def read_meta(path: str | os.PathLike) -> dict | None:
    """The dataset's ``meta.json``, or None when the set is missing or incomplete."""
    meta = Path(path) / "meta.json"
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("generator") == GENERATOR else None


def _settings(seed: object, smoke: object, version: object, domain: object) -> str:
    named = "" if domain == DEFAULT_DOMAIN else f", domain {domain}"
    return f"seed {seed}, {'smoke' if smoke else 'full'} size{named}, generator version {version}"


def domain_of(meta: dict) -> str:
    """The domain a set's ``meta.json`` describes (sets without the key are the default's)."""
    return str(meta.get("domain", DEFAULT_DOMAIN))


def default_dir(domain: str = DEFAULT_DOMAIN) -> Path:
    """``data/synthetic`` for the default domain, ``data/synthetic-NAME`` for another."""
    if domain == DEFAULT_DOMAIN:
        return DEFAULT_SYNTHETIC_DIR
    return DEFAULT_SYNTHETIC_DIR.with_name(f"{DEFAULT_SYNTHETIC_DIR.name}-{domain}")


def _own_files(root: Path, meta: dict) -> set[Path]:
    """The files the package wrote for the set ``meta`` describes, wherever they are now.

    Its frames, masks, region labels, split lists and ``meta.json``, and the flow
    of its clips from every source under ``Flow/`` and ``FlowImages/``: the
    ground truth and any flow computed from these frames (``fsnet flow``), which
    is stale once the frames are replaced (and ``fsnet flow`` would keep a stale
    file, as it skips flows already there). Anything else in the folder, such as
    flow of other sequences or the user's own files, is not the set's.
    """
    files = {root / "meta.json"}
    files |= {davis.split_path(root, split) for split in meta.get("splits", {})}
    sources = {d.name for top in ("Flow", "FlowImages") for d in _folders(root / top)}
    for name, info in meta.get("sequences", {}).items():
        if Path(name).name != name or name in ("", ".", ".."):
            raise InputError(root / "meta.json", f"names a clip {name!r} that is not a folder name")
        stems = [f"{t:05d}" for t in range(int(info.get("frames", meta["frames_per_clip"])))]
        for top, ext in (("JPEGImages", "jpg"), ("Annotations", "png"), ("Regions", "png")):
            files |= {root / top / "480p" / name / f"{s}.{ext}" for s in stems}
        for source in sources:  # the last frame has no flow
            files |= {root / "Flow" / source / name / f"{s}.flo" for s in stems[:-1]}
            files |= {root / "FlowImages" / source / name / f"{s}.png" for s in stems[:-1]}
    return files


def _folders(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.is_dir()] if path.is_dir() else []


def _remove(root: Path, files: set[Path]) -> None:
    """Delete ``files`` (``meta.json`` first, so that the folder no longer looks like a
    complete set), then the folders under ``root`` that this leaves empty."""
    (root / "meta.json").unlink(missing_ok=True)
    for path in files:
        path.unlink(missing_ok=True)
    folders = {p for path in files for p in path.parents if root in p.parents}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty: it holds something not ours
            folder.rmdir()


def _replace(out: Path, old: dict | None, work: Path) -> None:
    """Put the new set built in ``work`` into the existing folder ``out``, in place of the
    set ``old`` (if any) and beside every file that is not the old set's."""
    own = _own_files(out, old) if old is not None else set()
    new = sorted(p.relative_to(work) for p in work.rglob("*") if p.is_file())
    for rel in new:
        if (out / rel).exists() and out / rel not in own:
            raise InputError(
                out / rel,
                "is not part of the synthetic set there but the new set writes it; "
                "move it away first",
            )
    _remove(out, own)
    for rel in sorted(new, key=lambda rel: rel == Path("meta.json")):  # meta.json last
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(work / rel, out / rel)


def make_synthetic_dataset(
    out_dir: str | os.PathLike,
    *,
    smoke: bool = False,
    seed: int = 0,
    overwrite: bool = False,
    domain: str = DEFAULT_DOMAIN,
) -> Path:
    """Generate the teaching set into ``out_dir`` (DAVIS layout, exact flow); return its path.

    ``domain`` (see :data:`.scenes.DOMAINS`) chooses what the clips look like.

    The set is built in a hidden folder beside ``out_dir`` and moved into
    place, ``meta.json`` last, so ``out_dir`` never holds a set that looks
    complete and is not. An existing synthetic set is replaced only with
    ``overwrite=True`` (``fsnet data synthetic --force``), and then only the
    files the package wrote for it go (see :func:`_own_files`: its frames,
    masks, regions, split lists, ``meta.json`` and its clips' flows, computed
    ones included, as they are stale); any other file there stays. A folder
    that holds files but no synthetic set is never written into.
    """
    get_domain(domain)  # an unknown name fails before anything is written
    out = Path(out_dir)
    old = read_meta(out)
    if out.exists():
        if not out.is_dir():
            raise InputError(out, "is a file, not a folder for the synthetic dataset")
        if old is None and any(out.iterdir()):
            raise InputError(
                out,
                "exists and is not a complete synthetic dataset (no meta.json); "
                "refusing to replace it: remove it or choose another folder",
            )
        if old is not None and not overwrite:
            raise InputError(
                out, "a synthetic dataset is already there (--force or overwrite=True replaces it)"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg = SyntheticConfig.for_size(smoke)
    work = mkdtemp_honouring_umask(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    try:
        with _one_torch_thread():  # torch's colour coding thrashes when threads oversubscribe
            meta = _build(work, cfg, seed, smoke, domain)
        with atomic_write(work / "meta.json") as tmp:
            tmp.write_text(json.dumps(meta, indent=1, sort_keys=True))
        if out.exists():
            _replace(out, old, work)
        else:
            try:
                os.replace(work, out)
            except OSError:
                if read_meta(out) is None:
                    raise
                # another process finished the same job first; its set is as good as ours
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return out


def ensure_synthetic_dataset(
    path: str | os.PathLike | None = None,
    smoke: bool = False,
    seed: int = 0,
    force: bool = False,
    domain: str = DEFAULT_DOMAIN,
) -> Path:
    """Return the synthetic set at ``path`` (default :func:`default_dir`: ``data/synthetic``,
    ``data/synthetic-DOMAIN`` for another domain), generating it when the folder is missing
    or empty.

    A set made with another seed, size or generator version is replaced only
    with ``force=True`` (as :func:`make_synthetic_dataset` with ``overwrite``
    does: only the package's own files go); without it this raises
    :class:`~fsnet_core.io.InputError` naming the folder and how to replace it.
    """
    get_domain(domain)
    out = Path(path) if path is not None else default_dir(domain)
    meta = read_meta(out)
    wanted = {"seed": seed, "smoke": smoke, "version": GENERATOR_VERSION}
    if (
        meta is not None
        and all(meta.get(k) == v for k, v in wanted.items())
        and domain_of(meta) == domain
    ):
        return out
    if meta is not None and not force:
        there = _settings(meta.get("seed"), meta.get("smoke"), meta.get("version"), domain_of(meta))
        asked = _settings(seed, smoke, GENERATOR_VERSION, domain)
        named = "" if domain == DEFAULT_DOMAIN else f" --domain {domain}"
        command = (
            f"fsnet data synthetic --out {out} --seed {seed}{' --smoke' * smoke}{named} --force"
        )
        raise InputError(
            out,
            f"holds the synthetic set of {there}, not of {asked}; "
            f"replace it with `{command}` (force=True in Python) or choose another folder",
        )
    return make_synthetic_dataset(
        out, smoke=smoke, seed=seed, overwrite=meta is not None, domain=domain
    )
