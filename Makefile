# wecom-operator Makefile. `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN     ?= $(CURDIR)/bin
K8S_BIN      ?= $(LOCALBIN)/k8s
KUBE_APISERVER := $(K8S_BIN)/kube-apiserver
KUBE_VERSION_LDFLAGS := -X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/component-base/version.gitTreeState=clean
ETCD         := $(K8S_BIN)/etcd
HELM         ?= $(LOCALBIN)/helm
HELM_VERSION ?= v4.3.2
CONTROLLER_GEN := go tool controller-gen
GO_TEST_FLAGS ?= -count=1 -timeout=60m

export KUBEBUILDER_ASSETS := $(K8S_BIN)

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate CRDs and RBAC from the kubebuilder markers, and the chart's copies of them.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:allowDangerousTypes=false paths="./api/...;./controllers/...;./webhook/...;./internal/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	go run ./hack/chartgen/cmd

.PHONY: generate
generate: ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: test
test: envtest-bins helm ## Run every test, envtest suites included, against a real kube-apiserver and etcd; then each fuzz target briefly.
	go vet ./...
	go test $(GO_TEST_FLAGS) ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=5s

FUZZTIME ?= 2m
FUZZ_TARGETS := ./internal/wxcrypt:FuzzDecryptMsg ./internal/wxcrypt:FuzzDecrypt ./internal/wecomevent:FuzzParse \
	./internal/contactname:FuzzFor ./webhook:FuzzHandler

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 2m; make test runs 5s each).
	@for t in $(FUZZ_TARGETS); do \
	  echo ">> fuzz $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
	  go test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}" || exit 1; \
	done

.PHONY: bench
bench: envtest-bins ## Run the benchmarks (crypto, callback path vs raw API-server creates, resync of 10k and 50k contacts).
	go test -run '^$$' -bench . -benchmem ./internal/wxcrypt ./internal/wecomevent
	go test -run '^$$' -bench . -benchtime 2000x ./webhook
	go test -run '^$$' -bench CallbackLoad -benchtime 1x -timeout 30m ./test/load
	go test -run '^$$' -bench 'InitialResync/contacts=(10000|50000)$$' -benchtime 1x -timeout 60m ./test/resync

.PHONY: bench-100k
bench-100k: envtest-bins ## The resync benchmark at 100,000 contacts (about 10 minutes).
	go test -run '^$$' -bench 'InitialResync/contacts=100000$$' -benchtime 1x -timeout 120m ./test/resync

##@ Run

.PHONY: demo
demo: envtest-bins ## Run the product locally: control plane, operator, simulated WeCom (ONCE=1: check and exit).
	go run ./hack/demo $(if $(ONCE),-once)

##@ Build

.PHONY: build
build: ## Build the manager binary into bin/.
	go build -o $(LOCALBIN)/manager .

.PHONY: run
run: ## Run the manager against the cluster in KUBECONFIG.
	go run . --leader-elect=false

##@ Tools

.PHONY: envtest-bins
envtest-bins: $(KUBE_APISERVER) $(ETCD) ## Build kube-apiserver and etcd into bin/k8s (only when missing).

$(KUBE_APISERVER):
	@mkdir -p $(K8S_BIN)
	@echo ">> building kube-apiserver v1.37.2 from the module proxy (about 5 minutes on 2 cores, once)"
	cd hack/envtest/kube-apiserver && go build -v -trimpath -ldflags "$(KUBE_VERSION_LDFLAGS)" -o $@.tmp k8s.io/kubernetes/cmd/kube-apiserver 2>&1 \
	  | awk '/^(go: |#|[^ ]+\.go:)/ {print; next} {n++; if (n % 100 == 0) printf "   ... %d packages compiled\n", n; fflush()}'
	test -s $@.tmp
	mv $@.tmp $@

$(ETCD):
	@mkdir -p $(K8S_BIN)
	@echo ">> building etcd v3.6.16 from the module proxy (about 30 seconds, once)"
	cd hack/envtest/etcd && go build -trimpath -o $@.tmp .
	mv $@.tmp $@

.PHONY: helm
helm: $(HELM) ## Build Helm v4 into bin/ (only when missing).

$(HELM):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)
