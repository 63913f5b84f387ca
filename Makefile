# The Qual operator. `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

GO ?= go
CONTROLLER_GEN := $(GO) tool controller-gen
# Tools are cached outside the clone, per version, so a new clone reuses them.
QUAL_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/qual
export QUAL_CACHE_DIR
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT := $(QUAL_CACHE_DIR)/bin/golangci-lint-$(GOLANGCI_LINT_VERSION)
GOTEST_FLAGS ?= -race -count=1 -timeout=30m

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate the CRDs and the manager's RBAC from the Go markers.
	$(CONTROLLER_GEN) rbac:roleName=qual-manager crd webhook paths="./..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: openapi ## Generate DeepCopy methods for the API types, and the aggregated API's OpenAPI.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths="./..."

# The aggregated API's OpenAPI definitions, by kube-openapi's openapi-gen (the version go.mod
# pins). Rule violations go to a committed list, so a new one shows in verify-generated.
OPENAPI_GEN := $(GO) tool openapi-gen
OPENAPI_PKGS := k8s.io/apimachinery/pkg/apis/meta/v1 k8s.io/apimachinery/pkg/runtime \
	k8s.io/apimachinery/pkg/version qual.cx/operator/api/data/v1alpha1

.PHONY: openapi
openapi: ## Generate the OpenAPI definitions of the data.qual.cx aggregated API.
	$(OPENAPI_GEN) --output-file zz_generated.openapi.go --go-header-file hack/boilerplate.go.txt \
		--output-dir dataapi/openapi --output-pkg qual.cx/operator/dataapi/openapi \
		--output-model-name-file zz_generated.model_name.go \
		--report-filename dataapi/openapi/api-violations.list $(OPENAPI_PKGS)

.PHONY: fmt
fmt: ## Format the Go code.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run the pinned golangci-lint.
	$(GOLANGCI_LINT) run ./...

$(GOLANGCI_LINT):
	@mkdir -p $(QUAL_CACHE_DIR)/bin
	@echo "building golangci-lint $(GOLANGCI_LINT_VERSION) into $(QUAL_CACHE_DIR)/bin (once)"
	GOBIN=$(QUAL_CACHE_DIR)/bin/tmp $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(QUAL_CACHE_DIR)/bin/tmp/golangci-lint $@

.PHONY: envtest-bins
envtest-bins: ## Build kube-apiserver and etcd from source into the cache (once).
	hack/control-plane.sh >/dev/null

.PHONY: test-deps
test-deps: ## Install what the tests need beside Go (PostgreSQL, Redis, Chromium) if missing.
	hack/test-deps.sh

.PHONY: test
test: envtest-bins test-deps ## Run every test against a real control plane, SQLite, PostgreSQL, Redis and headless Chromium.
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" $(GO) test $(GOTEST_FLAGS) ./...

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when generated files differ from what is committed.
	@git diff --exit-code -- api config dataapi/openapi || { echo "generated files are stale: run 'make manifests generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- api config dataapi/openapi)" || { git status --porcelain -- api config dataapi/openapi; echo "untracked generated files: commit them"; exit 1; }

##@ Build

.PHONY: build
build: ## Build the qual binary into bin/.
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/qual ./cmd/qual

.PHONY: dev
dev: ## Run a local control plane, the controllers and the REST API, state in .qual/ (Ctrl-C stops).
	$(GO) run ./cmd/qual dev
