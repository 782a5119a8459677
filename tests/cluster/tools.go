//go:build tools

// Package tools pins the Kubernetes components the harness builds, so that
// `go mod tidy` keeps them in go.mod; `cluster` builds their main packages.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
)
