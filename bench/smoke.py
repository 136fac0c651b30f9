"""`--smoke`: a bench in a few seconds on small data, with every correctness check and no target judged.

CI runs every bench this way (`python -m bench --smoke`, tests/bench/test_smoke.py), so a bench
that stops working fails the build instead of surprising the next person who measures.
"""

from __future__ import annotations

import argparse
from typing import Any

HELP = "a few seconds on small data: every correctness check, no target judged (what CI runs)"
OK_LINE = "smoke: every check passed"
"""The last line a bench prints in smoke mode when it exits 0 (the smoke test looks for it)."""


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None = None, **small: Any) -> argparse.Namespace:
    """Parse with a `--smoke` flag that replaces the named arguments by their `small` values
    (`quiet_wait=0`, say: the smoke run never waits for the machine to be quiet)."""
    parser.add_argument("--smoke", action="store_true", help=HELP)
    args = parser.parse_args(argv)
    if args.smoke:
        unknown = sorted(set(small) - set(vars(args)))
        if unknown:
            raise ValueError(f"smoke values for arguments the bench does not have: {unknown}")
        for name, value in small.items():
            setattr(args, name, value)
    return args


def verdict(met: bool, args: argparse.Namespace) -> str:
    """How a target reads: met or MISSED; a smoke run's figures mean nothing, so it judges none."""
    if getattr(args, "smoke", False):
        return "not judged (smoke)"
    return "met" if met else "MISSED"


def finish(problems: list[str] | int, args: argparse.Namespace) -> int:
    """The exit status (1 on any correctness problem); a passing smoke run says so last."""
    failed = bool(problems)
    if getattr(args, "smoke", False) and not failed:
        print(OK_LINE, flush=True)
    return 1 if failed else 0
