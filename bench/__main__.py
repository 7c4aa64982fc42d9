"""``python -m bench [name ...]``: run benchmarks (all by default), one BENCH line each.

``python -m bench --list`` prints the benchmark names, one a line, without running them.
Exit status: 0 when every benchmark ran (PASS or MISS), 1 when any crashed, 2 for an
unknown name.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import signal
import sys
import time
import traceback
from pathlib import Path

from bench.harness import BenchResult, note

BENCH_DIR = Path(__file__).resolve().parent


def discover() -> list[str]:
    """Names of the benchmarks: ``bench/<name>.py`` defining a top-level ``run``, sorted.

    Found by reading the source, not importing it, so listing is instant and cannot fail
    on a broken app.
    """
    names = []
    for path in sorted(BENCH_DIR.glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "run" for node in tree.body):
            names.append(path.stem)
    return names


def run_one(name: str) -> BenchResult:
    """Import ``bench.<name>``, call its ``run()`` and check it returned a BenchResult."""
    module = importlib.import_module(f"bench.{name}")
    result = module.run()
    if not isinstance(result, BenchResult):
        raise TypeError(f"bench.{name}.run() returned {type(result).__name__}, not BenchResult")
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks in order; return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    available = discover()
    if args.list:
        print("\n".join(available))
        return 0
    unknown = [name for name in args.names if name not in available]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}",
            file=sys.stderr,
        )
        return 2

    crashed = []
    for name in args.names or available:
        started = time.monotonic()
        note(f"{name}: running")
        try:
            result = run_one(name)
        except Exception:  # noqa: BLE001 - one crashing benchmark must not stop the others
            traceback.print_exc()
            note(f"{name}: crashed after {time.monotonic() - started:.0f}s")
            crashed.append(name)
            continue
        note(f"{name}: done in {time.monotonic() - started:.0f}s")
        print(result.line(), flush=True)
    if crashed:
        note(f"crashed: {', '.join(crashed)}")
        return 1
    return 0


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    # SystemExit unwinds the benchmarks' ``with`` blocks, so their servers are stopped.
    sys.exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    sys.exit(main())
