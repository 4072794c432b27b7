//go:build !unix

package loadtest

import "time"

// cpuNow is not measured here.
func cpuNow() (process, machine time.Duration) { return 0, 0 }
