{{/* The collector's pod template, shared by the DaemonSet and the Deployment. */}}
{{- define "genops.podTemplate" -}}
metadata:
  labels:
    {{- include "genops.selectorLabels" . | nindent 4 }}
    {{- include "genops.injectionLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    {{- include "genops.injectionAnnotations" . | nindent 4 }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "genops.serviceAccountName" . }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  {{- if and (include "genops.isAgent" .) .Values.checkpoints.chown.enabled }}
  initContainers:
    # Kubelet creates the checkpoint hostPath as root: hand it to the
    # collector's user, with CAP_CHOWN only.
    - name: chown-checkpoints
      image: {{ .Values.checkpoints.chown.image }}
      command: [chown, "{{ .Values.podSecurityContext.runAsUser }}:{{ .Values.podSecurityContext.runAsGroup }}", /var/lib/otelcol-genops]
      securityContext:
        runAsNonRoot: false
        runAsUser: 0
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: [ALL]
          add: [CHOWN]
      resources:
        requests: {cpu: 10m, memory: 16Mi}
        limits: {memory: 32Mi}
      volumeMounts:
        - name: checkpoints
          mountPath: /var/lib/otelcol-genops
  {{- end }}
  containers:
    - name: otelcol-genops
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: [--config=/etc/otelcol-genops/config.yaml]
      env:
        - name: MY_POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        - name: K8S_NODE_NAME
          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
        - name: GENOPS_CLUSTER
          value: {{ .Values.cluster | quote }}
        - name: GENOPS_TRUSTED_NAMESPACE
          value: {{ .Values.trustedNamespace | quote }}
        - name: GENOPS_FORWARDER_NAMESPACE
          value: {{ .Release.Namespace | quote }}
        {{- if hasPrefix "tiered-" .Role }}
        {{- /* The tiered configs take every listener from the environment. */}}
        {{- $listens := include "genops.portNames" . | fromJsonArray }}
        {{- range $name, $var := dict "otlp-grpc" "GENOPS_OTLP_GRPC_ENDPOINT" "otlp-http" "GENOPS_OTLP_HTTP_ENDPOINT" "zipkin" "GENOPS_ZIPKIN_ENDPOINT" "metrics" "GENOPS_PROMETHEUS_ENDPOINT" "health" "GENOPS_HEALTH_ENDPOINT" }}
        {{- if has $name $listens }}
        - name: {{ $var }}
          value: "$(MY_POD_IP):{{ index $.Values.ports $name }}"
        {{- end }}
        {{- end }}
        - name: GENOPS_TELEMETRY_HOST
          value: "$(MY_POD_IP)"
        - name: GENOPS_STORAGE_DIR
          value: /var/lib/otelcol-genops
        - name: GENOPS_FORWARDERS
          value: {{ .Release.Namespace | quote }}
        - name: GENOPS_REPLICA
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        {{- if and (eq .Role "tiered-gateway") .Values.tiered.remoteWrite.url }}
        - name: GENOPS_REMOTE_WRITE_URL
          value: {{ .Values.tiered.remoteWrite.url | quote }}
        - name: GENOPS_METRICS_EXPORTERS
          value: "[prometheus, prometheus_remote_write]"
        {{- end }}
        {{- end }}
        {{- if and .Values.ledger.enabled (not (include "genops.isAgent" .)) }}
        - name: GENOPS_LEDGER_DSN
          valueFrom:
            secretKeyRef:
              name: {{ required "ledger.dsnSecret.name: the Secret holding the PostgreSQL DSN" .Values.ledger.dsnSecret.name }}
              key: {{ .Values.ledger.dsnSecret.key }}
        {{- end }}
        - name: GENOPS_AI_WORKLOADS
          value: {{ .Values.aiWorkloads | toJson | quote }}
        - name: GENOPS_SLO_FILE
          value: /etc/otelcol-genops/slo.yaml
        - name: GENOPS_PRICING_FILE
          value: /etc/otelcol-genops/pricing.yaml
        {{- if and .Values.tracesEndpoint (ne .Role "tiered-agent") }}
        - name: {{ ternary "GENOPS_TRACES_ENDPOINT" "JAEGER_OTLP_ENDPOINT" (eq .Role "daemonset") }}
          value: {{ .Values.tracesEndpoint | quote }}
        {{- end }}
        {{- with include "genops.gomemlimit" . }}
        - name: GOMEMLIMIT
          value: {{ . | quote }}
        {{- end }}
      ports:
        {{- range $name := include "genops.portNames" . | fromJsonArray }}
        - name: {{ $name }}
          containerPort: {{ index $.Values.ports $name }}
          protocol: TCP
        {{- end }}
      livenessProbe:
        httpGet: {path: /, port: health}
        initialDelaySeconds: 5
        periodSeconds: 10
      readinessProbe:
        httpGet: {path: /, port: health}
        periodSeconds: 5
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/otelcol-genops
          readOnly: true
        - name: checkpoints
          mountPath: /var/lib/otelcol-genops
        {{- if .Values.ingestTLS.enabled }}
        - name: ingest-tls
          mountPath: /etc/otelcol-genops/tls
          readOnly: true
        {{- end }}
        {{- if include "genops.isAgent" . }}
        - name: pod-logs
          mountPath: /var/log/pods
          readOnly: true
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "genops.roleName" . }}
    {{- if .Values.ingestTLS.enabled }}
    - name: ingest-tls
      secret:
        secretName: {{ required "ingestTLS.secretName: the Secret with tls.crt and tls.key (and ca.crt for clientCA)" .Values.ingestTLS.secretName }}
    {{- end }}
    {{- if include "genops.isAgent" . }}
    - name: checkpoints
      hostPath:
        path: {{ .Values.checkpoints.hostPath }}
        type: DirectoryOrCreate
    - name: pod-logs
      hostPath:
        path: {{ .Values.accessLogs.hostPath }}
        type: Directory
    {{- else }}
    # The persistent sending queue of the gateway: it survives container
    # restarts; use a PersistentVolume through config if it must survive the pod.
    - name: checkpoints
      emptyDir: {}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
