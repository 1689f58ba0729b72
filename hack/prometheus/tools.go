//go:build tools

// Package tools pins promtool (github.com/prometheus/prometheus/cmd/promtool, Prometheus 3.16.0 is
// module version v0.316.0), which hack/control-plane.sh builds with
// `go build github.com/prometheus/prometheus/cmd/promtool` to check and unit-test the alerting rules
// in deploy/monitoring (hack/check-monitoring.sh).
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
