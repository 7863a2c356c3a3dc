package main

import (
	"os"
	"strconv"
	"strings"
)

// readCgroup reads the cgroup files serve takes its memory limit from.
var readCgroup = os.ReadFile

// containerMemory returns the memory limit of the container the process runs
// in, in bytes (cgroup v2 memory.max, else cgroup v1 memory.limit_in_bytes),
// or 0 when there is none. read is os.ReadFile outside tests.
func containerMemory(read func(string) ([]byte, error)) int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := read(path)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(b))
		n, err := strconv.ParseInt(v, 10, 64)
		// "max" (v2) or a huge number (v1, about 2^63 rounded to a page)
		// means no limit.
		if err != nil || n <= 0 || n >= 1<<62 {
			return 0
		}
		return n
	}
	return 0
}

// serveMemoryLimit is the soft memory limit serve gives the Go runtime: 80%
// of the container's memory, leaving room for memory the runtime does not
// manage, such as SQLite's page cache (modernc.org/sqlite allocates it
// outside the Go heap). 0: none.
// With GOGC at 400 (see cmdServe) a sign-in's 64 MB password hash can push
// the heap goal to several hundred MB; near the limit the collector runs
// sooner instead of the container being killed for memory.
func serveMemoryLimit(getenv func(string) string, read func(string) ([]byte, error)) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0 // the runtime already read it
	}
	return containerMemory(read) / 10 * 8
}
