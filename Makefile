# otelcol-genops — build, run and test the distribution.
#
# Everything a fresh machine needs is set here, not in a developer's shell:
# some collector modules lack checksum-database entries, so their checksums
# come from go.sum alone.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

export GONOSUMDB := go.opentelemetry.io,github.com/open-telemetry
export GOFLAGS := -buildvcs=false

GO      ?= go
BIN     := $(CURDIR)/bin/otelcol-genops
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
# `go build` and `go test` share the build cache only with the same flags, so
# build the binary without -trimpath or -race: the test run reuses its work.
LDFLAGS := -X main.version=$(VERSION)
# The Prometheus receiver (proxy metrics) links every service discovery
# Prometheus has, with the cloud SDKs behind them, and initialises them all
# at start. Prometheus's own build tags keep only what the shipped configs
# use: kubernetes_sd_configs (static, file and http discovery are always
# in). BENCHMARKS.md, "Idle memory", has what it saves.
BUILD_TAGS := remove_all_sd,enable_kubernetes_sd

# The whole suite is bounded: CI has 90 minutes for everything.
TEST_TIMEOUT ?= 30m
FUZZTIME     ?= 30s
BENCH        ?= .
BENCHTIME    ?= 1s
BENCHCOUNT   ?= 6

.PHONY: all build run test e2e deps unit lint bench bench-e2e fuzz tidy-check clean image mutate soak

all: build

## build: compile the collector into bin/otelcol-genops
build:
	$(GO) build -tags '$(BUILD_TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/otelcol-genops

## image: the OCI image of the distribution (linux/amd64, linux/arm64) as an
## OCI layout in bin/image, without a Docker daemon or a base image; the
## same commit gives the same digest (docs/install.md, "The image")
IMAGE_ARCHS ?= amd64 arm64
image:
	for arch in $(IMAGE_ARCHS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -tags '$(BUILD_TAGS)' -ldflags '$(LDFLAGS) -s -w' \
	    -o $(CURDIR)/bin/linux-$$arch/otelcol-genops ./cmd/otelcol-genops; \
	done
	cd build/image && SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) \
	  $(GO) run . -out $(CURDIR)/bin/image -version $(VERSION) -revision $$(git rev-parse HEAD 2>/dev/null || echo unknown) \
	  $(foreach a,$(IMAGE_ARCHS),$(a)=$(CURDIR)/bin/linux-$(a)/otelcol-genops)

## mutate: mutation testing of the core packages with gremlins (pinned in
## tools/go.mod): efficacy (killed / killed+lived) and mutator coverage per
## package, without the equivalent mutants listed in test/mutate/equivalent.txt;
## fails below 90% efficacy or 95% coverage. Not part of test: it takes tens
## of minutes. Results are in docs/testing.md, "Mutation testing".
# A package whose tests take milliseconds needs a generous coefficient:
# gremlins times each mutant's run against the baseline, and process start
# alone exceeds 3x of a 30 ms run (every mutant "timed out"). Each mutant is
# a fresh link of the package's test binary: -ldflags=-w (no DWARF) makes
# that about a third faster.
# gremlins runs each mutant in a copy of the module under /tmp, where
# ../shared/fixtures is not beside it: the fixture tests would skip (and
# kill nothing) unless told where the fixtures are. The target refuses to
# run without them rather than measure a weaker suite.
MUTATE_TIMEOUT ?= 30
MUTATE_OUT ?= build/mutate
MUTATE_FIXTURES ?= $(abspath $(CURDIR)/../shared/fixtures)
MUTATE_PKGS ?= ./internal/accesslog ./internal/slo ./internal/pricing ./internal/ledger \
	./connector/sliconnector ./connector/sliconnector/internal/seriesstore ./processor/governanceprocessor ./exporter/costledgerexporter \
	./dashboards/promrules
