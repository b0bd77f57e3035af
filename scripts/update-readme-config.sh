#!/usr/bin/env bash
# Regenerate the configuration table in README.md from the config schema (after `npx tsc -b cli`).
set -euo pipefail
cd "$(dirname "$0")/.."
table="$(node cli/dist/bin/helios.js config --reference)"
TABLE="$table" node -e '
  const fs = require("fs");
  const readme = fs.readFileSync("README.md", "utf8");
  const [head, rest] = readme.split("<!-- config-reference:start -->\n");
  const tail = rest.split("\n<!-- config-reference:end -->")[1];
  fs.writeFileSync("README.md", `${head}<!-- config-reference:start -->\n${process.env.TABLE}\n<!-- config-reference:end -->${tail}`);
'
