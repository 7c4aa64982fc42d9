"""stakeholder_speed: four generated lists totalling 100,000 entries consolidated, timed and
with peak memory measured, against recordlinkage on the same entries in the same run.

Each measurement runs in a fresh child process (``python -m bench.stakeholder_speed --child
WHICH PATH``) that loads the pickled entries, times only the consolidation (or the library's
index + compare + classify) and reports its peak resident memory, ``VmHWM`` from
``/proc/self/status``. That peak is the whole child's high-water mark: interpreter, imported
libraries, the loaded entries and the consolidation, so it is an upper bound on what the
consolidation itself needs (the peak before it started is shown too). Not ``ru_maxrss``:
Linux carries the parent's peak into it across fork and exec, so a large parent (the
benchmark runner) would be counted. Ours runs three times around one library run; the
figure is the median of ours.

Figure: our seconds for 100,000 entries, target 10 s (lower is better); NaN, a MISS, if our
peak memory reaches 1 GiB. Ratio: our median seconds / recordlinkage's seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.harness import PROJECT_ROOT, BenchResult, median, note

NAME = "stakeholder_speed"
ENTRIES = 100_000
SEED = 20_240_602
TARGET_SECONDS = 10.0
MEMORY_LIMIT_BYTES = 1 << 30
#: Ours, library, ours, ours: the library's run sits between ours.
ORDER = ("ours", "recordlinkage", "ours", "ours")
CHILD_TIMEOUT = 600


def run() -> BenchResult:
    """Generate the lists once, then time each side in its own child process."""
    from shared_workspace.stakeholders.synthetic import generate

    entries = [item.entry for item in generate(ENTRIES, seed=SEED)]
    lists = Counter(entry.tenant for entry in entries)
    note(
        f"{NAME}: {len(entries)} entries on {len(lists)} lists "
        f"({', '.join(f'{t} {c}' for t, c in sorted(lists.items()))}), seed {SEED}; "
        f"each side in a fresh process, peak memory from its VmHWM"
    )
    results: dict[str, list[dict]] = {"ours": [], "recordlinkage": []}
    with tempfile.TemporaryDirectory(prefix="bench-stakeholders-") as folder:
        path = Path(folder) / "entries.pickle"
        with path.open("wb") as file:
            pickle.dump(entries, file, protocol=pickle.HIGHEST_PROTOCOL)
        del entries
        for which in ORDER:
            outcome = _run_child(which, path)
            results[which].append(outcome)
            note(
                f"{NAME}: {which} {outcome['seconds']:.2f}s, peak memory "
                f"{outcome['peak_bytes'] / 2**20:.0f} MiB (before it started "
                f"{outcome['before_bytes'] / 2**20:.0f} MiB); {outcome['detail']}"
            )
    ours = median([r["seconds"] for r in results["ours"]])
    library = median([r["seconds"] for r in results["recordlinkage"]])
    peak = max(r["peak_bytes"] for r in results["ours"])
    note(
        f"{NAME}: ours median {ours:.2f}s, recordlinkage {library:.2f}s on the same "
        f"{ENTRIES} entries (ours/library {ours / library:.3f}); our peak memory "
        f"{peak / 2**20:.0f} MiB of the {MEMORY_LIMIT_BYTES / 2**20:.0f} MiB allowed"
    )
    figure = ours
    if peak >= MEMORY_LIMIT_BYTES:
        note(f"{NAME}: peak memory over the limit: reported as NaN (MISS)")
        figure = math.nan
    return BenchResult(
        name=NAME,
        figure=figure,
        unit="s",
        ratio=ours / library,
        target=TARGET_SECONDS,
        higher_is_better=False,
        target_applies_to="figure",
    )


def _run_child(which: str, path: Path) -> dict:
    command = [sys.executable, "-m", "bench.stakeholder_speed", "--child", which, str(path)]
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{which} child failed ({completed.returncode}):\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _child(which: str, path: Path) -> dict:
    """In the child: load the entries, run one side, measure time and peak memory."""
    from shared_workspace.stakeholders.matching import consolidate

    if which == "recordlinkage":
        from bench.stakeholder_accuracy import recordlinkage_links
    with path.open("rb") as file:
        entries = pickle.load(file)  # noqa: S301 - written by the parent a moment ago
    before = _peak_bytes()
    started = time.perf_counter()
    if which == "ours":
        result = consolidate(entries)
        seconds = time.perf_counter() - started
        detail = (
            f"{len(result.clusters)} clusters, {len(result.review)} review items, "
            f"{result.stats['candidate_pairs']} candidate pairs"
        )
    else:
        links = recordlinkage_links(entries)
        seconds = time.perf_counter() - started
        detail = f"{len(links['ecm'])} pairs linked by ECM"
    return {
        "seconds": seconds,
        "peak_bytes": _peak_bytes(),
        "before_bytes": before,
        "detail": detail,
    }


def _peak_bytes() -> int:
    """This process's peak resident memory: VmHWM where /proc has it, else ru_maxrss."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    # ru_maxrss is in KiB on Linux (bytes on macOS, where this bench is not run).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="one measured side of stakeholder_speed")
    parser.add_argument("--child", choices=("ours", "recordlinkage"), required=True)
    parser.add_argument("path", type=Path)
    arguments = parser.parse_args()
    print(json.dumps(_child(arguments.child, arguments.path)), flush=True)
