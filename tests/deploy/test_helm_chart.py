"""The Helm chart follows the code: every environment variable it sets is a setting a service reads
(or an OpenTelemetry SDK variable), its limits are the code's defaults, its probes are the routes
the services serve, its ServiceMonitors find the pods' metrics ports and its PrometheusRule is
deploy/prometheus/alerts.yml. The rendering tests run Helm's own engine (a `helm` binary or
tools/helm, which .ci/run installs) and skip without one; the others read the chart's files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.app import health_router
from shared.settings import ServiceSettings
from tests.deploy.chart import (
    CHART,
    CLI_VARIABLES,
    NOT_SETTINGS,
    OTEL_NAMES,
    SERVICES,
    RenderError,
    lint,
    of_kind,
    render,
    renderer,
    settings_class,
    unknown_variables,
    values,
)
from tests.deploy.dashboards import ALERTS, ROOT

needs_helm = pytest.mark.skipif(
    renderer() is None, reason="no Helm renderer: a helm binary, or tools/helm/.venv (.ci/run installs it)"
)

EVERYTHING_ON: dict[str, Any] = {
    "otel": {
        "endpoint": "http://collector:4318",
        "sampler": "parentbased_traceidratio",
        "samplerArg": "0.1",
        "resourceAttributes": "team=platform",
        "tracesExporter": "otlp",
        "metricsExporter": "prometheus,otlp",
        "metricExportIntervalMs": 30000,
    },
    "jwt": {"jwksUrl": "https://idp.example/jwks", "audience": "itsm", "issuer": "https://idp.example"},
    "queuePrefix": "prod-",
    "keda": {"enabled": True},
    "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}}},
    "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "services": {name: {"worker": {"enabled": True}} for name in SERVICES},
}

# Limits in values.yaml -> (the setting, the services it is set on).
LIMITS = {
    "maxBodyBytes": ("max_body_bytes", SERVICES),
    "maxBulkBodyBytes": ("max_bulk_body_bytes", SERVICES),
    "maxHeaderBytes": ("max_header_bytes", SERVICES),
    "headerTimeoutSeconds": ("header_timeout_s", SERVICES),
    "writeRatePerMinute": ("write_rate_per_minute", SERVICES),
    "writeBurst": ("write_burst", SERVICES),
    "jwtMaxLifetimeHours": ("jwt_max_lifetime_hours", SERVICES),
    "listCountLimit": ("list_count_limit", ("incident",)),
    "streamMaxReaders": ("stream_max_readers", ("reporting",)),
    "streamMaxPerSubject": ("stream_max_per_subject", ("reporting",)),
    "streamKeepaliveSeconds": ("stream_keepalive_s", ("reporting",)),
}

# notify's values in values.yaml (notify.<group>.<key>) -> the setting.
NOTIFY_VALUES = {
    ("mail", "smtpHost"): "mail_smtp_host",
    ("mail", "smtpPort"): "mail_smtp_port",
    ("mail", "smtpStarttls"): "mail_smtp_starttls",
    ("mail", "smtpUsername"): "mail_smtp_username",
    ("mail", "timeoutSeconds"): "mail_timeout_s",
    ("mail", "from"): "mail_from",
    ("mail", "replyTo"): "mail_reply_to",
    ("mail", "recipientDomain"): "mail_recipient_domain",
    ("mail", "locale"): "mail_locale",
    ("webhooks", "allowPrivateTargets"): "webhook_allow_private_targets",
    ("webhooks", "timeoutSeconds"): "webhook_timeout_s",
}
MAIL = {
    "smtpHost": "smtp.example.org",
    "smtpPort": 587,
    "smtpStarttls": True,
    "smtpUsername": "servicedesk",
    "from": "Desk <desk@example.org>",
    "replyTo": "desk@example.org",
    "recipientDomain": "example.org",
    "locale": "de",
}


def service_of(manifest: dict[str, Any]) -> str:
    return str(manifest["metadata"]["labels"]["app.kubernetes.io/name"]).removeprefix("itsm-")


def containers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = manifest["spec"]["template"]["spec"]["containers"]
    return found


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def workloads(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] in ("Deployment", "Job")]


# --- what the chart's files say, without rendering -------------------------------------------------


def test_the_charts_alert_rules_are_deploy_prometheus_alerts_yml() -> None:
    """The PrometheusRule's body comes from files/alerts.yml (Helm reads no file outside the chart):
    after changing deploy/prometheus/alerts.yml, copy it to deploy/helm/itsm/files/alerts.yml."""
    assert (CHART / "files" / "alerts.yml").read_bytes() == ALERTS.read_bytes()


def test_every_variable_the_templates_name_is_a_setting_the_code_reads() -> None:
    """Read from the templates' text: the names in `- name: X` and in the settings tables, and the
    `<SERVICE>_X` names the templates build for each service. A name set on every service must be
    a setting every service has (shared/settings.py); a service's own, a setting of that service."""
    text = "\n".join(p.read_text() for p in sorted((CHART / "templates").glob("*")))
    named = set(re.findall(r"- name: ([A-Z][A-Z0-9_]+)\b", text)) | set(re.findall(r'"(ITSM_[A-Z0-9_]+)"', text))
    per_service = set(re.findall(r'printf "%s_([A-Z0-9_]+)" \(upper', text))
    own = {
        s: set(re.findall(rf'"({s.upper()}_[A-Z0-9_]+)"', text)) | {n for n in named if n.startswith(f"{s.upper()}_")}
        for s in SERVICES
    }
    assert {"ITSM_MAX_HEADER_BYTES", "ITSM_WRITE_BURST", "OTEL_METRICS_EXPORTER", "ITSM_HOST"} <= named
    assert {"DATABASE_URL", "WORKER_METRICS_PORT"} <= per_service
    assert "INCIDENT_LIST_COUNT_LIMIT" in own["incident"]
    assert "REPORTING_STREAM_MAX_READERS" in own["reporting"]
    assert {"NOTIFY_MAIL_SMTP_HOST", "NOTIFY_MAIL_SMTP_PASSWORD"} <= own["notify"]
    common = {n for n in named if n.startswith("ITSM_")} - set(CLI_VARIABLES)
    assert {n for n in common if n.removeprefix("ITSM_").lower() not in ServiceSettings.model_fields} == set()
    for service in SERVICES:
        others = set().union(*(own[s] for s in SERVICES if s != service))
        names = (named - common - others) | {f"{service.upper()}_{n}" for n in per_service} | own[service]
        assert unknown_variables(service, names) == set(), service


