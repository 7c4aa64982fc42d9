"""The benchmark harness without servers: the BENCH line, the verdict, discovery, exit codes."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench._load import format_header_set, wrk_script_args
from bench._loadgen import parse_header_set
from bench.harness import BenchResult, parse_wrk

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BENCH_LINE = re.compile(r"^BENCH \S+ \d+\.\d \S+ ratio=\d+\.\d{3} target=\S+ (PASS|MISS)$")

WRK_REPORT = """\
Running 5s test @ http://127.0.0.1:40000/healthz
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms  500.00us  10.00ms   90.00%
    Req/Sec     1.30k   100.00     1.50k    70.00%
  13000 requests in 5.01s, 2.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:   2594.81
Transfer/sec:    429.00KB
"""


def test_bench_line_has_the_documented_shape() -> None:
    result = BenchResult("app_overhead", 1632.94, "req/s", 0.66843, 0.5)

    assert result.line() == "BENCH app_overhead 1632.9 req/s ratio=0.668 target=0.5 PASS"
    assert BENCH_LINE.match(result.line())


@pytest.mark.parametrize(
    ("ratio", "target", "higher_is_better", "verdict"),
    [
        (0.6, 0.5, True, "PASS"),
        (0.5, 0.5, True, "PASS"),
        (0.49, 0.5, True, "MISS"),
        (0.9, 1.1, False, "PASS"),
        (1.1, 1.1, False, "PASS"),
        (1.2, 1.1, False, "MISS"),
        (math.nan, 0.5, True, "MISS"),
        (math.nan, 1.1, False, "MISS"),
    ],
)
def test_verdict_follows_the_target_in_the_better_direction(
    ratio: float, target: float, higher_is_better: bool, verdict: str
) -> None:
    result = BenchResult("x", 1.0, "s", ratio, target, higher_is_better=higher_is_better)

    assert result.passed is (verdict == "PASS")
    assert result.line().endswith(f" {verdict}")


@pytest.mark.parametrize(("name", "unit"), [("two words", "req/s"), ("x", ""), ("x", "req /s")])
def test_name_and_unit_must_be_one_word_each(name: str, unit: str) -> None:
    with pytest.raises(ValueError, match="one word"):
        BenchResult(name, 1.0, unit, 1.0, 1.0)


def test_wrk_report_is_read_with_its_errors() -> None:
    load = parse_wrk(WRK_REPORT)

    assert load.rps == pytest.approx(2594.81)
    assert load.requests == 12995
    assert load.errors == 8
    assert load.sent == 13000
    assert load.seconds == pytest.approx(5.01)


def test_header_sets_reach_both_drivers_as_given() -> None:
    sets = [{"Authorization": "Bearer cjji_-a_b", "X-Tenant": "1"}, {"Authorization": "Bearer c"}]

    encoded = [format_header_set(headers) for headers in sets]

    assert encoded[0] == "Authorization: Bearer cjji_-a_b\nX-Tenant: 1"
    assert [parse_header_set(text) for text in encoded] == sets  # the Python driver's side
    assert wrk_script_args(100, encoded) == ["--", "100", *encoded]  # the wrk script's side
    assert wrk_script_args(0, encoded) == ["--", "0", *encoded]
    assert wrk_script_args(100) == ["--", "100"]
    assert wrk_script_args(0) == []


@pytest.mark.parametrize("headers", [{"X-A": "1\r\nX-B: 2"}, {"X A": "1"}, {"X:A": "1"}, {"": "1"}])
def test_a_header_set_that_would_change_on_the_way_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="header"):
        format_header_set(headers)


def test_list_names_app_overhead_without_running_it() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--list"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "app_overhead" in completed.stdout.splitlines()


def test_helper_modules_are_not_benchmarks() -> None:
    names = bench_main.discover()

    assert "harness" not in names
    assert not [name for name in names if name.startswith("_")]


def test_a_miss_exits_zero_and_a_crash_exits_nonzero_after_running_the_rest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake_run_one(name: str) -> BenchResult:
        if name == "broken":
            raise RuntimeError("server never answered")
        return BenchResult(name, 10.0, "req/s", 0.1, 0.5)

    monkeypatch.setattr(bench_main, "discover", lambda: ["broken", "slow"])
    monkeypatch.setattr(bench_main, "run_one", fake_run_one)

    assert bench_main.main(["slow"]) == 0
    assert bench_main.main([]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["BENCH slow 10.0 req/s ratio=0.100 target=0.5 MISS"] * 2


def test_an_unknown_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_main, "discover", lambda: ["app_overhead"])

    assert bench_main.main(["nope"]) == 2
