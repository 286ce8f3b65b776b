"""Claim-scoring speed of two commits side by side: ``claims_speed.py`` run alternately on this
tree's packages and on another worktree's (for instance the base commit).

Each round runs ``bench/claims_speed.py --json --shipped-only`` (this tree's script, which uses only
APIs both commits have) once with ``PYTHONPATH`` at the other worktree and once at this one, in
that order, so both see the same machine; each figure is the best over the rounds, and the ratios
are this tree's over the other's. Rates are per CPU-second of the measuring process, as in
``claims_speed.py``::

    git worktree add ../base main
    .venv/bin/python bench/claims_speed_ab.py --base ../base --rounds 5 --repeat 3
    git worktree remove ../base
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("docs_per_s", "rules_docs_per_s")


def run(tree: Path, repeat: int) -> dict[str, float]:
    command = [sys.executable, str(ROOT / "bench" / "claims_speed.py"), "--json", "--shipped-only"]
    command += ["--repeat", str(repeat), "--naive-seconds", "0"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout)[0]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the other worktree")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    trees = {"base": args.base.resolve(), "this": ROOT}
    best: dict[str, dict[str, float]] = {name: dict.fromkeys(KEYS, 0.0) for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            result = run(tree, args.repeat)
            for key in KEYS:
                best[name][key] = max(best[name][key], result[key])
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"best of {args.rounds} rounds x {args.repeat} passes; load average now {load}")
    for name in trees:
        learned, rules = best[name]["docs_per_s"], best[name]["rules_docs_per_s"]
        print(
            f"{name:5s} learned {learned:6,.0f}/s  rules {rules:6,.0f}/s  ÷ {learned / rules:.2f}"
        )
    this, base = best["this"], best["base"]
    print(
        f"this ÷ base: learned {this['docs_per_s'] / base['docs_per_s']:.2f},"
        f" rules {this['rules_docs_per_s'] / base['rules_docs_per_s']:.2f};"
        f" this learned ÷ base rules {this['docs_per_s'] / base['rules_docs_per_s']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
