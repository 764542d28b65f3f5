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
  {{- if and (eq .Values.mode "daemonset") .Values.checkpoints.chown.enabled }}
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
        {{- if and .Values.ledger.enabled (eq .Values.mode "gateway") }}
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
        {{- with .Values.tracesEndpoint }}
        - name: {{ ternary "GENOPS_TRACES_ENDPOINT" "JAEGER_OTLP_ENDPOINT" (eq $.Values.mode "daemonset") }}
          value: {{ . | quote }}
        {{- end }}
        {{- with include "genops.gomemlimit" . }}
        - name: GOMEMLIMIT
          value: {{ . | quote }}
        {{- end }}
      ports:
        {{- range $name, $port := .Values.ports }}
        {{- if or (ne $name "als") (eq $.Values.mode "gateway") }}
        - name: {{ $name }}
          containerPort: {{ $port }}
          protocol: TCP
        {{- end }}
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
        {{- if eq .Values.mode "daemonset" }}
        - name: pod-logs
          mountPath: /var/log/pods
          readOnly: true
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "genops.fullname" . }}
    {{- if .Values.ingestTLS.enabled }}
    - name: ingest-tls
      secret:
        secretName: {{ required "ingestTLS.secretName: the Secret with tls.crt and tls.key (and ca.crt for clientCA)" .Values.ingestTLS.secretName }}
    {{- end }}
    {{- if eq .Values.mode "daemonset" }}
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
