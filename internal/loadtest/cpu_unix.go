//go:build unix

package loadtest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuNow returns the CPU time this process has used, and the busy time of
// the whole machine (every process; from /proc/stat, so 0 off Linux).
func cpuNow() (process, machine time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return process, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return process, 0
	}
	// user nice system idle iowait irq softirq, in ticks of 10 ms
	// (USER_HZ is 100 on Linux); not steal, the time the hypervisor gave
	// to other machines.
	var ticks int64
	for i, v := range f[1:8] {
		if i == 3 || i == 4 {
			continue // idle, iowait
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return process, 0
		}
		ticks += n
	}
	return process, time.Duration(ticks) * 10 * time.Millisecond
}
