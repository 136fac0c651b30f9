"""Mutation testing of the domain modules (`make mutation`): runs mutmut, prints a score per module
and writes it to docs/mutation.md.

    uv run python -m bench.mutation                      # every services/<svc>/domain/*.py
    uv run python -m bench.mutation services/supplier/domain/contracts.py ...
    uv run python -m bench.mutation --report-only        # re-read mutants/ without running
    uv run python -m bench.mutation --survivors [MODULE ...]  # each counted survivor with its diff
    uv run python -m bench.mutation --propose-message-text [MODULE ...]  # exclusion entries to review

mutmut (configured in pyproject.toml, `[tool.mutmut]`) copies the code to mutants/, mutates every
function of the domain modules and runs, for each mutant, the unit tests that reach that function.
The score of a module is killed / (killed + survived), where a timeout counts as killed, a mutant
that no test reaches ("no tests") as survived, and anything mutmut could not decide (suspicious,
segfault, not checked) as survived too. Surviving mutants listed in docs/mutation-exclusions.toml
as equivalent or as changing message text only leave the denominator; each entry keeps the mutated
line, so an entry that no longer describes its mutant (the code moved on) is reported as stale and
not applied.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import time
import tokenize
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "mutation.md"
EXCLUSIONS = ROOT / "docs" / "mutation-exclusions.toml"
MUTANTS = ROOT / "mutants"
LOG = MUTANTS / "mutmut-run.log"
MODULE_PATTERN = re.compile(r"^services/[a-z_]+/domain/[a-z_]+\.py$")
BEGIN, END = "<!-- mutation:begin -->", "<!-- mutation:end -->"
KINDS = ("equivalent", "message-text")

KILLED_CODES = {1, 3, 37}  # a failing test, a pytest internal error, the type checker
TIMEOUT_CODES = {24, -24, 36, 152, 255}  # SIGXCPU and mutmut's own timeout code
SURVIVED_CODES = {0}
NO_TESTS_CODES = {5, 33}


def domain_modules() -> list[str]:
    """Every services/<svc>/domain/*.py (not deeper), as paths relative to the repository."""
    return sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("services/*/domain/*.py"))


def dotted(module: str) -> str:
    name = module.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def has_functions(module: str) -> bool:
    return re.search(r"^\s*(async\s+)?def\s", (ROOT / module).read_text(), re.MULTILINE) is not None


def status_of(code: int | None) -> str:
    if code in KILLED_CODES:
        return "killed"
    if code in TIMEOUT_CODES:
        return "timeout"
    if code in SURVIVED_CODES:
        return "survived"
    if code in NO_TESTS_CODES:
        return "no tests"
    return "unresolved"  # not checked, suspicious, segfault, interrupted, skipped


@dataclass(frozen=True)
class Exclusion:
    mutant: str
    kind: str
    reason: str
    mutation: str


def load_exclusions(path: Path = EXCLUSIONS) -> dict[str, Exclusion]:
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    out: dict[str, Exclusion] = {}
    for name, entry in data.get("mutants", {}).items():
        kind, reason, mutation = entry.get("kind", ""), entry.get("reason", ""), entry.get("mutation", "")
        if kind not in KINDS or not reason.strip() or not mutation.strip():
            raise SystemExit(f"{path}: {name} needs kind ({' or '.join(KINDS)}), a reason and the mutated line")
        out[name] = Exclusion(name, kind, reason.strip(), mutation.strip())
    return out


def mutant_diff(mutant: str, module: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(mutant, path=module)


def mutated_lines(diff: str) -> list[str]:
    return [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]


@dataclass
class ModuleScore:
    module: str
    counts: dict[str, int] = field(default_factory=dict)
    excluded: list[Exclusion] = field(default_factory=list)
    stale: list[Exclusion] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)

    @property
    def mutants(self) -> int:
        return sum(self.counts.values())

    @property
    def killed(self) -> int:
        return self.counts.get("killed", 0) + self.counts.get("timeout", 0)

    @property
    def survived(self) -> int:
        """Counted against the score: survivors, mutants no test reaches and undecided ones, less exclusions."""
        return len(self.survivors)

    @property
    def run(self) -> bool:
        return self.mutants > self.counts.get("unresolved", 0) or self.mutants == 0

    @property
    def score(self) -> float | None:
        judged = self.killed + self.survived
        return 100.0 * self.killed / judged if judged else None

    @property
    def raw_score(self) -> float | None:
        """The score before the exclusions."""
        judged = self.killed + self.survived + len(self.excluded)
        return 100.0 * self.killed / judged if judged else None


def score_module(module: str, exclusions: dict[str, Exclusion]) -> ModuleScore:
    result = ModuleScore(module)
    meta = MUTANTS / (module + ".meta")
    if not meta.exists():
        return result
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    for mutant, code in sorted(codes.items(), key=lambda kv: _natural(kv[0])):
        status = status_of(code)
        result.counts[status] = result.counts.get(status, 0) + 1
        if status in ("killed", "timeout"):
            continue
        exclusion = exclusions.get(mutant)
        if exclusion is not None and status in ("survived", "no tests"):
            if exclusion.mutation in mutated_lines(mutant_diff(mutant, module)):
                result.excluded.append(exclusion)
                continue
            result.stale.append(exclusion)
        result.survivors.append(mutant)
    return result


def _natural(name: str) -> tuple[str, int]:
    head, _, number = name.rpartition("__mutmut_")
    return head, int(number) if number.isdigit() else 0


def run_mutmut(modules: Sequence[str], jobs: int) -> float:
    """Run mutmut on the modules' mutants (every one of them again, so changed tests count)."""
    names = [f"{dotted(m)}.x*" for m in modules if has_functions(m)]
    if not names:
        return 0.0
    MUTANTS.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *names]
    print(f"mutmut on {len(names)} module(s), {jobs} worker(s); log: {LOG.relative_to(ROOT)}", flush=True)
    started = time.monotonic()
    with LOG.open("w") as log:
        done = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        tail = LOG.read_text(errors="replace").replace("\r", "\n").splitlines()[-30:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"mutmut failed (exit {done.returncode}); see {LOG}")
    return elapsed


def _pct(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.1f}%"


def table(scores: Iterable[ModuleScore]) -> list[str]:
    lines = [
        "| module | mutants | killed | survived | excluded | score | before exclusions |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        if not s.run:
            lines.append(f"| `{s.module}` | {s.mutants} | not run | | | |")
            continue
        lines.append(
            f"| `{s.module}` | {s.mutants} | {s.killed} | {s.survived} | {len(s.excluded)} | {_pct(s.score)}"
            f" | {_pct(s.raw_score)} |"
        )
    return lines


def print_table(scores: Sequence[ModuleScore]) -> None:
    width = max([len(s.module) for s in scores] + [6])
    heads = ("mutants", "killed", "survived", "excluded", "score", "raw")
    print(f"{'module':<{width}}  " + "  ".join(f"{h:>{max(len(h), 6)}}" for h in heads))
    for s in scores:
        if not s.run:
            print(f"{s.module:<{width}}  {s.mutants:>7}  not run")
            continue
        print(
            f"{s.module:<{width}}  {s.mutants:>7}  {s.killed:>6}  {s.survived:>8}  {len(s.excluded):>8}"
            f"  {_pct(s.score):>6}  {_pct(s.raw_score):>6}"
        )
        for stale in s.stale:
            print(f"  stale exclusion (the mutant changed; judge it again): {stale.mutant}")


def write_doc(scores: Sequence[ModuleScore], exclusions: dict[str, Exclusion], note: str | None) -> None:
    """Replace the generated part of docs/mutation.md; rows of modules not scored now are kept, and
    so is the note on the last run when nothing ran (`note` None)."""
    text = DOC.read_text() if DOC.exists() else f"# Mutation testing\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    old, tail = rest.split(END, 1)
    scored = {s.module for s in scores}
    kept = [
        line
        for line in old.splitlines()
        if line.startswith("| `services/") and line.split("`")[1] not in scored and (ROOT / line.split("`")[1]).exists()
    ]
    rows = sorted(table(scores)[2:] + kept, key=lambda line: line.split("`")[1])
    if note is None:
        note = next((line for line in old.splitlines() if line.startswith("Last ")), "Last run: not recorded.")
    body = [
        "",
        note,
        "",
        *table([])[:2],
        *rows,
        "",
        "### Survivors left out of the score",
        "",
        "From [`mutation-exclusions.toml`](mutation-exclusions.toml); `mutmut show NAME` prints a mutant's diff.",
        "",
    ]
    by_module: dict[str, list[Exclusion]] = {}
    for e in sorted(exclusions.values(), key=lambda e: _natural(e.mutant)):
        owners = [m for m in domain_modules() if e.mutant.startswith(dotted(m) + ".")]
        module = max(owners, key=lambda m: len(dotted(m)), default="(module gone)")
        by_module.setdefault(module, []).append(e)
    if not by_module:
        body.append("None.")
    for module, entries in sorted(by_module.items()):
        body.append(f"`{module}`:")
        body.append("")
        body.extend(f"- `{e.mutant.rpartition('.')[2]}` ({e.kind}): {e.reason}" for e in entries)
        body.append("")
    DOC.write_text(head + BEGIN + "\n".join(body).rstrip("\n") + "\n" + END + tail)


def show_survivors(scores: Sequence[ModuleScore]) -> None:
    for s in scores:
        for mutant in s.survivors:
            print(f"# {mutant}")
            print(mutant_diff(mutant, s.module))
            print()


def _tokens(line: str) -> list[tokenize.TokenInfo] | None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return [t for t in tokens if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)]


def _reworded(old: str, new: str) -> bool:
    """`new` is `old` (a string literal holding words, not a name or key) wrapped in XX or in another case."""
    text = old.strip("\"'")
    if " " not in text.strip():
        return False
    return new.strip("\"'") in (f"XX{text}XX", text.upper(), text.lower(), text.capitalize())


def rewords_text_only(diff: str) -> str | None:
    """The mutated line when a mutant only rewords string literals holding words (mutmut's `XX..XX`
    and case mutations), else None. A candidate for a message-text exclusion, not a verdict: whether
    the text is only read by a person (an error's reason) or is part of a record, a person judges."""
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    if len(removed) != 1 or len(added) != 1:
        return None
    before, after = _tokens(removed[0]), _tokens(added[0])
    if before is None or after is None or len(before) != len(after):
        return None
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a.string != b.string]
    if not changed or any(a.type != tokenize.STRING or not _reworded(a.string, b.string) for a, b in changed):
        return None
    return added[0].strip()


def propose_message_text(scores: Sequence[ModuleScore]) -> list[str]:
    """TOML entries for the counted survivors that only reword a text: printed for review, never applied."""
    out: list[str] = []
    for s in scores:
        for mutant in s.survivors:
            line = rewords_text_only(mutant_diff(mutant, s.module))
            if line is None:
                continue
            out += [
                f'[mutants."{mutant}"]',
                'kind = "message-text"',
                'reason = "rewords an error\'s reason text; the refused field and the outcome are the same"',
                f"mutation = {json.dumps(line, ensure_ascii=False)}",
                "",
            ]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="services/<svc>/domain/<name>.py (default: every one)")
    parser.add_argument("--jobs", type=int, default=2, help="mutmut worker processes (default 2)")
    parser.add_argument("--report-only", action="store_true", help="score what mutants/ holds, run nothing")
    parser.add_argument("--survivors", action="store_true", help="print each counted survivor's diff, run nothing")
    parser.add_argument(
        "--propose-message-text",
        action="store_true",
        help="print exclusion entries for survivors that only reword a text, to review (run nothing)",
    )
    parser.add_argument("--fail-under", type=float, help="exit 1 when a module scores below this percentage")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/mutation.md")
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # mutmut reads pyproject.toml and mutants/ from the working directory

    modules = sorted({Path(m).as_posix().removeprefix("./") for m in args.modules}) or domain_modules()
    wrong = [m for m in modules if not MODULE_PATTERN.match(m) or not (ROOT / m).is_file()]
    if wrong:
        parser.error(f"not a domain module (services/<svc>/domain/<name>.py): {', '.join(wrong)}")
    exclusions = load_exclusions()

    elapsed = None
    if not (args.report_only or args.survivors or args.propose_message_text):
        elapsed = run_mutmut(modules, args.jobs)
    # a module without functions (a package's __init__) has no mutants and no row
    scores = [s for s in (score_module(m, exclusions) for m in modules) if s.mutants]
    if args.survivors:
        show_survivors(scores)
        return 0
    if args.propose_message_text:
        print("\n".join(propose_message_text(scores)))
        return 0
    print_table(scores)
    if elapsed is not None:
        print(f"took {elapsed:.0f} s")
    if not args.no_doc:
        when = datetime.now(UTC).strftime("%Y-%m-%d")
        modules_run = len([m for m in modules if has_functions(m)])
        note = (
            f"Last run {when}: {modules_run} module(s), {elapsed / 60:.1f} min with {args.jobs} workers."
            if elapsed is not None
            else None
        )
        write_doc(scores, exclusions, note)
        print(f"wrote {DOC.relative_to(ROOT)}")
    low = [s for s in scores if args.fail_under is not None and (s.score is None or s.score < args.fail_under)]
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
