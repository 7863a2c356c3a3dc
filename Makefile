# Storykeep. `make run` starts it on SQLite with local media; `make test` runs
# the whole suite on SQLite and PostgreSQL with a real MinIO.
.PHONY: run build test test-sqlite vet fmt minio vendor-js clean

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/storykeep/storykeep/app/web.Version=$(VERSION)

run:
	go run -ldflags "$(LDFLAGS)" ./cmd/storykeep serve

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $(LDFLAGS)" -o bin/storykeep ./cmd/storykeep

test:
	scripts/test.sh

test-sqlite:
	STORYKEEP_TEST_DB=sqlite go test ./...

vet:
	gofmt -l cmd app models views static migrations
	go vet ./...

fmt:
	gofmt -w cmd app models views static migrations

minio:
	scripts/minio.sh

clean:
	rm -rf bin data
