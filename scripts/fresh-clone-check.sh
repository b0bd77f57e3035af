#!/usr/bin/env bash
# What a new user does first, on a fresh clone: `npm ci`, then `npx helios --help`, `--version`,
# `validate`, and `up` (started, answering /readyz, stopped with SIGTERM). Fails on the first step that
# does not work. Usage: scripts/fresh-clone-check.sh [repository, default this one] [ref, default HEAD]
set -euo pipefail
repo="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
ref="${2:-HEAD}"
work="$(mktemp -d "${TMPDIR:-/tmp}/helios-fresh-clone.XXXXXX")"
up_pid=""
cleanup() {
  if [[ -n "$up_pid" ]] && kill -0 "$up_pid" 2>/dev/null; then kill -KILL "$up_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "== fresh clone: $*"; }

step "git clone $repo ($ref)"
git clone --quiet --no-hardlinks "$repo" "$work/helios"
cd "$work/helios"
git checkout --quiet "$(cd "$repo" && git rev-parse "$ref")"

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

# No config file, no environment: the defaults a new user gets, on free ports.
unset HELIOS_CONFIG HELIOS_PORT HELIOS_DATA_DIR HELIOS_STORE_URL HELIOS_KAFKA_BROKERS
export HELIOS_LOG_FORMAT=json

step "npx helios --help"
npx --no-install helios --help | grep -q '^Usage: helios <command>'
step "npx helios --version"
version="$(npx --no-install helios --version)"
[[ "$version" == "helios $(node -p 'require("./cli/package.json").version')" ]] || { echo "unexpected version output: $version" >&2; exit 1; }
step "npx helios validate"
npx --no-install helios validate | grep -q '^configuration valid'

step "npx helios up"
log="$work/up.log"
# `node` directly on the linked bin: npx's own process would sit between the signal and helios.
node node_modules/.bin/helios up --port 0 --otlp-port 0 --otlp-grpc-port 0 --data-dir "$work/data" >"$log" 2>&1 &
up_pid=$!
port=""
for _ in $(seq 1 120); do
  if ! kill -0 "$up_pid" 2>/dev/null; then cat "$log" >&2; echo "helios up exited before it was ready" >&2; exit 1; fi
  port="$(node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
    const ready = lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((r) => r && /^helios ready/.test(r.msg));
    if (ready) console.log(ready.port);
  ' "$log")"
  [[ -n "$port" ]] && break
  sleep 1
done
[[ -n "$port" ]] || { cat "$log" >&2; echo "helios up did not say ready within 120 s" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null
# The web console's files were built by npm ci (prepare = tsc -b) and are served: the page and its script.
console_script="$(curl -fsS "http://127.0.0.1:$port/" | grep -o '/console/[0-9a-f]*/main.js')"
[[ -n "$console_script" ]] || { echo "GET / did not serve the console page" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$port$console_script" >/dev/null || { echo "the console's $console_script is not served" >&2; exit 1; }
kill -TERM "$up_pid"
wait "$up_pid" || { cat "$log" >&2; echo "helios up did not stop cleanly" >&2; exit 1; }
up_pid=""
grep -q '"msg":"stopped"' "$log"
step "ok (helios up was ready on port $port, served the console, and stopped cleanly)"
