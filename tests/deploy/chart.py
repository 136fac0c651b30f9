"""The Helm chart (deploy/helm/itsm) as its tests read it: rendered by Helm's own engine where one
is here (a `helm` binary, or tools/helm's renderer, which .ci/run installs), and the settings the
code reads, to hold every environment variable the chart sets against."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import opentelemetry.environment_variables
import opentelemetry.sdk.environment_variables
import yaml

from itsm.registry import SERVICE_NAMES
from shared.settings import ServiceSettings
from tests.deploy.dashboards import ROOT

CHART = ROOT / "deploy" / "helm" / "itsm"
SERVICES = SERVICE_NAMES
_TOOLS_PYTHON = ROOT / "tools" / "helm" / ".venv" / "bin" / "python"
_TOOLS_RENDER = ROOT / "tools" / "helm" / "render.py"


def values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    return loaded


def renderer() -> str | None:
    """What renders the chart here: `helm`, `tools/helm` (its own environment), or None."""
    if shutil.which("helm"):
        return "helm"
    if _TOOLS_PYTHON.exists():
        return "tools/helm"
    return None


class RenderError(Exception):
    """Helm refused to render (a template's `fail` or `required`, a template error)."""


def render(overrides: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    """Every manifest of the chart rendered with these values over values.yaml (release `itsm` in
    namespace `itsm`), as `helm template` gives them."""
    given = tmp_path / "values.json"
    given.write_text(json.dumps(overrides))
    how = renderer()
    if how == "helm":
        command = ["helm", "template", "itsm", str(CHART), "-n", "itsm", "-f", str(given)]
    elif how == "tools/helm":
        command = [str(_TOOLS_PYTHON), str(_TOOLS_RENDER), str(CHART), str(given), "itsm", "itsm"]
    else:
        raise RuntimeError("no Helm renderer here")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def lint() -> dict[str, Any]:
    """Helm's lint findings on the chart (`errors` and `messages`), from tools/helm."""
    result = subprocess.run(
        [str(_TOOLS_PYTHON), str(_TOOLS_RENDER), "--lint", str(CHART)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def of_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


@cache
def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    (found,) = (
        c
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, ServiceSettings) and c.__module__ == module.__name__
    )
    return found


def setting_names(settings: type[ServiceSettings], service: str) -> set[str]:
    """The environment variables these settings are read from: <SERVICE>_<FIELD>, then ITSM_<FIELD>."""
    fields = [name.upper() for name in settings.model_fields]
    return {f"ITSM_{f}" for f in fields} | {f"{service.upper()}_{f}" for f in fields}


OTEL_NAMES = frozenset(
    getattr(module, name)
    for module in (opentelemetry.environment_variables, opentelemetry.sdk.environment_variables)
    for name in dir(module)
    if name.startswith("OTEL_")
)
"""The `OTEL_*` variables the OpenTelemetry SDK (and shared/telemetry.py, shared/metrics.py) read."""

# Set by the chart for the image or for Kubernetes itself, not read as a setting: PORT is the port
# the image's command serves on (deploy/Dockerfile), the POD_* ones fill OTEL_RESOURCE_ATTRIBUTES.
NOT_SETTINGS = {"PORT": "deploy/Dockerfile", "POD_NAME": "$(POD_NAME)", "POD_NAMESPACE": "$(POD_NAMESPACE)"}
CLI_VARIABLES = {"ITSM_TOKEN": "continuity-pack"}
"""Read by a command of the `itsm` CLI (its option's envvar), not by a service: the continuity
pack CronJob's token."""


def unknown_variables(service: str, names: set[str]) -> set[str]:
    """The names among these that no setting of the service, the OpenTelemetry SDK or the image reads."""
    return {
        n for n in names if n not in OTEL_NAMES and n not in NOT_SETTINGS and n not in CLI_VARIABLES
    } - setting_names(settings_class(service), service)
