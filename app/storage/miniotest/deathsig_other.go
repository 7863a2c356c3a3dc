//go:build !linux

package miniotest

import "os/exec"

// setDeathSignal has no portable equivalent off Linux; Cleanup and Run stop
// the server in the normal case.
func setDeathSignal(*exec.Cmd) {}
