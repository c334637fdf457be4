#!/usr/bin/env bash
# Berth quickstart: register the bundled iris model, version it, alias it and show it.
# Run from anywhere:  bash examples/quickstart.sh   (or: npm run quickstart)
# Uses its own workspace, ./.berth-quickstart (override with BERTH_QUICKSTART_WORKSPACE), recreated each run.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f dist/cli/main.js ] || npm run --silent build

WS="${BERTH_QUICKSTART_WORKSPACE:-./.berth-quickstart}"
MODEL=examples/models/iris/model.onnx
berth() { node bin/berth.js --workspace "$WS" "$@"; }
step() { printf '\n$ berth %s\n' "$*"; }

rm -rf "$WS"

step model register -n iris -p "$MODEL" --tag framework=onnx ...
berth model register -n iris -p "$MODEL" --tag framework=onnx --tag stage=dev \
  --property inputs=4 --property classes=3 -d "Iris classifier: 4 measurements in cm -> 3 species probabilities"

step model alias iris:1 production
berth model alias iris:1 production

step model list
berth model list

step model show iris@production
berth model show iris@production

printf '\nWorkspace: %s (delete it when done)\n' "$WS"
