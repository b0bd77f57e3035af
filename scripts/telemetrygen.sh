#!/usr/bin/env bash
# Builds telemetrygen (the OpenTelemetry Collector contrib load generator; gRPC is its default
# transport) with the Go module proxy, and prints the binary's path. Cached per version: `go install`
# runs only when the binary for TELEMETRYGEN_VERSION is missing.
#
#   bash scripts/telemetrygen.sh     # -> ~/.cache/helios/bin/telemetrygen-<version>
#
# Variables: TELEMETRYGEN_VERSION [v0.161.0, the newest the proxy serves], HELIOS_CACHE_DIR
# [~/.cache/helios]. Needs `go` (1.26+) on PATH.
set -euo pipefail
VERSION="${TELEMETRYGEN_VERSION:-v0.161.0}"
BIN_DIR="${HELIOS_CACHE_DIR:-$HOME/.cache/helios}/bin"
BIN="$BIN_DIR/telemetrygen-$VERSION"
if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi
command -v go >/dev/null || { echo "telemetrygen.sh: go is not on PATH (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$BIN_DIR"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" go install -trimpath "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$VERSION" >&2
mv "$tmp/telemetrygen" "$BIN"
echo "$BIN"
