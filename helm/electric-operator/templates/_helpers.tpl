{{/*
Shared names and labels. Every object name derives from "electric-operator.fullname",
which is the release name when it already contains the chart name (so
`helm install electric-operator ...` yields plain "electric-operator").
*/}}

{{- define "electric-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "electric-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "electric-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that never change for a release: safe in (immutable) selectors. */}}
{{- define "electric-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "electric-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "electric-operator.labels" -}}
{{ include "electric-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: electric-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "electric-operator.chart" . }}
{{- with .Values.extraLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "electric-operator.serviceAccountName" -}}
{{ include "electric-operator.fullname" . }}
{{- end }}

{{/* The Lease name; also the resourceName the leader-election Role allows. */}}
{{- define "electric-operator.leaderElectionID" -}}
{{ include "electric-operator.fullname" . }}-leader
{{- end }}

{{- define "electric-operator.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
The operator's rules, shared by the ClusterRole (all namespaces) and the Role
in each watched namespace. Every write is server-side apply (PATCH, which
creates a new object, hence create+patch). Of sets themselves the operator
writes their status and its own finalizer (metadata.finalizers), nothing else.
*/}}
{{- define "electric-operator.rules" -}}
- apiGroups: ["electric-operator.dev"]
  resources: ["electricshardsets"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["electric-operator.dev"]
  resources: ["electricshardsets/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: [""]
  resources: ["secrets", "persistentvolumeclaims", "services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# A set's optional NetworkPolicy (spec.networkPolicy).
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
