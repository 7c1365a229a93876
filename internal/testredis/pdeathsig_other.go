//go:build !linux

package testredis

import "os/exec"

// setParentDeathSignal does nothing off Linux: only Cleanup stops the server.
func setParentDeathSignal(*exec.Cmd) {}
