#!/usr/bin/env bash
# Times the Go example app against its JavaScript twin (bench/twin/app.js),
# alternating run by run so that both see the same machine, and prints the
# median of each and their ratio: in the app's own process, with CDK's
# built-in CloudFormation validation on and off, and through the CDK CLI.
# RUNS (default 7) sets the number of runs of each.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ctx=$(node -e 'process.stdout.write(JSON.stringify(require("./cdk.json").context))')
go build -o "$work/app" .
export CDK_DISABLE_CLI_TELEMETRY=true

ms() { # run a command, print its wall time in milliseconds
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; return 1; }
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
report() { # label, Go times, JavaScript times
  local g j
  g=$(echo "$2" | median)
  j=$(echo "$3" | median)
  printf '%-44s Go %6d ms   JavaScript %6d ms   ratio %s   (Go runs: %s; JavaScript runs: %s)\n' \
    "$1" "$g" "$j" "$(awk -v g="$g" -v j="$j" 'BEGIN {printf "%.2f", g / j}')" "$2" "$3"
}

echo "Node.js $(node --version), $runs runs each, alternating"
for validation in true false; do
  g="" j=""
  for _ in $(seq "$runs"); do
    g="$g $(CDK_VALIDATION=$validation CDK_OUTDIR="$work/go" CDK_CONTEXT_JSON="$ctx" ms "$work/app")"
    j="$j $(CDK_VALIDATION=$validation CDK_OUTDIR="$work/js" CDK_CONTEXT_JSON="$ctx" ms node bench/twin/app.js)"
  done
  report "app's own process, CDK validation $validation" "${g# }" "${j# }"
done
g="" j=""
for _ in $(seq "$runs"); do
  g="$g $(ms npx --no-install cdk synth --no-notices --quiet --app "$work/app" -o "$work/cli-go")"
  j="$j $(ms npx --no-install cdk synth --no-notices --quiet --app "node bench/twin/app.js" -o "$work/cli-js")"
done
report "cdk synth (CLI), CDK validation on" "${g# }" "${j# }"
