//go:build !linux

package tsatest

import "os/exec"

// setDeathSignal has no portable equivalent off Linux; Cleanup stops the
// server in the normal case.
func setDeathSignal(*exec.Cmd) {}
