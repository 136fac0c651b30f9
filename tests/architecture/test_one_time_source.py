"""One time source: use cases and domain rules take `now` from `shared.clock`, never the system clock.

Backdated imports (`X-ITSM-Occurred-At`) and tests that set the clock depend on it. Each
use-case and domain module is imported (so a module that no longer loads fails here too) and its
source is read for direct `datetime.now()`, `datetime.utcnow()`, `date.today()` or `time.time()`.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("usecases", "domain")
MODULES = sorted(p for room in ROOMS for p in (ROOT / "services").glob(f"*/{room}/*.py"))
CLOCK_READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("time", "time")}


def clock_reads(source: str) -> list[int]:
    """Lines that read the system clock directly."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if (name, node.func.attr) in CLOCK_READS:
                lines.append(node.lineno)
    return lines


def test_the_check_sees_every_form_of_a_clock_read() -> None:
    source = "import datetime as dt\nfrom datetime import datetime, date, UTC\nimport time\n"
    source += "a = datetime.now(UTC)\nb = dt.datetime.utcnow()\nc = date.today()\nd = time.time()\ne = clock.now()\n"
    assert clock_reads(source) == [4, 5, 6, 7]


def test_every_service_has_use_case_modules_to_check() -> None:
    services = {p.parts[-3] for p in MODULES if p.parent.name == "usecases"}
    assert services == {"incident", "change", "config", "supplier", "reporting", "notify"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_use_case_or_domain_module_reads_the_system_clock(path: Path) -> None:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    importlib.import_module(module)
    reads = clock_reads(path.read_text())
    assert not reads, f"{module} reads the system clock at lines {reads}: use shared.clock.now()"
