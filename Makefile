# roomkit: `make run` starts the server with the demo page; `make test` runs
# every test, installing what a fresh machine lacks.

GO      ?= go
ADDR    ?= 127.0.0.1:8080
GOROOT  := $(shell $(GO) env GOROOT)
# Go 1.24+ keeps the wasm support files in lib/wasm; older ones in misc/wasm.
WASMDIR := $(firstword $(wildcard $(GOROOT)/lib/wasm $(GOROOT)/misc/wasm))
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

GOFILES := $(shell find . -name '*.go' -not -path './.git/*')

# Every folder the Makefile installs into or caches in is under CACHEDIR
# (ROOMKIT_CACHE in the environment), outside the repository; .ci/run points
# it at a new empty folder for each run. Variables named in a rule's
# prerequisites must be defined before that rule: make expands them as it
# reads the line.
CACHEDIR ?= $(or $(ROOMKIT_CACHE),$(HOME)/.cache/roomkit)
# The JS tools (TypeScript, esbuild) come from the npm registry into a
# scratch folder; bump the stamp's number with them.
NPMTOOLS ?= $(CACHEDIR)/npm
JSTOOLS  := $(NPMTOOLS)/tools-1.stamp
TSC      := $(NPMTOOLS)/node_modules/.bin/tsc
ESBUILD  := $(NPMTOOLS)/node_modules/.bin/esbuild

.PHONY: run test build wasm vet unit wasmtest e2e chromium redis compressors nodejs fuzz bench typecheck package clean

## run: build the wasm bundle and start the server with the demo page on $(ADDR)
run: wasm
	$(GO) run ./server/cmd/roomkit serve -addr $(ADDR) -static . -media-loopback

## test: formatting, vet (native and js/wasm), unit tests with the race
## detector, the bridge under node, the browser tests in Chromium, and a
## short run of every fuzzer
# The suite's own -timeout is well above its wall time (e2e takes the
# longest, a few minutes), so a slow machine fails a test, not the binary.
TESTTIMEOUT ?= 30m
test: vet wasm chromium redis nodejs typecheck package
	$(GO) test -race -count=1 -timeout $(TESTTIMEOUT) ./...
	$(MAKE) wasmtest
	$(MAKE) fuzz

## typecheck: js/roomkit.d.ts against the SDK guides' sample code (and code using
## the room-messaging SDK's type names) with tsc --strict
typecheck: $(JSTOOLS)
	$(TSC) -p js/typecheck/tsconfig.json

$(JSTOOLS): | nodejs
	npm install --prefix $(NPMTOOLS) --no-audit --no-fund --no-save typescript@5.9.3 esbuild@0.28.2
	touch $@

## package: the npm package (js/package.json) packed into js/dist by npm
## pack: the module, its types, the wasm and the one-file build
package: wasm js/roomkit.min.js js/roomkit.global.js | nodejs
	mkdir -p js/dist
	rm -f js/dist/roomkit-*.tgz
	cd js && npm pack --pack-destination dist

