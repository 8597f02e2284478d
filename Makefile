# git-snap — see README.md. `make demo` and `make test` are the two set-up commands.
GO      ?= go
BIN     := $(CURDIR)/bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build install test test-short demo bench lint clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/git-snap ./cmd/git-snap

install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/git-snap

test:
	$(GO) test -timeout 20m ./...

test-short:
	$(GO) test -short ./...

demo: build
	PATH="$(BIN):$$PATH" sh testdata/demo/demo.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 60m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v golangci-lint >/dev/null 2>&1; then golangci-lint run ./...; else echo "golangci-lint not installed; skipped (gofmt and go vet passed)"; fi

clean:
	rm -rf $(BIN)
