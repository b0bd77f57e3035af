#!/bin/sh
# One image, the role as arguments: `up` (everything in one process) or `worker --role storage|detect|report`.
# With HELIOS_CONFIG_YAML set (ECS), the config is rendered from it and the injected secrets first.
set -eu
if [ -n "${HELIOS_CONFIG_YAML:-}" ]; then
  node /app/deploy/render-config.mjs > /tmp/helios.config.yaml
  export HELIOS_CONFIG=/tmp/helios.config.yaml
fi
exec node /app/cli/dist/bin/helios.js "$@"
