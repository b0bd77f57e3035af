#!/bin/sh
# One image, the role as arguments: `up` (everything in one process), or on Kafka `up --role gateway`
# and `worker --role storage|detect|report|all`. With HELIOS_CONFIG_YAML set (ECS, Kubernetes), the
# config is rendered from it and the injected secrets first (render-config.mjs).
set -eu
if [ -n "${HELIOS_CONFIG_YAML:-}" ]; then
  node /app/deploy/render-config.mjs > /tmp/helios.config.yaml
  export HELIOS_CONFIG=/tmp/helios.config.yaml
fi
exec node /app/cli/dist/bin/helios.js "$@"
