# The commands the README gives. Each target installs what it needs first, so
# every one of them works on a fresh clone with Go, Node.js and npm.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Node.js 22 (LTS), pinned in package-lock.json as the npm package `node`,
# runs everything after `npm ci`: the CDK CLI, the jsii runtime of the app and
# of the tests, and the test tools. The machine's own Node.js (20 or later)
# only runs npm.
export PATH := $(CURDIR)/node_modules/node/bin:$(PATH)

# The CDK CLI: offline, no notices fetched, no telemetry sent; --strict fails
# synthesis on any warning (a template over 800 KB, say) instead of printing it.
CDK := npx --no-install cdk
CDK_FLAGS := --no-notices --strict
export CDK_DISABLE_CLI_TELEMETRY := true

GO_FILES = $(shell find . -name '*.go' -not -path './node_modules/*' -not -path './.git/*')

# npm ci, everything (the test tools are devDependencies) or what synthesis
# needs (--omit=dev: Node.js and the CDK CLI); each stamp is rewritten only
# when package-lock.json is newer. A full install serves synthesis too.
NPM_ALL := node_modules/.appendonly-all
NPM_SYNTH := node_modules/.appendonly-synth

.PHONY: help tools deps deps-synth synth test lint unit cfn-lint-app controls-app matrix golden bench bench-verify bench-twin demo walkthrough

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: $(NPM_ALL) bin/versitygw ## install the pinned npm tools (package-lock.json), the Go modules (go.sum) and the S3 test server
	go mod download

deps-synth: $(NPM_SYNTH) ## install what synthesis needs and nothing else: Node.js 22 and the CDK CLI (package.json's dependencies), the Go modules
	go mod download

# Versity Gateway, the S3 server with Object Lock that the journal's tests
# run against, pinned in a module of its own (internal/tools/versitygw); it
# is built again only when that module's pins change.
bin/versitygw: internal/tools/versitygw/go.mod internal/tools/versitygw/go.sum
	go build -C internal/tools/versitygw -o $(CURDIR)/bin/versitygw github.com/versity/versitygw/cmd/versitygw

$(NPM_ALL): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_ALL) $(NPM_SYNTH)

$(NPM_SYNTH): package-lock.json
	npm ci --omit=dev --no-audit --no-fund --loglevel=error
	touch $(NPM_SYNTH)

synth: deps-synth ## synthesize the app into cdk.out/ with the CDK CLI (installs Node.js 22 and the CDK CLI, not the test tools)
	$(CDK) synth $(CDK_FLAGS)

# cfn-lint comes from the Python package index, not npm: say so at once
# rather than fail late inside go test.
tools:
	@command -v cfn-lint >/dev/null || { echo "make test needs cfn-lint on PATH (pip install cfn-lint, or your distribution's package): it lints every synthesized template"; exit 1; }

test: tools deps lint unit cfn-lint-app controls-app walkthrough ## run every check: gofmt, go mod tidy, go vet, staticcheck, go test, cfn-lint, Control Tower controls, the README's walkthrough
	@echo "all checks passed"

lint: ## gofmt, go mod tidy -diff, go vet and staticcheck
	@unformatted="$$(gofmt -l $(GO_FILES))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	go mod tidy -diff
	go vet ./...
	go tool staticcheck ./...

unit: deps ## go test ./... (IAM simulation, cdk-nag and cfn-lint of the tested configurations included)
	go test -count=1 ./...

cfn-lint-app: deps ## cfn-lint the app's template as `cdk synth` writes it
	$(CDK) synth $(CDK_FLAGS) --quiet
	cfn-lint cdk.out/*.template.json
	@echo "cfn-lint: cdk.out/*.template.json: no errors, no warnings"

# AWS Control Tower's proactive controls, as Guard rules, with the cfn-guard
# binary that @cdklabs/cdk-validator-cfnguard ships (package-lock.json).
GUARD_PKG := node_modules/@cdklabs/cdk-validator-cfnguard
GUARD := $(GUARD_PKG)/bin/$(if $(filter Darwin,$(shell uname -s)),macos,ubuntu)/$(if $(filter arm64 aarch64,$(shell uname -m)),aarch64,x86_64)/cfn-guard

controls-app: deps cfn-lint-app ## AWS Control Tower's proactive controls on the app's template in cdk.out/
	$(GUARD) validate --rules $(GUARD_PKG)/rules/control-tower/cfn-guard --data cdk.out/AppendOnlyMusicStack.template.json --show-summary fail
	@echo "Control Tower proactive controls: cdk.out/AppendOnlyMusicStack.template.json: no failing rule"

golden: deps ## rewrite the golden files under testdata/; read the diff before committing
	go test -count=1 . ./constructs/... -args -update
	git --no-pager diff --stat -- '*testdata*'

matrix: deps ## print the action-by-principal IAM decision matrix of each enforcement mode
	@go test -count=1 -run 'TestActionMatrix' ./constructs/appendonly -v -args -print-matrix | grep -v -E '^ *(=== RUN|--- PASS|PASS$$|ok )|proof_test.go'

bench: deps ## run the synthesis and journal benchmarks (docs/performance.md)
	go test -run '^$$' -bench . -benchtime 5x ./constructs/appendonly
	go test -run '^$$' -bench 'Integrate|SequencerModel|SequencerInMemory|Prove|Verify' -benchtime 3x ./journal
	go test -run '^$$' -bench SequencerLag -benchtime 1x ./journal

bench-verify: deps ## a full verify's peak memory and rate at 10^5, 10^6 and 10^7 items (builds ~26 GB of journal and export once, in $$APPENDONLY_BENCH_CACHE)
	go test -run '^$$' -bench VerifyMemory -benchtime 1x -timeout 3h ./cmd/appendonly

demo: ## the journal end to end with no AWS account, pure Go: append, checkpoint, tamper, verify, and the offline commands that go on
	go mod download
	go run ./internal/demo

bench-twin: deps ## time the Go app against its JavaScript twin (bench/twin), alternating; RUNS=20
	bench/twin/run.sh

walkthrough: deps ## run the README's walkthrough as written in a fresh directory, and check what it promises
	walkthrough/run.sh
