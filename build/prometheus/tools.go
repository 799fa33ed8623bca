//go:build tools

// Package tools pins the Prometheus release whose server and promtool the tests run:
// the same version as the prom/prometheus image in components/versions.py (module
// v0.314.0 is Prometheus 3.14.0). `make tools` builds both into .cache/bin.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
