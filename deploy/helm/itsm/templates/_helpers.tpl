{{/*
Helpers. Most take a context dict built once per service:
  dict "root" $ "name" "incident" "svc" $svc "component" "api"
where component is api, worker or migrate.
*/}}

{{- define "itsm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "itsm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "itsm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name: <fullname>-<service>, plus -worker or -migrate for those components. */}}
{{- define "itsm.objectName" -}}
{{- $base := printf "%s-%s" (include "itsm.fullname" .root) .name }}
{{- if eq .component "api" }}
{{- $base | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" $base .component | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "itsm.selectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-%s" (include "itsm.name" .root) .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "itsm.labels" -}}
helm.sh/chart: {{ include "itsm.chart" .root }}
{{ include "itsm.selectorLabels" . }}
app.kubernetes.io/part-of: {{ include "itsm.name" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* Pod template labels: the standard ones plus podLabels. */}}
{{- define "itsm.podLabels" -}}
{{ include "itsm.labels" . }}
{{- with .root.Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "itsm.image" -}}
{{- $v := .root.Values }}
{{- $own := .svc.image | default dict }}
{{- $repository := $own.repository | default (printf "%s/%s" $v.image.repository .name) }}
{{- $tag := $own.tag | default $v.image.tag | default .root.Chart.AppVersion }}
{{- printf "%s:%s" $repository (toString $tag) }}
{{- end }}

{{/*
Environment of every container of a service. Settings are read as <SERVICE>_<FIELD>, falling
back to ITSM_<FIELD> (shared/settings.py).
*/}}
{{- define "itsm.env" -}}
{{- $v := .root.Values }}
{{- $db := .svc.database | default dict }}
{{- if and (eq $v.environment "prod") (not $v.secrets.jwt.name) (not $v.jwt.jwksUrl) }}
{{- fail "environment prod needs secrets.jwt.name or jwt.jwksUrl: the development JWT secret is refused" }}
{{- end -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: ITSM_ENVIRONMENT
  value: {{ $v.environment | quote }}
- name: ITSM_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
{{- with $v.queuePrefix }}
- name: ITSM_QUEUE_PREFIX
  value: {{ . | quote }}
{{- end }}
- name: ITSM_AMQP_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.amqp.name is required" $v.secrets.amqp.name }}
      key: {{ $v.secrets.amqp.key | default "url" }}
{{- with $v.secrets.jwt.name }}
- name: ITSM_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.secrets.jwt.key | default "secret" }}
{{- end }}
{{- with $v.jwt.jwksUrl }}
- name: ITSM_JWT_JWKS_URL
  value: {{ . | quote }}
{{- end }}
{{- with $v.jwt.audience }}
- name: ITSM_JWT_AUDIENCE
  value: {{ . | quote }}
{{- end }}
{{- with $v.jwt.issuer }}
- name: ITSM_JWT_ISSUER
  value: {{ . | quote }}
{{- end }}
- name: {{ printf "%s_DATABASE_URL" (upper .name) }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "services.%s.database.secretName is required" .name) $db.secretName }}
      key: {{ $db.secretKey | default "url" }}
- name: PORT
  value: {{ .svc.port | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "itsm-%s" .name | quote }}
{{- $attributes := printf "service.namespace=itsm,deployment.environment.name=%s,k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME),itsm.component=%s" $v.environment .component }}
{{- with $v.otel.resourceAttributes }}
{{- $attributes = printf "%s,%s" $attributes . }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ $attributes | quote }}
{{- with $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $v.otel.protocol | default "http/protobuf" | quote }}
{{- end }}
{{- with $v.otel.sampler }}
- name: OTEL_TRACES_SAMPLER
  value: {{ . | quote }}
{{- end }}
{{- with $v.otel.samplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ . | quote }}
{{- end }}
{{- with $v.otel.tracesExporter }}
- name: OTEL_TRACES_EXPORTER
  value: {{ . | quote }}
{{- end }}
{{- with $v.otel.metricsExporter }}
- name: OTEL_METRICS_EXPORTER
  value: {{ . | quote }}
{{- end }}
{{- with $v.otel.metricExportIntervalMs }}
- name: OTEL_METRIC_EXPORT_INTERVAL
  value: {{ include "itsm.text" . | quote }}
{{- end }}
{{- /* Settings from values, by variable name; a value left null keeps the code's default. */}}
{{- $settings := dict }}
{{- with $v.metrics.sampleIntervalSeconds }}{{ $_ := set $settings "ITSM_METRICS_SAMPLE_INTERVAL_S" . }}{{ end }}
{{- $limits := $v.limits | default dict }}
{{- range $key, $name := dict "maxBodyBytes" "ITSM_MAX_BODY_BYTES" "maxBulkBodyBytes" "ITSM_MAX_BULK_BODY_BYTES" "maxHeaderBytes" "ITSM_MAX_HEADER_BYTES" "headerTimeoutSeconds" "ITSM_HEADER_TIMEOUT_S" "writeRatePerMinute" "ITSM_WRITE_RATE_PER_MINUTE" "writeBurst" "ITSM_WRITE_BURST" "jwtMaxLifetimeHours" "ITSM_JWT_MAX_LIFETIME_HOURS" }}
{{- if hasKey $limits $key }}{{ $_ := set $settings $name (get $limits $key) }}{{ end }}
{{- end }}
{{- if eq .name "incident" }}
{{- if hasKey $limits "listCountLimit" }}{{ $_ := set $settings "INCIDENT_LIST_COUNT_LIMIT" $limits.listCountLimit }}{{ end }}
{{- end }}
{{- if eq .name "reporting" }}
{{- range $key, $name := dict "streamMaxReaders" "REPORTING_STREAM_MAX_READERS" "streamMaxPerSubject" "REPORTING_STREAM_MAX_PER_SUBJECT" "streamKeepaliveSeconds" "REPORTING_STREAM_KEEPALIVE_S" }}
{{- if hasKey $limits $key }}{{ $_ := set $settings $name (get $limits $key) }}{{ end }}
{{- end }}
{{- end }}
{{- if eq .name "notify" }}
{{- $mail := $v.notify.mail | default dict }}
{{- range $key, $name := dict "smtpHost" "NOTIFY_MAIL_SMTP_HOST" "smtpPort" "NOTIFY_MAIL_SMTP_PORT" "smtpStarttls" "NOTIFY_MAIL_SMTP_STARTTLS" "smtpUsername" "NOTIFY_MAIL_SMTP_USERNAME" "timeoutSeconds" "NOTIFY_MAIL_TIMEOUT_S" "from" "NOTIFY_MAIL_FROM" "replyTo" "NOTIFY_MAIL_REPLY_TO" "recipientDomain" "NOTIFY_MAIL_RECIPIENT_DOMAIN" "locale" "NOTIFY_MAIL_LOCALE" }}
{{- if hasKey $mail $key }}{{ $_ := set $settings $name (get $mail $key) }}{{ end }}
{{- end }}
{{- $webhooks := $v.notify.webhooks | default dict }}
{{- range $key, $name := dict "allowPrivateTargets" "NOTIFY_WEBHOOK_ALLOW_PRIVATE_TARGETS" "timeoutSeconds" "NOTIFY_WEBHOOK_TIMEOUT_S" }}
{{- if hasKey $webhooks $key }}{{ $_ := set $settings $name (get $webhooks $key) }}{{ end }}
{{- end }}
{{- end }}
{{- range $name, $value := $settings }}
{{- if not (kindIs "invalid" $value) }}
- name: {{ $name }}
  value: {{ include "itsm.text" $value | quote }}
{{- end }}
{{- end }}
{{- if and (eq .name "notify") (ne .component "migrate") $v.secrets.smtpPassword.name }}
{{- if not $v.notify.mail.smtpUsername }}
{{- fail "secrets.smtpPassword needs notify.mail.smtpUsername: without a user no SMTP AUTH is made" }}
{{- end }}
- name: NOTIFY_MAIL_SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.secrets.smtpPassword.name }}
      key: {{ $v.secrets.smtpPassword.key | default "password" }}
{{- end }}
{{- range $key, $value := .svc.env }}
- name: {{ $key }}
  value: {{ include "itsm.text" $value | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* A value as an environment variable's text. Helm reads numbers as floats: print 2097152 as
such, not as 2.097152e+06. */}}
{{- define "itsm.text" -}}
{{- if and (kindIs "float64" .) (eq (floor .) .) }}
{{- int64 . | toString }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/* Pod spec fields shared by every pod of the chart. */}}
{{- define "itsm.podSpec" -}}
{{- $v := .root.Values -}}
automountServiceAccountToken: false
{{- with $v.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- /* Service links would add <SERVICE>_PORT=tcp://... variables, which the settings'
       INCIDENT_/ITSM_ prefixes could read as configuration. */}}
enableServiceLinks: false
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The root filesystem is read-only; /tmp is the one writable place. */}}
{{- define "itsm.tmpVolume" -}}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end }}

{{- define "itsm.tmpMount" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end }}
