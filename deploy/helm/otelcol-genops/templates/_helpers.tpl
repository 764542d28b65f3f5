{{/* Names and labels, as `helm create` makes them. */}}
{{- define "genops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "genops.fullname" -}}
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

{{- define "genops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "genops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .Role | default .Values.mode }}
{{- end }}

{{/*
Roles: the collectors a mode runs, each with its own config file
(files/<role>.yaml), workload, Service and ConfigMap. Templates range over
them and pass a context with .Role set (genops.withRole).
*/}}
{{- define "genops.roles" -}}
{{- if eq .Values.mode "tiered" }}["tiered-agent", "tiered-gateway"]{{ else }}[{{ .Values.mode | quote }}]{{ end }}
{{- end }}

{{/* The name of a role's objects: the release's for one-role modes. */}}
{{- define "genops.roleName" -}}
{{- if hasPrefix "tiered-" .Role }}
{{- printf "%s-%s" (include "genops.fullname" . | trunc 55 | trimSuffix "-") (trimPrefix "tiered-" .Role) }}
{{- else }}
{{- include "genops.fullname" . }}
{{- end }}
{{- end }}

{{/* The ports a role listens on (names of .Values.ports), as JSON. */}}
{{- define "genops.portNames" -}}
{{- $names := list }}
{{- range $name, $_ := .Values.ports }}
{{- $names = append $names $name }}
{{- end }}
{{- if eq .Role "daemonset" }}{{ $names = without $names "als" }}{{ end }}
{{- if eq .Role "tiered-agent" }}{{ $names = without $names "als" }}{{ if not .Values.proxyMetrics.enabled }}{{ $names = without $names "metrics" }}{{ end }}{{ end }}
{{- if eq .Role "tiered-gateway" }}{{ $names = without $names "als" "otlp-http" "zipkin" }}{{ end }}
{{- toJson $names }}
{{- end }}

{{/* A node agent (DaemonSet: pod logs, checkpoints on the node)? */}}
{{- define "genops.isAgent" -}}
{{- if has .Role (list "daemonset" "tiered-agent") }}true{{ end }}
{{- end }}

{{- define "genops.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "genops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: otelcol-genops
{{- end }}

{{- define "genops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "genops.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Mesh sidecar injection opt-out, for every pod the chart makes. Istio and
Linkerd read the pod label or annotation; OSM and Consul the annotation.
*/}}
{{- define "genops.injectionLabels" -}}
{{- if .Values.meshInjectionOptOut -}}
sidecar.istio.io/inject: "false"
{{- end }}
{{- end }}

{{- define "genops.injectionAnnotations" -}}
{{- if .Values.meshInjectionOptOut -}}
sidecar.istio.io/inject: "false"
linkerd.io/inject: disabled
openservicemesh.io/sidecar-injection: disabled
consul.hashicorp.com/connect-inject: "false"
{{- end }}
{{- end }}

{{/* The collector config: the role's base file with .Values.config merged over it. */}}
{{- define "genops.config" -}}
{{- $base := .Files.Get (printf "files/%s.yaml" .Role) | fromYaml }}
{{- if hasKey $base "Error" }}
{{- fail (printf "files/%s.yaml: %s" .Role $base.Error) }}
{{- end }}
{{- if eq .Role "tiered-agent" }}
{{- /* The gateways from the Kubernetes API (their headless Service's
  EndpointSlices), not a static list; and the node's proxy metrics as the
  DaemonSet scrapes them (config/daemonset.yaml), exported by the agent. */}}
{{- $gateways := dict "k8s" (dict "service" (printf "%s.%s" (include "genops.roleName" (merge (dict "Role" "tiered-gateway") (omit . "Role"))) .Release.Namespace) "ports" (list (index .Values.ports "otlp-grpc"))) }}
{{- range $name := list "load_balancing" "load_balancing/traces" }}
{{- $_ := set (index $base.exporters $name) "resolver" (deepCopy $gateways) }}
{{- end }}
{{- if .Values.proxyMetrics.enabled }}
{{- $ds := .Files.Get "files/daemonset.yaml" | fromYaml }}
{{- $_ := set $base.receivers "prometheus/proxies" (index $ds.receivers "prometheus/proxies") }}
{{- $_ := set $base.exporters "prometheus" $ds.exporters.prometheus }}
{{- $_ := set $base.service.pipelines "metrics/proxies" (index $ds.service.pipelines "metrics/proxies") }}
{{- end }}
{{- end }}
{{- $proxies := dig "receivers" "prometheus/proxies" dict $base }}
{{- if $proxies }}
{{- if not .Values.proxyMetrics.enabled }}
{{- $_ := unset $base.receivers "prometheus/proxies" }}
{{- $_ := unset $base.service.pipelines "metrics/proxies" }}
{{- else if .Values.proxyMetrics.keepAll }}
{{- range (dig "config" "scrape_configs" list $proxies) }}
{{- $_ := unset . "metric_relabel_configs" }}
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.ingestTLS.enabled }}
{{- $tls := dict "cert_file" "/etc/otelcol-genops/tls/tls.crt" "key_file" "/etc/otelcol-genops/tls/tls.key" "min_version" "1.2" }}
{{- if .Values.ingestTLS.clientCA }}
{{- $_ := set $tls "client_ca_file" "/etc/otelcol-genops/tls/ca.crt" }}
{{- end }}
{{- with dig "receivers" "zipkin" nil $base }}{{ $_ := set . "tls" (deepCopy $tls) }}{{ end }}
{{- with dig "receivers" "otlp" "protocols" "grpc" nil $base }}{{ $_ := set . "tls" (deepCopy $tls) }}{{ end }}
{{- with dig "receivers" "otlp" "protocols" "http" nil $base }}{{ $_ := set . "tls" (deepCopy $tls) }}{{ end }}
{{- with dig "receivers" "mesh_access_log" "als" nil $base }}{{ $_ := set . "tls" (deepCopy $tls) }}{{ end }}
{{- end }}
{{- /* Listeners follow ports.*: the Service, containerPorts and probes use
  the same values. Only the port of each endpoint changes. */}}
{{- $listeners := list
  (list (dig "receivers" "otlp" "protocols" "grpc" nil $base) "otlp-grpc")
  (list (dig "receivers" "otlp" "protocols" "http" nil $base) "otlp-http")
  (list (dig "receivers" "zipkin" nil $base) "zipkin")
  (list (dig "receivers" "mesh_access_log" "als" nil $base) "als")
  (list (dig "exporters" "prometheus" nil $base) "metrics")
  (list (dig "extensions" "health_check" nil $base) "health") }}
{{- range $listeners }}
{{- $l := index . 0 }}
{{- if and $l (hasKey $l "endpoint") }}
{{- $_ := set $l "endpoint" (regexReplaceAll ":[0-9]+$" $l.endpoint (printf ":%v" (index $.Values.ports (index . 1)))) }}
{{- end }}
{{- end }}
{{- range (dig "service" "telemetry" "metrics" "readers" list $base) }}
{{- with dig "pull" "exporter" "prometheus" nil . }}{{ $_ := set . "port" (index $.Values.ports "telemetry") }}{{ end }}
{{- end }}
{{- if and (dig "exporters" "cost_ledger" nil $base) (not .Values.ledger.enabled) }}
{{- $_ := unset $base.exporters "cost_ledger" }}
{{- range $name, $p := $base.service.pipelines }}
{{- if kindIs "slice" $p.exporters }}
{{- $_ := set $p "exporters" (without $p.exporters "cost_ledger") }}
{{- end }}
{{- end }}
{{- end }}
{{- $merged := mustMergeOverwrite $base (deepCopy .Values.config) }}
{{- toYaml $merged }}
{{- end }}

{{/*
GOMEMLIMIT: 80% of the container's memory limit (bytes, or Ki, Mi, Gi, K, M, G), so
the Go runtime collects before the kernel kills; memory_limiter reads the
same limit from the cgroup.
*/}}
{{- define "genops.gomemlimit" -}}
{{- $limit := dig "limits" "memory" "" .Values.resources | toString }}
{{- if $limit }}
{{- $units := dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "K" 1000 "M" 1000000 "G" 1000000000 }}
{{- $number := regexFind "^[0-9]+" $limit }}
{{- $suffix := trimPrefix $number $limit }}
{{- if or (not $number) (not (hasKey $units $suffix)) }}
{{- fail (printf "resources.limits.memory %q: use a whole number with Ki, Mi, Gi, K, M or G" $limit) }}
{{- end }}
{{- div (mul (atoi $number) (get $units $suffix) 8) 10 }}
{{- end }}
{{- end }}
