//go:build unix

package sim_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user and system, every thread, so the
// collector's work too): on a shared machine it counts this process's work, where wall
// time also counts the turns of others.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
