package testredis

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has the kernel kill the server when the thread that
// started it dies, so a test process that crashes before Cleanup leaves no
// redis-server behind.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