def test_the_check_refuses_a_name_no_setting_has() -> None:
    assert unknown_variables("incident", {"ITSM_MAX_HEADERS_BYTES", "INCIDENT_STREAM_MAX_READERS"}) == {
        "ITSM_MAX_HEADERS_BYTES",
        "INCIDENT_STREAM_MAX_READERS",
    }
    assert unknown_variables("reporting", {"REPORTING_STREAM_MAX_READERS", "OTEL_SERVICE_NAME", "PORT"}) == set()
    assert {"OTEL_METRICS_EXPORTER", "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_TRACES_SAMPLER_ARG"} <= OTEL_NAMES


def test_the_names_that_are_not_settings_are_what_the_image_and_the_pods_use() -> None:
    assert (
        'itsm serve "${SERVICE:?SERVICE is not set}" --host 0.0.0.0 --port "${PORT}"'
        in (ROOT / "deploy" / "Dockerfile").read_text()
    )
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    assert all(reference in helpers for reference in ("$(POD_NAME)", "$(POD_NAMESPACE)"))
    assert set(NOT_SETTINGS) == {"PORT", "POD_NAME", "POD_NAMESPACE"}


def test_the_cli_variables_the_chart_sets_are_read_by_those_commands() -> None:
    import typer.main

    from itsm.cli import app as cli

    commands = {
        c.name or "": typer.main.get_command_from_info(c, pretty_exceptions_short=True, rich_markup_mode=None)
        for c in cli.registered_commands
    }
    for variable, command in CLI_VARIABLES.items():
        assert variable in {p.envvar for p in commands[command].params}, (variable, command)


