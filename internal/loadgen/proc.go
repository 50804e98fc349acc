package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcMemory is a process's resident memory as the kernel reports it.
type ProcMemory struct {
	RSS     uint64 // resident set now (VmRSS), bytes
	PeakRSS uint64 // highest resident set since start or since ResetPeakRSS (VmHWM), bytes
}

// ErrNoProc is returned where /proc is not available (not Linux).
var ErrNoProc = errors.New("loadgen: /proc/<pid>/status is not available on this system")

// ReadProcMemory reads the resident memory of process pid from
// /proc/<pid>/status. The peak (VmHWM) includes memory the process has since
// given back, so it is the figure for "peak memory" of a run.
func ReadProcMemory(pid int) (ProcMemory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat("/proc/self/status"); serr != nil {
				return ProcMemory{}, ErrNoProc
			}
		}
		return ProcMemory{}, fmt.Errorf("loadgen: memory of process %d: %w", pid, err)
	}
	defer f.Close()
	var m ProcMemory
	var seen int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch k {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.PeakRSS
		default:
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return ProcMemory{}, fmt.Errorf("loadgen: memory of process %d: %s: %w", pid, k, err)
		}
		*dst = n * 1024
		seen++
	}
	if err := sc.Err(); err != nil {
		return ProcMemory{}, fmt.Errorf("loadgen: memory of process %d: %w", pid, err)
	}
	if seen != 2 {
		return ProcMemory{}, fmt.Errorf("loadgen: memory of process %d: no VmRSS and VmHWM (a zombie?)", pid)
	}
	return m, nil
}

// ResetPeakRSS sets the peak resident set of process pid back to its
// current resident set (Linux: "5" into /proc/<pid>/clear_refs), so that a
// later ReadProcMemory reports the peak of what happened in between. The
// caller must be allowed to trace pid (its parent, or the same user).
func ResetPeakRSS(pid int) error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("loadgen: reset peak memory of process %d: %w", pid, err)
	}
	return nil
}

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// ReadProcCPU reads the CPU time (user plus system, all threads) process
// pid has used since it started, from /proc/<pid>/stat, in steps of 10 ms.
// The difference of two readings around a run, divided by the calls made,
// is the CPU one call cost that process, whatever else the machine ran.
func ReadProcCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if _, serr := os.Stat("/proc/self/stat"); serr != nil {
			return 0, ErrNoProc
		}
		return 0, fmt.Errorf("loadgen: CPU time of process %d: %w", pid, err)
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count fields after its closing one. utime and stime are fields 14
	// and 15, so the 12th and 13th after it.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadgen: CPU time of process %d: malformed stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("loadgen: CPU time of process %d: malformed stat", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("loadgen: CPU time of process %d: %w", pid, err)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
