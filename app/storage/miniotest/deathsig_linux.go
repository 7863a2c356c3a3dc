package miniotest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill minio if the test binary dies without
// running its cleanups (a panic, a timeout, ^C), so no server outlives it.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