def test_the_limits_in_values_yaml_are_the_codes_defaults() -> None:
    """Installing the chart changes no limit: each value is its setting's default (a deliberate
    change of a default changes both)."""
    limits = values()["limits"]
    assert set(limits) == set(LIMITS)
    for key, (field, services) in LIMITS.items():
        for service in services:
            assert limits[key] == settings_class(service).model_fields[field].default, (key, service)
    sample = values()["metrics"]["sampleIntervalSeconds"]
    assert sample == ServiceSettings.model_fields["metrics_sample_interval_s"].default


def test_the_notify_values_are_the_codes_defaults() -> None:
    """Installing the chart changes no mail or webhook setting until a value is given."""
    given = values()["notify"]
    assert {(group, key) for group, keys in given.items() for key in keys} == set(NOTIFY_VALUES)
    fields = settings_class("notify").model_fields
    for (group, key), field in NOTIFY_VALUES.items():
        assert given[group][key] == fields[field].default, (group, key)
    assert values()["secrets"]["smtpPassword"] == {"name": "", "key": "password"}


def test_the_probes_are_on_routes_the_services_serve() -> None:
    served = {route.path for route in health_router().routes}  # type: ignore[attr-defined]
    probes = values()["probes"]
    assert probes["readiness"]["path"] == "/readyz"
    assert {probe["path"] for probe in probes.values()} <= served


def test_every_value_the_templates_read_is_in_values_yaml() -> None:
    given = values()
    text = "\n".join(p.read_text() for p in sorted((CHART / "templates").glob("*")))
    paths = set(re.findall(r"(?:\.Values|\$v)\.([A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9_])", text))
    assert {"metrics.serviceMonitor.enabled", "prometheusRule.enabled", "limits"} <= paths
    missing = []
    for path in paths:
        node: Any = given
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(path)
                break
            node = node[part]
    assert missing == []


# --- the chart as Helm renders it ---------------------------------------------------------------


@needs_helm
def test_the_chart_lints_clean() -> None:
    if renderer() != "tools/helm":
        pytest.skip("lint runs through tools/helm")
    assert lint()["errors"] == []


@needs_helm
def test_every_variable_a_rendered_container_gets_is_a_setting_the_code_reads(tmp_path: Path) -> None:
    manifests = render(EVERYTHING_ON, tmp_path)
    seen: set[str] = set()
    for manifest in workloads(manifests):
        service = service_of(manifest)
        for container in containers(manifest):
            names = set(env_of(container))
            seen |= names
            assert unknown_variables(service, names) == set(), (manifest["metadata"]["name"], container["name"])
    assert {"OTEL_METRIC_EXPORT_INTERVAL", "OTEL_METRICS_EXPORTER", "ITSM_WRITE_RATE_PER_MINUTE"} <= seen
    assert {"INCIDENT_WORKER_METRICS_PORT", "INCIDENT_LIST_COUNT_LIMIT", "REPORTING_STREAM_MAX_READERS"} <= seen


@needs_helm
def test_the_limits_reach_the_containers_of_their_services(tmp_path: Path) -> None:
    given = {"limits": {"writeRatePerMinute": 120, "writeBurst": 20, "headerTimeoutSeconds": 2.5, "maxBodyBytes": None}}
    deployments = of_kind(render(given, tmp_path), "Deployment")
    for name in SERVICES:
        env = env_of(containers(deployments[f"itsm-{name}"])[0])
        assert env["ITSM_WRITE_RATE_PER_MINUTE"] == "120"
        assert env["ITSM_WRITE_BURST"] == "20"
        assert env["ITSM_HEADER_TIMEOUT_S"] == "2.5"
        assert env["ITSM_MAX_HEADER_BYTES"] == "32768"
        assert env["ITSM_MAX_BULK_BODY_BYTES"] == "67108864"  # not 6.7108864e+07
        assert "ITSM_MAX_BODY_BYTES" not in env  # null: the code's default
        assert ("INCIDENT_LIST_COUNT_LIMIT" in env) == (name == "incident")
        assert ("REPORTING_STREAM_MAX_PER_SUBJECT" in env) == (name == "reporting")


