{{/* The release's base name: the release name, unless it already contains the chart name. */}}
{{- define "execguard.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "execguard.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "execguard.probe.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: probe
{{- end -}}

{{- define "execguard.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "execguard.probe.name" -}}
{{- printf "%s-probe" (include "execguard.fullname" .) -}}
{{- end -}}

{{- define "execguard.operator.name" -}}
{{- printf "%s-operator" (include "execguard.fullname" .) -}}
{{- end -}}

{{- define "execguard.probe.serviceAccountName" -}}
{{- default (include "execguard.probe.name" .) .Values.serviceAccounts.probe.name -}}
{{- end -}}

{{- define "execguard.operator.serviceAccountName" -}}
{{- default (include "execguard.operator.name" .) .Values.serviceAccounts.operator.name -}}
{{- end -}}

{{- define "execguard.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
The API server's address for pods that cannot reach the kubernetes Service (kubernetesApi.host/port);
nothing when unset. fabric8's in-cluster configuration reads these two variables.
*/}}
{{- define "execguard.apiServerEnv" -}}
{{- if or .Values.kubernetesApi.host .Values.kubernetesApi.port }}
{{- if not (and .Values.kubernetesApi.host .Values.kubernetesApi.port) }}
{{- fail "kubernetesApi: set both host and port, or neither" }}
{{- end }}
- name: KUBERNETES_SERVICE_HOST
  value: {{ .Values.kubernetesApi.host | quote }}
- name: KUBERNETES_SERVICE_PORT
  value: {{ .Values.kubernetesApi.port | toString | quote }}
{{- end }}
{{- end }}
