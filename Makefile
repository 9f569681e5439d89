# The README's commands. `make test` is what CI runs.
GO ?= go
.PHONY: test vet lint fuzz bench fmt

test: vet lint
	$(GO) test -race -count=1 ./...
	cd conformance && $(GO) test -race -count=1 ./...
	cd bench && $(GO) test -race -count=1 -run . ./...
	$(MAKE) fuzz

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	cd conformance && $(GO) vet ./...
	cd bench && $(GO) vet ./...

# A short run of every fuzz target, on top of its committed corpus (which
# plain `go test` already replays); FUZZTIME=1m make fuzz digs deeper. A
# count of runs, unlike a duration, cannot run out while the fuzzer is still
# gathering its baseline (which fails the run).
FUZZTIME ?= 300x
FUZZPKGS = ./kimi ./kimitest ./internal/sse ./tokencount
fuzz:
	@for pkg in $(FUZZPKGS); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 3s $$pkg > /tmp/fuzz-$$t.log 2>&1 || { cat /tmp/fuzz-$$t.log; exit 1; }; \
		done; \
	done

# staticcheck is a tool of the bench module (so that the library's own
# module needs nothing for it); it is built there and run here.
lint:
	SC=$$(cd bench && $(GO) tool -n staticcheck) && $$SC ./... && (cd conformance && $$SC ./...) && (cd bench && $$SC ./...)

# Benchmarks: stream decode of a recorded 2,000-chunk Kimi stream, ours vs
# go-openai vs openai-go (see BENCHMARKS.md).
bench:
	cd bench && $(GO) test -run '^$$' -bench . -count 6 -benchtime 1s . > results.txt
	cd bench && $(GO) tool benchstat -col /client results.txt

fmt:
	gofmt -w $$(git ls-files '*.go')

# The same benchmarks with the clients interleaved: -count 1 rounds in
# rotating client order, so that a slow spell of a shared machine is spread
# over all clients (see bench/interleave.sh and BENCHMARKS.md).
.PHONY: bench-interleaved
bench-interleaved:
	cd bench && ./interleave.sh 6 1s
