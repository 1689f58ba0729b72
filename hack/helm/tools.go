//go:build tools

// Package tools pins the Helm CLI (helm.sh/helm/v3/cmd/helm), which hack/control-plane.sh builds
// with `go build helm.sh/helm/v3/cmd/helm` to render and lint deploy/helm in the tests.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
