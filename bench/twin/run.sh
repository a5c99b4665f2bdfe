#!/usr/bin/env bash
# Times the Go example app against its JavaScript twin (bench/twin/app.js),
# alternating run by run so that both see the same machine, and prints the
# median of each and their ratio: in the app's own process, with CDK's
# built-in CloudFormation validation on and off, and through the CDK CLI.
# RUNS (default 20) sets the number of pairs; each pair runs the two side
# by side, so the spread of the pairs' ratios and differences says how far
# one run's ratio can be trusted. The first pair times jsii's start-up alone:
# a Go program that only creates an App (bench/startup) against Node.js
# doing the same, interleaved with the app with CDK's validation off. CLI=0
# skips the CDK CLI pairs, VALIDATION="" the pairs with validation on.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ctx=$(node -e 'process.stdout.write(JSON.stringify(require("./cdk.json").context))')
go build -o "$work/app" .
go build -o "$work/startup" ./bench/startup
export CDK_DISABLE_CLI_TELEMETRY=true

ms() { # run a command, print its wall time in milliseconds
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; return 1; }
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
report() { # label, Go times, JavaScript times (the same count, pair by pair)
  awk -v label="$1" -v g="$2" -v j="$3" 'function med(a, n) { return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
  function q(a, n, p) { return a[int(p * (n - 1)) + 1] }
  function sort(a, n,  i, k, t) { for (i = 2; i <= n; i++) { t = a[i]; for (k = i - 1; k > 0 && a[k] > t; k--) a[k+1] = a[k]; a[k+1] = t } }
  BEGIN {
    n = split(g, G, " "); split(j, J, " ")
    for (i = 1; i <= n; i++) { R[i] = G[i] / J[i]; D[i] = G[i] - J[i]; GS[i] = G[i]; JS[i] = J[i] }
    sort(R, n); sort(D, n); sort(GS, n); sort(JS, n)
    printf "%-40s Go %6d ms  JavaScript %6d ms  ratio %.2f (quartiles %.2f to %.2f, range %.2f to %.2f)  Go - JavaScript %d ms (quartiles %d to %d)  pairs %d\n",
      label, med(GS, n), med(JS, n), med(R, n), q(R, n, 0.25), q(R, n, 0.75), R[1], R[n], med(D, n), q(D, n, 0.25), q(D, n, 0.75), n
  }'
}

echo "Node.js $(node --version), $runs pairs, alternating"
# jsii's start-up and the app with validation off, all four in each pair's
# turn, so that the app's cost beyond the start-up is measured pair by pair.
sg="" sj="" ag="" aj="" ex=""
for _ in $(seq "$runs"); do
  a=$(ms "$work/startup")
  b=$(ms node -e "new (require('aws-cdk-lib').App)()")
  c=$(CDK_VALIDATION=false CDK_OUTDIR="$work/go" CDK_CONTEXT_JSON="$ctx" ms "$work/app")
  d=$(CDK_VALIDATION=false CDK_OUTDIR="$work/js" CDK_CONTEXT_JSON="$ctx" ms node bench/twin/app.js)
  sg="$sg $a" sj="$sj $b" ag="$ag $c" aj="$aj $d" ex="$ex $(( (c - d) - (a - b) ))"
done
report "jsii start-up (an App and nothing else)" "${sg# }" "${sj# }"
report "app's own process, CDK validation false" "${ag# }" "${aj# }"
echo "the app's cost beyond jsii's start-up, (Go - JavaScript) - (start-up Go - start-up JavaScript), pair by pair:"
echo "  median $(echo "${ex# }" | median) ms; every pair: ${ex# }"
for validation in ${VALIDATION-true}; do
  g="" j=""
  for _ in $(seq "$runs"); do
    g="$g $(CDK_VALIDATION=$validation CDK_OUTDIR="$work/go" CDK_CONTEXT_JSON="$ctx" ms "$work/app")"
    j="$j $(CDK_VALIDATION=$validation CDK_OUTDIR="$work/js" CDK_CONTEXT_JSON="$ctx" ms node bench/twin/app.js)"
  done
  report "app's own process, CDK validation $validation" "${g# }" "${j# }"
done
[ "${CLI:-1}" = 1 ] || exit 0
g="" j=""
for _ in $(seq "$runs"); do
  g="$g $(ms npx --no-install cdk synth --no-notices --quiet --app "$work/app" -o "$work/cli-go")"
  j="$j $(ms npx --no-install cdk synth --no-notices --quiet --app "node bench/twin/app.js" -o "$work/cli-js")"
done
report "cdk synth (CLI), CDK validation on" "${g# }" "${j# }"
