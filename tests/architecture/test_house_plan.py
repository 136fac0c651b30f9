"""Every service has the same rooms: the root files, the five role packages, one module per area.

A newcomer who knows one service knows all six (docs/architecture.md). These tests walk
`services/*` and fail on a missing room, a suffix file (`api_problem.py`), an area package
(`sla/`) or a product module over 400 lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "app.py").exists())
ROOT_FILES = {"__init__.py", "app.py", "worker.py", "settings.py", "events.py", "README.md"}
ROLES = {"api", "schemas", "domain", "usecases", "store"}
REQUIRED_MODULES = {"api/deps.py", "store/tables.py"}
MAX_LINES = 400


def _product_modules() -> list[Path]:
    roots = [ROOT / "services", ROOT / "shared", ROOT / "itsm"]
    return sorted(p for r in roots for p in r.rglob("*.py") if "migrations" not in p.relative_to(ROOT).parts)


def test_the_six_services_are_found() -> None:
    assert SERVICES == ["change", "config", "incident", "notify", "reporting", "supplier"]


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_has_every_root_file_and_room(service: str) -> None:
    home = ROOT / "services" / service
    missing = sorted(name for name in ROOT_FILES | {"migrations"} if not (home / name).exists())
    missing += sorted(f"{role}/" for role in ROLES if not (home / role / "__init__.py").exists())
    missing += sorted(m for m in REQUIRED_MODULES if not (home / m).exists())
    assert not missing, f"services/{service} lacks {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_nothing_else_stands_at_a_service_root(service: str) -> None:
    home = ROOT / "services" / service
    strays = sorted(p.name for p in home.glob("*.py") if p.name not in ROOT_FILES)
    packages = sorted(p.name for p in home.iterdir() if p.is_dir() and any(p.rglob("*.py")))
    assert not strays, f"services/{service} has modules outside the rooms (suffix files?): {strays}"
    assert set(packages) <= ROLES | {"migrations"}, f"services/{service} has area packages: {set(packages) - ROLES}"


@pytest.mark.parametrize("service", SERVICES)
def test_rooms_hold_area_modules_not_area_packages(service: str) -> None:
    home = ROOT / "services" / service
    nested = sorted(str(p.relative_to(home)) for role in ROLES for p in (home / role).glob("*/") if p.is_dir())
    nested = [n for n in nested if not n.endswith("__pycache__")]
    assert not nested, f"services/{service}: a room holds a package instead of area modules: {nested}"


def test_no_product_module_is_over_400_lines() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in _product_modules()}
    over = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert len(sizes) > 100, "the walk found too few modules to be checking the tree"
    assert not over, f"modules over {MAX_LINES} lines (split them along their seams): {over}"
