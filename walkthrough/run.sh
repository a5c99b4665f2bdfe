#!/usr/bin/env bash
# Runs the README's walkthrough ("From zero to a synthesized stack") as
# written, in a fresh directory beside a link to this checkout, so that it
# cannot drift: every block the README marks <!-- walkthrough: sh --> is run,
# every block marked <!-- walkthrough: file PATH --> is written to PATH, in
# order. Then it checks what the README promises: the stack synthesizes,
# `go build ./... && go vet ./...` pass in the new module, the output has no
# Node.js end-of-life banner and no unconfigured-feature-flags notice, and a
# mistaken GrantReadWriteData fails `cdk synth` with the message
# docs/construct.md gives.
# It prints how long the first synthesis took (a cold `go run`).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap '[ -n "${WALKTHROUGH_KEEP:-}" ] && echo "walkthrough: kept $work" >&2 || rm -rf "$work"' EXIT
ln -s "$repo" "$work/appendonly"

# The README's blocks, as one script.
awk -v q="'" '
  /^<!-- walkthrough: sh -->$/ { mode = "sh"; next }
  /^<!-- walkthrough: file [^ ]+ -->$/ { mode = "file"; path = $4; next }
  mode != "" && /^```/ && !inblock { inblock = 1; if (mode == "file") print "cat > " path " <<" q "WALKTHROUGH_EOF" q; next }
  inblock && /^```$/ { if (mode == "file") print "WALKTHROUGH_EOF"; inblock = 0; mode = ""; next }
  inblock { print }
' "$repo/README.md" > "$work/steps.sh"
grep -q 'cdk synth' "$work/steps.sh" || { echo "walkthrough: no marked blocks found in README.md" >&2; exit 1; }

# The machine's own Node.js and npm only, as a newcomer has them: not the
# checkout's pinned Node.js.
export PATH=$(echo "$PATH" | tr ':' '\n' | grep -v "^$repo/node_modules/node/bin$" | paste -sd: -)
cd "$work"
start=$(date +%s%N)
if ! bash -euo pipefail steps.sh > "$work/out.log" 2>&1; then
  cat "$work/out.log" >&2
  echo "walkthrough: the README's commands failed (above)" >&2
  exit 1
fi
end=$(date +%s%N)
cd auditlog
fail() { echo "walkthrough: $*" >&2; cat "$work/out.log" >&2; exit 1; }
test -s cdk.out/AuditLog.template.json || fail "cdk.out/AuditLog.template.json was not written"
grep -q 'end-of-life' "$work/out.log" && fail "the Node.js end-of-life banner appeared"
grep -qi 'feature flags' "$work/out.log" && fail "CDK printed a notice about feature flags"
go build ./... || fail "go build ./... failed in the walkthrough's module"
go vet ./... || fail "go vet ./... failed in the walkthrough's module"
first=$(( (end - start) / 1000000 ))

# Under `npx cdk synth` an end-of-life Node.js runs the app silently; a bare
# `go run .` (the app alone, as a debugger or a test runs it) shows the jsii
# runtime's banner. With the README's PATH line, none.
export PATH="$PWD/node_modules/node/bin:$PATH"
CDK_OUTDIR="$work/gorun.out" go run . > /dev/null 2> "$work/gorun.log" || fail "go run . failed"
grep -q 'end-of-life' "$work/gorun.log" && { cat "$work/gorun.log" >&2; fail "go run . printed the Node.js end-of-life banner with the README's PATH line"; }

# The mistake the README shows, and its message.
sed -i 's|\tledger.GrantAppend(writer)|\tledger.GrantAppend(writer)\n\tledger.DynamoTable().GrantReadWriteData(writer)|' main.go
if npx cdk synth --no-notices > "$work/guard.log" 2>&1; then
  fail "cdk synth succeeded with a GrantReadWriteData on the append-only table"
fi
want=$(awk '/^<!-- walkthrough: output guard -->$/ { getline; getline; print; exit }' "$repo/docs/construct.md")
[ -n "$want" ] || fail "docs/construct.md has no block marked <!-- walkthrough: output guard -->"
grep -qF -- "$want" "$work/guard.log" || { cat "$work/guard.log" >&2; fail "the guard's message is not the one docs/construct.md gives: $want"; }
echo "walkthrough: synthesized, built and vetted as the README says; first synthesis (go run, cold module) ${first} ms; the guard's message matches"
