#!/usr/bin/env bash
# Berth quickstart: register the bundled iris model, alias it, deploy it as a local web service, score it.
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

step model deploy -n iris-svc -m iris@production --ic examples/inferenceconfig.json --dc examples/deploymentconfig.json
berth model deploy -n iris-svc -m iris@production --ic examples/inferenceconfig.json --dc examples/deploymentconfig.json

step service list
berth service list

step service invoke iris-svc --data '{"data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
berth service invoke iris-svc --data '{"data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'

URI=$(berth service show iris-svc --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).scoringUri))')
printf '\n$ curl -s -X POST %s -H "Content-Type: application/json" -d ...\n' "$URI"
node -e 'fetch(process.argv[1],{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify({data:[[5.9,3.0,4.2,1.5]]})}).then(r=>r.text()).then(t=>console.log(t))' "$URI"

if [ "${BERTH_QUICKSTART_KEEP:-}" = 1 ]; then
  printf '\nThe service keeps running. Stop everything with: node bin/berth.js --workspace %s server stop --all\n' "$WS"
else
  step server stop --all
  berth server stop --all
  printf '\nDone. Workspace: %s (BERTH_QUICKSTART_KEEP=1 leaves the service running)\n' "$WS"
fi
