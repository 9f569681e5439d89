# The README's commands. `make test` is what CI runs.
GO ?= go
.PHONY: test vet lint bench fmt

test: vet lint
	$(GO) test -race -count=1 ./...
	cd conformance && $(GO) test -race -count=1 ./...
	cd bench && $(GO) test -race -count=1 -run . ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	cd conformance && $(GO) vet ./...
	cd bench && $(GO) vet ./...

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