mutate:
	@test -d "$(MUTATE_FIXTURES)" || { echo "mutate: fixtures not found at $(MUTATE_FIXTURES) (set MUTATE_FIXTURES); without them the fixture tests skip and kill nothing"; exit 1; }
	mkdir -p $(MUTATE_OUT)
	set -e; reports=; for p in $(MUTATE_PKGS); do \
	  r=$(MUTATE_OUT)/$$(echo $${p#./} | tr / .).json; reports="$$reports $$p=$$r"; \
	  echo "== $$p (log: $${r%.json}.log)"; \
	  GENOPS_FIXTURES=$(MUTATE_FIXTURES) GOFLAGS="$(GOFLAGS) -ldflags=-w" $(GO) tool -modfile=tools/go.mod gremlins unleash --workers 2 --timeout-coefficient $(MUTATE_TIMEOUT) --tags mutation \
	    -E '_test\.go$$' -o $$r $$p > $${r%.json}.log 2>&1 || { tail -20 $${r%.json}.log; exit 1; }; \
	done; \
	GENOPS_FIXTURES=$(MUTATE_FIXTURES) $(GO) run ./test/mutate -tags mutation -equivalent test/mutate/equivalent.txt $$reports

## soak: the built collector for SOAK_DURATION (30m) on a node whose pods
## churn (envtest), with the default 2-minute delete grace period; samples
## and a plot in SOAK_OUT (build/soak). make test runs a 2-minute version.
SOAK_DURATION ?= 30m
SOAK_OUT      ?= $(CURDIR)/build/soak
soak: deps build
	SOAK_DURATION=$(SOAK_DURATION) SOAK_GRACE=2m SOAK_OUT=$(SOAK_OUT) GENOPS_BINARY=$(BIN) \
	  $(GO) test -timeout 60m -count=1 -v -run TestSoak ./test/soak

## bench-e2e: whole processes on the same input (issue #20): this
## distribution against the same job done with stock contrib v0.158.0
## components, built from test/peers/contrib into bin/. Access logs and
## Zipkin spans; records per CPU-second of each collector's own PID, peak
## and idle RSS; the sub-benchmarks interleave (job/impl, -count times).
## Results: BENCHMARKS.md, "Whole processes".
CONTRIB_BIN    := $(CURDIR)/bin/otelcol-contrib-bench
E2E_BENCHTIME  ?= 5x
E2E_BENCHCOUNT ?= 6
bench-e2e: build
	cd test/peers/contrib && $(GO) build -o $(CONTRIB_BIN) .
	$(GO) test -c -o bin/e2e.test ./test/e2e
	@# go test -count repeats one sub-benchmark N times in a row; a loop of
	@# -count 1 alternates the implementations instead (interleaved runs).
	rm -f bench-e2e.txt; steal=$$(test/cpusteal.sh); \
	  for i in $$(seq $(E2E_BENCHCOUNT)); do \
	    (cd test/e2e && GENOPS_BINARY=$(BIN) GENOPS_CONTRIB_BINARY=$(CONTRIB_BIN) ../../bin/e2e.test -test.timeout 60m -test.run '^$$' \
	      -test.bench BenchmarkWholeProcess -test.benchtime $(E2E_BENCHTIME) -test.count 1) | tee -a bench-e2e.txt; \
	  done; \
	  test/cpusteal.sh "$$steal" | tee bench-e2e-steal.txt
	$(GO) tool -modfile=tools/go.mod benchstat -col /impl bench-e2e.txt
	@echo; awk -f test/benchratio.awk bench-e2e.txt
	@echo; cat bench-e2e-steal.txt

## run: build, then run the collector on its embedded default config
run: build
	$(BIN)

## deps: install what the suite needs beyond Go (Debian packages; idempotent)
deps:
	test/install-deps.sh

## test: the full suite (lint, unit, end-to-end against the built binary)
test: deps lint build
	GENOPS_BINARY=$(BIN) $(GO) test -timeout $(TEST_TIMEOUT) -count=1 ./...

## e2e: only the end-to-end packages (real Prometheus, Jaeger, kube-apiserver,
## Helm); part of `test`, separate for working on them (docs/testing.md)
e2e: deps build
	GENOPS_BINARY=$(BIN) $(GO) test -timeout $(TEST_TIMEOUT) -count=1 ./test/e2e ./deploy/... ./cmd/genopsctl

## unit: the tests without the built binary's end-to-end package
unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /test/e2e)

## lint: gofmt, go vet, staticcheck, and go.mod tidiness
lint: tidy-check
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>&1); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool -modfile=tools/go.mod staticcheck ./...

## tidy-check: fail when go.mod or go.sum is not tidy
tidy-check:
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff
	cd test/peers/kube && $(GO) mod tidy -diff
	cd test/peers/helm && $(GO) mod tidy -diff
	cd test/peers/jaeger && $(GO) mod tidy -diff
	cd test/peers/kiali && $(GO) mod tidy -diff
	cd test/peers/thanos && $(GO) mod tidy -diff
	cd test/peers/contrib && $(GO) mod tidy -diff && $(GO) vet .
	cd test/peers/sloth && $(GO) mod tidy -diff
	cd build/image && $(GO) mod tidy -diff && $(GO) vet .

## bench: benchmarks of this repository; where an issue asks, a stock contrib
## component runs on the same input in the same run (sub-benchmarks impl=...)
## and the ratio is printed. Figures go to BENCHMARKS.md. One package at a
## time (-p 1): on two cores, two benchmark binaries would share them. The
## run ends with the hypervisor's steal share (test/cpusteal.sh).
bench:
	@set -o pipefail; steal=$$(test/cpusteal.sh); \
	  $(GO) test -p 1 -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./... | tee bench.txt; \
	  test/cpusteal.sh "$$steal" | tee bench-steal.txt
	$(GO) tool -modfile=tools/go.mod benchstat bench.txt
	@echo; echo "== side by side with stock contrib (benchstat -col /impl)"
	$(GO) tool -modfile=tools/go.mod benchstat -col /impl -filter '.name:(FileReceiver OR SpansToMetrics)' bench.txt
	@echo; awk -f test/benchratio.awk bench.txt
	@echo; cat bench-steal.txt

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf bin bench.txt bench-steal.txt bench-e2e.txt bench-e2e-steal.txt
