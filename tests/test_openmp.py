"""The kernels' OpenMP wait policy follows the machine's load; a value the user set wins."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fsnet_core.harness import openmp


def test_a_busy_machine_gets_passive_waiting_and_says_why():
    environ = {}
    said = openmp.choose_wait_policy(environ, measure=lambda: 1.0)
    assert environ == {"OMP_WAIT_POLICY": "PASSIVE"}
    assert "passively" in said and "1.0 of" in said


def test_an_idle_machine_keeps_the_runtimes_default():
    environ = {}
    said = openmp.choose_wait_policy(environ, measure=lambda: 0.05)
    assert environ == {}
    assert "idle" in said


def test_a_policy_set_by_the_user_is_kept_and_the_load_not_measured():
    def never():
        raise AssertionError("measured although the user chose")

    environ = {"OMP_WAIT_POLICY": "ACTIVE"}
    said = openmp.choose_wait_policy(environ, measure=never)
    assert environ == {"OMP_WAIT_POLICY": "ACTIVE"} and "ACTIVE" in said


def test_an_unknown_load_leaves_the_default():
    environ = {}
    assert "unknown" in openmp.choose_wait_policy(environ, measure=lambda: None)
    assert environ == {}


def test_the_share_of_busy_ticks_becomes_cores_used_by_others(monkeypatch):
    readings = iter([(1_000, 10_000), (1_000 + 500, 10_000 + 1_000)])  # half the ticks busy
    own = iter([5.0, 5.05])  # this process: 0.05 s of CPU in the 0.1 s window
    monkeypatch.setattr(openmp.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(openmp.time, "process_time", lambda: next(own))
    used = openmp.others_cpu_use(0.1, ticks=lambda: next(readings))
    assert used == pytest.approx(0.5)  # half of 2 cores, less the half core this process used


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
def test_a_process_spinning_on_one_core_is_seen():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        used = openmp.others_cpu_use(1.0)
    finally:
        spinner.kill()
        spinner.wait()
    assert used is not None and used >= 0.6
