# roomkit: `make run` starts the server with the demo page; `make test` runs
# every test, installing what a fresh machine lacks.

GO      ?= go
ADDR    ?= 127.0.0.1:8080
GOROOT  := $(shell $(GO) env GOROOT)
# Go 1.24+ keeps the wasm support files in lib/wasm; older ones in misc/wasm.
WASMDIR := $(firstword $(wildcard $(GOROOT)/lib/wasm $(GOROOT)/misc/wasm))
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

GOFILES := $(shell find . -name '*.go' -not -path './.git/*')

.PHONY: run test build wasm vet unit wasmtest e2e chromium fuzz bench typecheck clean

## run: build the wasm bundle and start the server with the demo page on $(ADDR)
run: wasm
	$(GO) run ./server/cmd/roomkit serve -addr $(ADDR) -static .

## test: formatting, vet (native and js/wasm), unit tests with the race
## detector, the bridge under node, the browser tests in Chromium, and a
## short run of every fuzzer
test: vet wasm chromium typecheck
	$(GO) test -race -count=1 ./...
	$(MAKE) wasmtest
	$(MAKE) fuzz

## typecheck: js/roomkit.d.ts against the seeds' sample code (and code using
## the room-messaging SDK's type names) with tsc --strict; TypeScript comes
## from the npm registry into a scratch folder
NPMTOOLS ?= $(HOME)/.cache/roomkit/npm
TSC      := $(NPMTOOLS)/node_modules/.bin/tsc
typecheck: $(TSC)
	$(TSC) -p js/typecheck/tsconfig.json

$(TSC):
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing nodejs and npm with apt-get"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y nodejs npm; }
	npm install --prefix $(NPMTOOLS) --no-audit --no-fund --no-save typescript@5.9.3

## fuzz: each fuzz target for FUZZTIME (make fuzz FUZZTIME=10m for a long run);
## their seed corpora are in each package's testdata/fuzz. The short run in
## make test counts executions: a duration can end the run with a spurious
## "context deadline exceeded" in Go's fuzz coordinator (go.dev/issue/75804).
FUZZTIME ?= 30000x
FUZZ_TARGETS := ./server/protocol:FuzzDecodeRequest ./server/gateway:FuzzParseFrame ./server/gateway:FuzzDispatch ./server/auth:FuzzVerify ./wasm/client:FuzzParseKitToken
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $$t for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s "$${t%%:*}" || exit 1; \
	done

## build: the server binary and the wasm bundle
build: wasm
	$(GO) build -o roomkit-server ./server/cmd/roomkit

wasm: js/roomkit.wasm js/wasm_exec.js

js/roomkit.wasm: $(GOFILES) go.mod go.sum
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $@ ./wasm

js/wasm_exec.js: $(WASMDIR)/wasm_exec.js
	cp $< $@

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || echo .)); \
	  if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./bridge/... ./server/protocol/...

## wasmtest: the client core and the bridge built for js/wasm, run by node
wasmtest:
	PATH="$(WASMDIR):$$PATH" GOOS=js GOARCH=wasm $(GO) test -count=1 ./wasm/... ./bridge/...

## e2e: only the browser tests (builds the bundle, installs Chromium if missing)
e2e: wasm chromium
	$(GO) test -count=1 -v ./e2e/...

## chromium: install Debian's chromium when it is missing
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium with apt-get"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium; }

## bench: the Go benchmarks (the engine, the native enterRoom+leaveRoom
## round trip, the browser: module ready cold and cached, enterRoom p50/p99),
## then the load generator's suite, each run against a fresh server process
## (join-storm of 2,000 and 5,000, fanout at 50 to 800 msg/s, idle 10,000,
## churn, resume-storm); writes results.txt, report.md (each budget line
## with its figure) and fanout.svg to $(BENCHDIR)
BENCHDIR ?= bench-results
bench: wasm chromium
	mkdir -p $(BENCHDIR)
	$(GO) build -o $(BENCHDIR)/roomkit ./server/cmd/roomkit
	$(GO) build -o $(BENCHDIR)/roomkit-load ./server/cmd/roomkit-load
	$(GO) test -run '^$$' -bench . -benchmem ./server/... ./wasm/client/ | tee $(BENCHDIR)/go-bench.txt
	$(GO) test -run '^$$' -bench Browser -benchtime 1x ./e2e/ | tee $(BENCHDIR)/browser-bench.txt
	ulimit -n $$(ulimit -Hn); $(BENCHDIR)/roomkit-load -server-bin $(BENCHDIR)/roomkit -out $(BENCHDIR)
	@echo "results in $(BENCHDIR)/ (report.md, fanout.svg)"

clean:
	rm -f js/roomkit.wasm js/wasm_exec.js roomkit-server
	rm -rf $(NPMTOOLS)
