# Switchboard. `make test` is the one test command (CI runs it through .ci/run).
.PHONY: test build bench stack-up stack-down fmt

test:
	bash scripts/test

build:
	go build -o bin/ ./cmd/...

bench:
	bash scripts/bench $(BENCHFLAGS)

stack-up:
	bash scripts/stack up

stack-down:
	bash scripts/stack down

fmt:
	gofmt -w $$(git ls-files '*.go')
