//go:build !unix

package sim_test

import "time"

// cpuTime is not measured here: the floor benchmark reports wall time only.
func cpuTime() time.Duration { return 0 }