@needs_helm
def test_the_api_probes_and_the_worker_metrics_port(tmp_path: Path) -> None:
    deployments = of_kind(render(EVERYTHING_ON, tmp_path), "Deployment")
    for name in SERVICES:
        (api,) = containers(deployments[f"itsm-{name}"])
        assert api["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        port = values()["services"][name]["port"]
        assert api["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        (worker,) = containers(deployments[f"itsm-{name}-worker"])
        assert worker["ports"] == [{"name": "metrics", "containerPort": port + 100, "protocol": "TCP"}]
        assert env_of(worker)[f"{name.upper()}_WORKER_METRICS_PORT"] == str(port + 100)


@needs_helm
def test_the_continuity_pack_cronjob_writes_dated_packs_into_its_claim_with_the_token_secret(tmp_path: Path) -> None:
    chosen = {"enabled": True, "schedule": "15 2 * * *", "keep": 14, "claimName": "dr-packs"}
    chosen["token"] = {"secretName": "itsm-continuity-token", "secretKey": "token"}
    (job,) = of_kind(render({"continuityPack": chosen}, tmp_path), "CronJob").values()
    assert job["metadata"]["name"] == "itsm-config-continuity-pack"
    assert (job["spec"]["schedule"], job["spec"]["concurrencyPolicy"]) == ("15 2 * * *", "Forbid")
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    port = values()["services"]["config"]["port"]
    assert container["command"] == [
        *("itsm", "continuity-pack", "--dated", "--keep", "14"),
        *("--url", f"http://itsm-config:{port}", "--out", "/pack"),
    ]
    secret = container["env"][0]["valueFrom"]["secretKeyRef"]
    assert container["env"][0]["name"] == "ITSM_TOKEN" and secret == {"name": "itsm-continuity-token", "key": "token"}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["pack"] == "/pack" and volumes["pack"]["persistentVolumeClaim"] == {"claimName": "dr-packs"}
    with pytest.raises(RenderError, match="claimName"):
        render({"continuityPack": {**chosen, "claimName": ""}}, tmp_path)


@needs_helm
def test_no_service_monitor_nor_prometheus_rule_unless_asked(tmp_path: Path) -> None:
    kinds = {m["kind"] for m in render({}, tmp_path)}
    assert kinds == {"Deployment", "Service", "PodDisruptionBudget", "Job"}


@needs_helm
def test_the_service_monitors_scrape_every_api_and_worker_as_its_services_job(tmp_path: Path) -> None:
    manifests = render(EVERYTHING_ON, tmp_path)
    monitors, services, deployments = (of_kind(manifests, k) for k in ("ServiceMonitor", "Service", "Deployment"))
    assert set(monitors) == {f"itsm-{s}{part}" for s in SERVICES for part in ("", "-worker")}
    for name, monitor in monitors.items():
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        selector = monitor["spec"]["selector"]["matchLabels"]
        # The Service it selects, and the pods that Service selects: the Deployment's.
        (service,) = (s for s in services.values() if selector.items() <= s["metadata"]["labels"].items())
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        (endpoint,) = monitor["spec"]["endpoints"]
        (port,) = (p for p in service["spec"]["ports"] if p["name"] == endpoint["port"])
        (container,) = containers(deployments[name])
        assert port["targetPort"] in {p["name"] for p in container["ports"]}
        assert endpoint["path"] == "/metrics"
        job = {r["targetLabel"]: r.get("replacement") for r in endpoint["relabelings"]}["job"]
        assert job == f"itsm-{service_of(monitor)}"
    assert monitors["itsm-config-worker"]["spec"]["endpoints"][0]["port"] == "metrics"
    assert services["itsm-config-worker"]["spec"]["clusterIP"] == "None"


@needs_helm
def test_the_prometheus_rule_is_deploy_prometheus_alerts_yml(tmp_path: Path) -> None:
    (rule,) = of_kind(render(EVERYTHING_ON, tmp_path), "PrometheusRule").values()
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"] == yaml.safe_load(ALERTS.read_text())
    # Prometheus's own templating in the annotations is left as it is, not run by Helm.
    assert "{{ $labels.job }}" in rule["spec"]["groups"][0]["rules"][0]["annotations"]["summary"]


@needs_helm
def test_prod_without_a_way_to_verify_tokens_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="environment prod needs"):
        render({"secrets": {"jwt": {"name": ""}}}, tmp_path)


@needs_helm
def test_the_mail_settings_and_the_smtp_password_secret_reach_the_notify_containers_only(tmp_path: Path) -> None:
    given = {
        **EVERYTHING_ON,
        "notify": {"mail": MAIL, "webhooks": {"allowPrivateTargets": True}},
        "secrets": {"smtpPassword": {"name": "itsm-smtp", "key": "pass"}},
    }
    manifests = render(given, tmp_path)
    deployments = of_kind(manifests, "Deployment")
    for name in ("itsm-notify", "itsm-notify-worker"):
        env = env_of(containers(deployments[name])[0])
        assert env["NOTIFY_MAIL_SMTP_HOST"] == "smtp.example.org"
        assert env["NOTIFY_MAIL_SMTP_PORT"] == "587"
        assert env["NOTIFY_MAIL_SMTP_STARTTLS"] == "true"
        assert env["NOTIFY_MAIL_SMTP_USERNAME"] == "servicedesk"
        assert env["NOTIFY_MAIL_FROM"] == "Desk <desk@example.org>"
        assert env["NOTIFY_MAIL_REPLY_TO"] == "desk@example.org"
        assert env["NOTIFY_MAIL_RECIPIENT_DOMAIN"] == "example.org"
        assert env["NOTIFY_MAIL_LOCALE"] == "de"
        assert env["NOTIFY_MAIL_TIMEOUT_S"] == "30"
        assert env["NOTIFY_WEBHOOK_ALLOW_PRIVATE_TARGETS"] == "true"
        # The password only by reference to the platform's Secret: never a value in the manifest.
        assert env["NOTIFY_MAIL_SMTP_PASSWORD"] == {"secretKeyRef": {"name": "itsm-smtp", "key": "pass"}}
    (migrate,) = [m for name, m in of_kind(manifests, "Job").items() if name.startswith("itsm-notify")]
    assert "NOTIFY_MAIL_SMTP_PASSWORD" not in env_of(containers(migrate)[0])  # migrations send no mail
    for manifest in workloads(manifests):
        if service_of(manifest) != "notify":
            assert not any(n.startswith("NOTIFY_") for n in env_of(containers(manifest)[0])), manifest["metadata"]
    text = (tmp_path / "values.json").read_text()
    assert "NOTIFY_MAIL_SMTP_PASSWORD" not in text


@needs_helm
def test_without_a_password_secret_no_password_variable_and_no_password_without_a_user(tmp_path: Path) -> None:
    env = env_of(containers(of_kind(render({"notify": {"mail": MAIL}}, tmp_path), "Deployment")["itsm-notify"])[0])
    assert env["NOTIFY_MAIL_SMTP_HOST"] == "smtp.example.org"
    assert "NOTIFY_MAIL_SMTP_PASSWORD" not in env
    with pytest.raises(RenderError, match=r"secrets\.smtpPassword needs notify\.mail\.smtpUsername"):
        render({"secrets": {"smtpPassword": {"name": "itsm-smtp"}}}, tmp_path)
