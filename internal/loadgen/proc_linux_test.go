package loadgen

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// rusageCPU is this process's user plus system CPU time as getrusage
// reports it: the reference ReadProcCPU must agree with.
func rusageCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestProcCPU(t *testing.T) {
	before, err := ReadProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	ref0 := rusageCPU(t)
	// Burn at least 300 ms of CPU, however busy the machine is.
	x := 0
	for rusageCPU(t)-ref0 < 300*time.Millisecond {
		for i := range 100_000 {
			x += i
		}
	}
	after, err := ReadProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	ref := rusageCPU(t) - ref0
	got := after - before
	// /proc counts in 10 ms ticks: allow two ticks of rounding and a little
	// CPU used by other goroutines between the readings.
	if got < ref-30*time.Millisecond || got > ref+100*time.Millisecond {
		t.Fatalf("ReadProcCPU grew by %v while getrusage grew by %v (x=%d)", got, ref, x)
	}
	if _, err := ReadProcCPU(-1); err == nil {
		t.Error("ReadProcCPU(-1) succeeded")
	}
}
