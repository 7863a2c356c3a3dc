# Storykeep. `make run` starts it on SQLite with local media; `make test` runs
# the whole suite on SQLite and PostgreSQL with a real MinIO.
.PHONY: run build test test-sqlite vet fmt minio tsa vendor-js clean

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

# tsa installs the RFC 3161 timestamp authority the certificate seal tests start.
tsa:
	scripts/tsa.sh

# vendor-js copies pinned front-end libraries (package.json) into static/js/vendor.
# The copies are committed, so building and `go run` never need npm.
vendor-js:
	npm ci --no-audit --no-fund --ignore-scripts
	mkdir -p static/js/vendor
	cp node_modules/signature_pad/dist/signature_pad.umd.min.js static/js/vendor/signature_pad.umd.min.js
	cp node_modules/signature_pad/LICENSE static/js/vendor/signature_pad.LICENSE.txt

clean:
	rm -rf bin data
