"""The import-linter contracts bite: a forbidden import in a scratch copy of the tree breaks them.

Each service's `layers` contract covers every one of its modules (`exhaustive = true`), so a
domain module importing a route module, a module outside every layer, or a domain module
importing the database must fail `lint-imports`. The test plants one of each per service in a
copy of the tree and checks that every planted fault is reported.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["incident", "change", "config", "supplier", "reporting", "notify"]


def _scratch_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.json", "web")
    for name in ("services", "shared", "itsm"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_untouched_copy_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint_imports(_scratch_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_a_stray_module_or_an_impure_domain_breaks_the_contracts(tmp_path: Path) -> None:
    tree = _scratch_copy(tmp_path)
    for service in SERVICES:
        home = tree / "services" / service
        # the hole the house plan closed: a domain module reaching up into routes and use cases
        _append(home / "domain" / "__init__.py", f"from services.{service}.api import deps as _up  # noqa")
        # a module that belongs to no layer
        (home / "stray_helper.py").write_text(f"from services.{service} import domain as _d  # noqa\n")
    _append(tree / "services" / "change" / "domain" / "__init__.py", "import sqlalchemy as _sa  # noqa")
    result = _lint_imports(tree)
    report = result.stdout + result.stderr
    assert result.returncode != 0, report
    for service in SERVICES:
        assert f"The {service} service is layered: entry points over use cases over the domain BROKEN" in report
        assert f"services.{service}.domain -> services.{service}.api" in report, f"{service}: upward import missed"
        assert f"services.{service}.stray_helper" in report, f"{service}: a module outside every layer was missed"
    assert "Domain code is pure" in report and "services.change.domain -> sqlalchemy" in report
