"""A seeded teaching dataset whose every hazard is known: why FSNet needs both cues.

Each clip has one primary moving object (the target, label 1) and, in chosen
clips, the things that fool a single cue:

* **static look-alikes** (label 2): exact copies of the target's shape and
  texture that do not move in the world, so *appearance alone* cannot tell
  them from the target;
* a **rippling textured patch** (label 3) that moves non-rigidly but is
  background;
* a **moving background object** (label 5): a rigid sprite of the same kind
  of shape, size and speed as the target, but cut from the background's own
  texture (camouflaged: only its edge shows it in a single frame). Its flow
  looks like the target's, so *motion alone* cannot tell them apart: only the
  two cues together single out the target (salient *and* moving);
* **static occluders** (label 4) that the target passes behind;

plus camera pan and zoom, affine target motion with scale change and rotation,
and motion blur. Every frame is rendered by *backward warping* each layer
with a known transform (``cv2.remap``), so the ground-truth optical flow
(frame t to t+1, camera motion included) is exact, not estimated.

Folder layout (DAVIS-2016, see ``docs/design.md``)::

    JPEGImages/480p/SEQ/00000.jpg      frames (the 480p name is DAVIS's, not the size)
    Annotations/480p/SEQ/00000.png     target masks, 0/255
    Regions/480p/SEQ/00000.png         labels 0 background, 1 target, 2 look-alike,
                                       3 rippling background, 4 occluder,
                                       5 moving background object
    Flow/gt/SEQ/00000.flo              exact flow from frame t to t+1 (named after t)
    FlowImages/gt/SEQ/00000.png        its Middlebury colour image (what FSNet reads)
    ImageSets/2016/train.txt, val.txt  sequence names
    meta.json                          generator version, seed, sizes, per-clip contents

``meta.json`` is written last and the whole set is built in a hidden folder
beside ``out_dir`` and moved into place, so an interrupted run never leaves
a set that looks complete. A folder is never emptied wholesale: a set of
other settings is replaced only when asked (``--force``, ``force=True``), and
then only the files the package wrote for it go (see ``docs/bad_input.md``).

Sizes (chosen for CPU training). Generating the default set takes about 8 s
of CPU time, single-threaded (``fsnet data synthetic`` prints it).

* default: 48 train clips of 6 frames + 12 val clips of 12 frames at
  240 x 320 (H x W), i.e. 240 train and 132 val frame/flow pairs, about
  250 MB (mostly ``.flo``). Training clips are short and many: what a small
  model learns from is the variety of scenes (colours, shapes, textures),
  not the length of each; a training clip is the start of a clip as long as
  the others, with the same motion;
* ``smoke=True``: 2 train + 2 val clips of 5 frames at 120 x 160, for tests.

``domain=`` (``fsnet data synthetic --domain NAME``) makes clips of another
look (:data:`DOMAINS`, see :mod:`.scenes`), for finetuning on data the course
model has not seen; their ``meta.json`` names the domain, and they go to
``data/synthetic-NAME`` by default. The default domain is unchanged.

Each split contains every hazard (the schedule in
:func:`~.scenes.clip_hazards` repeats every four clips and its first two clips
already cover all of them).

The modules, lowest first: :mod:`.regions` (the label of each region),
:mod:`.textures` (colours, patterns, silhouettes), :mod:`.renderer` (camera,
layers and scenes drawn by backward warping, with their exact flow),
:mod:`.scenes` (what each clip shows: hazards, motion, layout; the set's
sizes) and :mod:`.storage` (the folder on disk: writing, ``meta.json``,
reading regions back, making, finding and replacing a set). The names below
are the public ones; import them from here.
"""

from __future__ import annotations

from .regions import (
    BACKGROUND,
    DISTRACTOR,
    MOVING_BACKGROUND,
    MOVING_OBJECT,
    OCCLUDER,
    REGION_NAMES,
    REGION_SHORT_NAMES,
    TARGET,
)
from .renderer import BLUR_TIMES, Camera, Layer, RippleLayer, Scene
from .scenes import DEFAULT_DOMAIN, DOMAINS, Domain, SyntheticConfig
from .storage import (
    DEFAULT_SYNTHETIC_DIR,
    FLOW_SOURCE,
    GENERATOR_VERSION,
    JPEG_QUALITY,
    default_dir,
    domain_of,
    ensure_synthetic_dataset,
    make_synthetic_dataset,
    read_meta,
    read_regions,
)
from .textures import SHAPES, TEXTURES

__all__ = [
    "BACKGROUND",
    "BLUR_TIMES",
    "DEFAULT_DOMAIN",
    "DEFAULT_SYNTHETIC_DIR",
    "DOMAINS",
    "DISTRACTOR",
    "FLOW_SOURCE",
    "GENERATOR_VERSION",
    "JPEG_QUALITY",
    "MOVING_BACKGROUND",
    "MOVING_OBJECT",
    "OCCLUDER",
    "REGION_NAMES",
    "REGION_SHORT_NAMES",
    "SHAPES",
    "TARGET",
    "TEXTURES",
    "Camera",
    "Domain",
    "Layer",
    "RippleLayer",
    "Scene",
    "SyntheticConfig",
    "default_dir",
    "domain_of",
    "ensure_synthetic_dataset",
    "make_synthetic_dataset",
    "read_meta",
    "read_regions",
]
