//go:build !linux

package main

import (
	"os"
	"os/exec"
)

// setChildAttrs: nothing to set outside Linux.
func setChildAttrs(cmd *exec.Cmd) {}

// terminate asks a process to shut down cleanly, or kills it where an
// interrupt cannot be sent.
func terminate(p *os.Process) {
	if err := p.Signal(os.Interrupt); err != nil {
		p.Kill()
	}
}
