//go:build pprof

package main

// Built with `go build -tags pprof`, the binary serves Go's profiler on
// STORYKEEP_PPROF_LISTEN (default 127.0.0.1:6060) for load tests. The
// default build has no profiler.

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("STORYKEEP_PPROF_LISTEN")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
