"""How torch's OpenMP threads should wait in the notebook kernels: chosen from the machine's load.

Between two parallel regions, OpenMP threads either spin (GNU OpenMP's default: a
short busy wait, then sleep) or sleep at once (``OMP_WAIT_POLICY=PASSIVE``).
Which is right depends on whether the cores are shared. In a Jupyter kernel on 2
cores (``benchmarks/notebook_threads.py`` measures it side by side), passive
waiting takes 1.6x as long as the default on an idle machine; next to one process
that keeps a core busy, spinning threads steal the working thread's core and the
default takes 13x as long as passive waiting. So the kernels of ``fsnet run-all``
(and of the tests) wait passively only when other processes are busy as the run
starts, and a value the user set wins.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, MutableMapping

POLICY_ENV = "OMP_WAIT_POLICY"
# Other processes using this many cores or more make the machine "shared".
BUSY_CORES = 0.3


def _cpu_ticks(stat: str = "/proc/stat") -> tuple[int, int] | None:
    """(busy, total) clock ticks of all cores since boot; None where /proc/stat is missing."""
    try:
        with open(stat) as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def others_cpu_use(
    window_s: float = 0.5, ticks: Callable[[], tuple[int, int] | None] = _cpu_ticks
) -> float | None:
    """Cores that *other* processes kept busy during ``window_s`` seconds (this one sleeps).

    Linux only (``/proc/stat``); elsewhere the 1-minute load average, or None when the
    system offers neither.
    """
    cores = os.cpu_count() or 1
    before = ticks()
    if before is None:
        try:
            return min(float(os.getloadavg()[0]), float(cores))
        except (AttributeError, OSError):
            return None
    own = time.process_time()
    time.sleep(window_s)
    after = ticks()
    own = time.process_time() - own
    if after is None or after[1] <= before[1]:
        return None
    busy_share = (after[0] - before[0]) / (after[1] - before[1])
    return max(0.0, busy_share * cores - own / window_s)


def choose_wait_policy(
    environ: MutableMapping[str, str] = os.environ,
    measure: Callable[[], float | None] = others_cpu_use,
) -> str:
    """Set ``OMP_WAIT_POLICY`` in ``environ`` for kernels started later; say what and why.

    PASSIVE when other processes use ``BUSY_CORES`` or more, else left unset (the
    OpenMP runtime's own default). A value already in ``environ`` is kept.
    """
    if POLICY_ENV in environ:
        return f"OpenMP threads wait as ${POLICY_ENV}={environ[POLICY_ENV]} says (set outside)"
    others = measure()
    if others is None:
        return "OpenMP threads keep their default wait (the machine's load is unknown)"
    if others >= BUSY_CORES:
        environ[POLICY_ENV] = "PASSIVE"
        return (
            f"OpenMP threads wait passively: other processes use {others:.1f} of "
            f"{os.cpu_count()} cores (spinning threads would steal their own thread's core)"
        )
    return f"OpenMP threads keep their default wait: the machine is idle ({others:.2f} cores used)"


__all__ = ["BUSY_CORES", "POLICY_ENV", "choose_wait_policy", "others_cpu_use"]
