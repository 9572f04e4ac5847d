# tenantgate — `make help` lists the targets.
SHELL := /usr/bin/env bash
GO ?= go
GOTEST_FLAGS ?= -count=1 -timeout 45m

.PHONY: help tools build test run manifests bench bench-grpc conformance lint

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

tools: ## Build etcd, kube-apiserver, kube-controller-manager, kubectl and echo-basic into bin/ (once)
	@hack/tools.sh

build: ## Build bin/tenantgate and bin/tenantgate-local
	$(GO) build -o bin/ ./cmd/...

test: tools lint ## Unit and integration tests against a real kube-apiserver (needs root), then the gateway's, webhook's and policy's again under the race detector
	$(GO) test $(GOTEST_FLAGS) ./...
	$(GO) test -race $(GOTEST_FLAGS) ./gateway/... ./webhook/... ./tenancy/... ./leadership/...

.PHONY: test-faults
test-faults: tools ## Fault tests, with the long repeated ones (-tags faults; needs root); figures on "figures:" lines
	$(GO) test -count=1 -timeout 60m -tags faults -v ./tests/faults

run: tools build ## Start the local cluster and tenantgate; Ctrl-C stops and cleans up (needs root)
	bin/tenantgate-local -state-dir .local

manifests: ## Regenerate the Tenant CRD and deepcopy code with controller-gen
	@hack/generate.sh

bench: tools ## Proxy vs nginx/HAProxy/Caddy, control plane and webhook at scale into docs/bench/REPORT.md, gRPC vs nginx (GRPC.md), TLS passthrough vs HAProxy (TLS-PASSTHROUGH.txt) (installs nginx, haproxy, caddy, wrk; needs root; ~25 min)
	hack/bench/run.sh

bench-grpc: ## gRPC unary calls through tenantgate vs nginx grpc_pass into docs/bench/GRPC.md (installs nginx; needs root; ~2 min)
	hack/bench/grpc.sh

conformance: tools ## Whole Gateway API conformance suite (GATEWAY-HTTP, GATEWAY-GRPC, GATEWAY-TLS); report in docs/conformance/
	@mkdir -p docs/conformance
	$(GO) test -count=1 -timeout 60m -v ./tests/conformance -args -conformance-full \
		-conformance-report $(CURDIR)/docs/conformance/report.yaml 2>&1 | tee docs/conformance/run.log | grep -E '^(=== RUN|--- |    --- |ok|FAIL|PASS)' ; exit $${PIPESTATUS[0]}

lint: ## go vet and a gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: fuzz
FUZZTIME ?= 5m
fuzz: ## Fuzz Build and Compile over mutated golden snapshots for FUZZTIME (default 5m) each; findings land in the package's testdata/fuzz
	$(GO) test -run '^$$' -fuzz '^FuzzBuild$$' -fuzztime $(FUZZTIME) ./gateway/translate
	$(GO) test -run '^$$' -fuzz '^FuzzCompileRegex$$' -fuzztime $(FUZZTIME) ./gateway/routetable
	$(GO) test -run '^$$' -fuzz '^FuzzParseCACertificates$$' -fuzztime $(FUZZTIME) ./gateway/routetable
