"""Render a Helm chart with Helm's own engine, as `helm template` does, without a helm binary.

    tools/helm/.venv/bin/python tools/helm/render.py CHART VALUES.json [RELEASE [NAMESPACE]]

Prints every rendered manifest of the chart (templates/*.yaml, in name order) as one YAML stream;
a failed render (a template error, a `fail`, a `required` value missing) prints Helm's message
on stderr and exits 1. `--lint CHART` prints Helm's lint findings as JSON instead.
Run with the interpreter of tools/helm/.venv (requirements.txt), not the project's.
"""

from __future__ import annotations

import json
import sys

import helm_python as helm


def main(argv: list[str]) -> int:
    if argv[:1] == ["--lint"]:
        sys.stdout.write(json.dumps(helm.lint(argv[1])) + "\n")
        return 0
    chart_path, values_path, *rest = argv
    release = rest[0] if rest else "itsm"
    namespace = rest[1] if len(rest) > 1 else "itsm"
    with open(values_path, encoding="utf-8") as file:
        values = json.load(file)
    try:
        with helm.Chart.load(chart_path) as chart:
            manifests = chart.render(values, name=release, namespace=namespace)
    except helm.HelmError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    for name in sorted(manifests):
        if name.endswith((".yaml", ".yml")) and manifests[name].strip():
            sys.stdout.write(f"---\n# Source: {name}\n{manifests[name].strip()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
