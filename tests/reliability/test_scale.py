"""The scale benchmark, small: 8 windows, 4 exec proxies and 8 shell loops on one sign-in.

Runs ``bench/scale_bench.py`` at 8 + 4 + 8 processes for 3 rotations and a simulated
8-hour suspend, and checks only the counts: one refresh request per rotation, no
refresh-token reuse, no failed consumer call, exactly one renewal after the wake and
no stale token handed out. Times are the benchmark's to report, never asserted here.
The same mix, smaller and without the suspend (its clock cannot be moved), runs
against node oidc-provider too.
"""

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale_bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("scale_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_bench"] = module
    spec.loader.exec_module(module)
    return module


def assert_counts_hold(figures) -> None:
    """What every scale run must show: one refresh per rotation, no reuse, no failure."""
    assert figures.rotations >= 3, figures.errors
    assert figures.refresh_requests == figures.rotations, "more than one refresh per rotation"
    assert figures.reuse == 0 and figures.invalid_grant == 0
    assert figures.consumer_calls > 0
    assert figures.failed_calls == 0, sorted(set(figures.errors))
    assert all(latency != float("inf") for latency in figures.status_latency_ms), (
        "a window never heard of a rotation")


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_twenty_processes_share_one_rotating_sign_in():
    bench = load_bench()
    assert bench.FAKETIME_LIBRARY.exists(), "libfaketime is missing: apt-get install faketime"
    assert shutil.which("curl"), "curl is missing: apt-get install curl"
    args: argparse.Namespace = bench.parse_args(
        ["--windows", "8", "--execs", "4", "--shells", "8", "--rotations", "3",
         "--ttl", "6", "--shell-interval", "2", "--max-seconds", "300"])
    figures = await bench.run_scale(args, 8, 4, 8)
    print("\n" + bench.table([figures]))
    assert_counts_hold(figures)
    assert figures.wake_renewals == 1, "the wake caused more than one renewal"
    assert figures.wake_stale_tokens == 0
    assert len(figures.wake_status_latency_ms) == 8
    assert all(latency != float("inf") for latency in figures.wake_status_latency_ms), (
        "a window never heard of the renewal after the wake")


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_processes_share_one_rotating_sign_in_at_oidc_provider():
    bench = load_bench()
    args: argparse.Namespace = bench.parse_args(
        ["--server", "oidc-provider", "--rotations", "3", "--ttl", "6",
         "--shell-interval", "2", "--max-seconds", "300"])
    figures = await bench.run_scale(args, 4, 2, 4)
    print("\n" + bench.table([figures]))
    assert_counts_hold(figures)
    assert figures.wake_renewals is None  # no suspend against a clock the bench cannot move
