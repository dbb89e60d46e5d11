"""Deterministic weights for the FSNet parity test.

Every tensor of the official FSNet state dict (keys and shapes in
official_keys.txt) is filled from NumPy's legacy RandomState, seeded with the
CRC32 of its key, so any implementation can rebuild the same weights without
storing 400 MB of parameters.
"""

import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
KERNEL_GAIN = 0.6  # below He gain, so the stacked multiplicative BPM terms stay finite


def official_keys(path=HERE / "official_keys.txt"):
    """[(key, shape), ...] in the official state-dict order."""
    out = []
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, shape = line.split("\t")
        out.append((key, tuple(int(s) for s in shape.split("x")) if shape else ()))
    return out


def tensor_for(key, shape):
    """The value of one parameter or buffer, as a float64 (or int64) array."""
    rng = np.random.RandomState(zlib.crc32(key.encode()))
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return np.zeros(shape, dtype=np.int64)
    if leaf == "running_var":
        return rng.uniform(0.5, 1.5, shape)
    if leaf == "running_mean":
        return rng.normal(0.0, 0.1, shape)
    if len(shape) == 4:  # convolution kernel: He-normal
        fan_in = shape[1] * shape[2] * shape[3]
        return rng.normal(0.0, KERNEL_GAIN * np.sqrt(2.0 / fan_in), shape)
    if leaf == "weight":  # batch-norm scale
        return rng.uniform(0.8, 1.2, shape)
    return rng.normal(0.0, 0.05, shape)  # batch-norm shift, conv bias


def official_state_dict():
    """OrderedDict key -> numpy array, in the official key order."""
    return OrderedDict((k, tensor_for(k, s)) for k, s in official_keys())
