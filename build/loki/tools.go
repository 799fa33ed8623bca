//go:build tools

// Package tools pins the Loki release whose single binary the tests run: the same version as
// the grafana/loki image in components/versions.py. `make tools` builds it into .cache/bin.
package tools

import _ "github.com/grafana/loki/v3/cmd/loki"
