//go:build linux

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// setChildAttrs makes the kernel kill the server under test if pcad bench
// dies without stopping it (killed, or a test binary timing out).
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// terminate asks a process to shut down cleanly.
func terminate(p *os.Process) {
	p.Signal(syscall.SIGTERM)
}
