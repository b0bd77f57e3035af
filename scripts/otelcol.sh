#!/usr/bin/env bash
# Builds the minimal OpenTelemetry Collector of bench/src/gateway/otelcol (OTLP receiver; nop, debug
# and the stock gRPC `otlp` exporter) with the Go module proxy, and prints the binary's path. The
# build is cached: it is redone only when the recipe (main.go, go.mod, go.sum) or the Go version
# changes, so CI pays the few minutes once per cache.
#
#   bash scripts/otelcol.sh          # -> ~/.cache/helios/bin/otelcol
#
# Variables: HELIOS_CACHE_DIR [~/.cache/helios]. Needs `go` (1.26+) on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RECIPE="$ROOT/bench/src/gateway/otelcol"
BIN_DIR="${HELIOS_CACHE_DIR:-$HOME/.cache/helios}/bin"
BIN="$BIN_DIR/otelcol"
command -v go >/dev/null || { echo "otelcol.sh: go is not on PATH (https://go.dev/dl)" >&2; exit 1; }
stamp="$(cat "$RECIPE/main.go" "$RECIPE/go.mod" "$RECIPE/go.sum" | sha256sum | cut -c1-16)-$(go env GOVERSION)"
if [[ -x "$BIN" && "$(cat "$BIN.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "$BIN"
  exit 0
fi
mkdir -p "$BIN_DIR"
# Build to a temporary name first: a half-written binary must never look cached.
(cd "$RECIPE" && go build -trimpath -o "$BIN.tmp" .) >&2
mv "$BIN.tmp" "$BIN"
echo "$stamp" > "$BIN.stamp"
echo "$BIN"
