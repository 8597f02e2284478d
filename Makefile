# git-snap — see README.md. `make demo` and `make test` are the two set-up commands.
GO      ?= go
BIN     := $(CURDIR)/bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build install test test-short demo bench bench-db bench-all lint clean

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

# bench: issue 2's targets (docs/benchmarks.md): create/restore of a files
# scope with the built binary, next to git hash-object. Full size is 1 GiB of
# ~210 KiB files plus one 1 GiB file (4–6 min, ~5 GB of temp disk);
# GITSNAP_BENCH_SIZE=64MiB make bench is a quick run. TMPDIR picks the disk.
bench:
	$(GO) test -run '^$$' -bench '^BenchmarkSnapshot$$' -benchtime 1x -timeout 60m ./cmd/git-snap

# bench-db: issue 3's database figures (docs/benchmarks.md, "Databases"):
# a 2 GiB dump streamed through the command driver (GITSNAP_BENCH_DB_SIZE),
# and PostgreSQL create/restore against pg_dump/pg_restore, the 1% update
# and the rounds of scattered updates on two ~300 MB datasets, pgbench -i
# -s 20 and random text and JSON (GITSNAP_BENCH_PG_DATASET=pgbench|random|all,
# GITSNAP_BENCH_PG_MB, GITSNAP_BENCH_PG_ROUNDS). About 5 minutes; needs
# PostgreSQL and pgbench, or skips them unless GITSNAP_REQUIRE_SERVICES=1.
bench-db:
	$(GO) test -run '^$$' -bench '^Benchmark(DatabaseStream|PostgresCreateRestore)$$' -benchtime 1x -timeout 60m ./cmd/git-snap

# bench-all: every benchmark of every package, once each.
bench-all:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 90m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@lint=$$(command -v golangci-lint || echo "$$($(GO) env GOPATH)/bin/golangci-lint"); \
	if [ -x "$$lint" ]; then "$$lint" run ./...; else echo "golangci-lint not installed (go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@latest); skipped, gofmt and go vet passed"; fi

clean:
	rm -rf $(BIN)