# js/roomkit.min.js: the module in one file, for a <script type="module">
# from a CDN; roomkit.wasm is fetched from next to it. The call kit's parts
# are the modules in js/callkit/.
CALLKIT_JS := $(wildcard js/callkit/*.js)
JS_SOURCES := js/roomkit.js js/callkit.js $(CALLKIT_JS) js/session.js js/media.js js/sfu.js js/listeners.js js/tokens.js js/wasm_exec.js
js/roomkit.min.js: $(JS_SOURCES) $(JSTOOLS)
	$(ESBUILD) js/roomkit.js --bundle --format=esm --minify --target=es2022 --log-level=warning --outfile=$@

# js/roomkit.global.js: the same as a classic script (an IIFE defining the
# global RoomKit, js/global.js), for pages whose scripts are not modules;
# its wasm and default server are where the script came from.
js/roomkit.global.js: js/global.js $(JS_SOURCES) $(JSTOOLS)
	$(ESBUILD) js/global.js --bundle --format=iife --minify --target=es2022 --log-level=warning \
	  --define:ROOMKIT_CLASSIC_SCRIPT=true --define:import.meta.url=undefined --outfile=$@

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

## wasm: the bundle: roomkit.wasm with its brotli and zstd copies (the
## server sends the smallest one the browser accepts) and wasm_exec.js
wasm: js/roomkit.wasm js/wasm_exec.js js/roomkit.wasm.br js/roomkit.wasm.zst

# A copy is served only while it is not older than the wasm, and brotli
# gives its output the input's time (to the second): touch makes it now.
js/roomkit.wasm.br: js/roomkit.wasm | compressors
	brotli -q 11 -f -o $@ $<
	touch $@

js/roomkit.wasm.zst: js/roomkit.wasm | compressors
	zstd -19 -q -f -o $@ $<
	touch $@

## compressors: install Debian's brotli and zstd when they are missing
compressors:
	@command -v brotli >/dev/null 2>&1 && command -v zstd >/dev/null 2>&1 || { \
	  echo "installing brotli and zstd with apt-get"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y brotli zstd; }

js/roomkit.wasm: $(GOFILES) go.mod go.sum
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $@ ./wasm

# js/wasm_exec.js is Go's wasm_exec.js inside an exported goRuntime(), so that
# importing it defines no global names: goRuntime() returns the Go class and
# the fs/process/path stand-ins the Go runtime reads once as it starts.
js/wasm_exec.js: $(WASMDIR)/wasm_exec.js
	{ echo '// Code generated by make from $(WASMDIR)/wasm_exec.js; DO NOT EDIT.'; \
	  echo 'export function goRuntime() {'; \
	  echo 'let fs = globalThis.fs, process = globalThis.process, path = globalThis.path, Go;'; \
	  sed -E 's/globalThis\.(fs|process|path|Go)\b/\1/g' $<; \
	  echo 'return { Go, fs, process, path };'; \
	  echo '}'; } > $@.tmp
	@if tail -n +4 $@.tmp | grep -nE 'globalThis\.(fs|process|path|Go)\b'; then echo "$@: a global name is left"; exit 1; fi
	mv $@.tmp $@

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || echo .)); \
	  if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./bridge/... ./server/protocol/...

## wasmtest: the client core and the bridge built for js/wasm, run by node
wasmtest: | nodejs
	PATH="$(WASMDIR):$$PATH" GOOS=js GOARCH=wasm $(GO) test -count=1 ./wasm/... ./bridge/...

## e2e: only the browser tests (builds the bundle, installs Chromium if missing)
e2e: wasm chromium redis nodejs package
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) -v ./e2e/...

## redis: install Debian's redis-server when it is missing (the several-node
## tests start their own on a loopback port; none runs as a service)
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server with apt-get"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends redis-server; \
	  { command -v systemctl >/dev/null 2>&1 && $(SUDO) systemctl disable --now redis-server 2>/dev/null; } || true; }

## nodejs: install Debian's nodejs and npm when either is missing (the npm
## tools, the package, the bridge under node and the e2e vite app use them)
nodejs:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  echo "installing nodejs and npm with apt-get"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y nodejs npm; }

## chromium: install Debian's chromium when it is missing
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium with apt-get"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium; }

## bench: the Go benchmarks (the engine, the native enterRoom+leaveRoom
## round trip, the browser: module ready cold and cached, enterRoom p50/p99),
## then the load generator's suite, each run against a fresh server process
## (join-storm of 2,000 and 5,000, fanout at 50 to 800 msg/s, idle 10,000,
## churn, resume-storm, and media: 4 pion publishers of Opus and VP8 to 20
## pion subscribers through the SFU, and live: one pion host with audio
## and three simulcast layers to 100, 250, 500, 1,000 and 2,000 pion viewers
## taking q; the server started with -media-loopback); writes results.txt, report.md (each budget line with
## its figure) and fanout.svg to $(BENCHDIR)
BENCHDIR ?= bench-results
bench: wasm chromium redis
	mkdir -p $(BENCHDIR)
	$(GO) build -o $(BENCHDIR)/roomkit ./server/cmd/roomkit
	$(GO) build -o $(BENCHDIR)/roomkit-load ./server/cmd/roomkit-load
	$(GO) test -run '^$$' -bench . -benchmem ./server/... ./wasm/client/ | tee $(BENCHDIR)/go-bench.txt
	$(GO) test -run '^$$' -bench Browser -benchtime 1x ./e2e/ | tee $(BENCHDIR)/browser-bench.txt
	ulimit -n $$(ulimit -Hn); $(BENCHDIR)/roomkit-load -server-bin $(BENCHDIR)/roomkit -out $(BENCHDIR)
	@echo "results in $(BENCHDIR)/ (report.md, fanout.svg)"

clean:
	rm -f js/roomkit.wasm js/roomkit.wasm.br js/roomkit.wasm.zst js/wasm_exec.js js/roomkit.min.js js/roomkit.global.js roomkit-server
	rm -rf js/dist
	rm -rf $(NPMTOOLS)
