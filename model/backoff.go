package model

import "time"

// BackoffKind names a retry backoff schedule.
type BackoffKind uint8

const (
	// BackoffFibonacci waits Min, Min, 2·Min, 3·Min, 5·Min … capped at Max (the reference).
	BackoffFibonacci BackoffKind = iota
	// BackoffExponential waits Min, Min·Factor, Min·Factor² … capped at Max.
	BackoffExponential
	// BackoffConstant always waits Min.
	BackoffConstant
)

// Backoff is the delay schedule between a step's failed attempt and its retry.
type Backoff struct {
	Kind BackoffKind
	// Min is the first delay; Max caps every delay (0 = no cap).
	Min, Max time.Duration
	// Factor is the exponential growth factor; 0 or less means 2.
	Factor float64
}

// maxBackoffDelay bounds an uncapped schedule so that long retry chains cannot overflow.
const maxBackoffDelay = time.Duration(1) << 62

// Delay returns the wait before retry number retry (1-based: the step's first retry is 1).
// With the reference schedule (fibonacci, Min 1s, Max 10s) retries 1..8 wait
// 1, 1, 2, 3, 5, 8, 10, 10 seconds. A retry below 1 is treated as 1.
func (b Backoff) Delay(retry int) time.Duration {
	limit := b.Max
	if limit <= 0 {
		limit = maxBackoffDelay
	}
	d := b.Min
	switch b.Kind {
	case BackoffConstant:
	case BackoffExponential:
		f := b.Factor
		if f <= 0 {
			f = 2
		}
		for i := 1; i < retry && d < limit; i++ {
			next := float64(d) * f
			if next >= float64(limit) {
				d = limit
				break
			}
			d = time.Duration(next)
		}
	default: // BackoffFibonacci
		prev := b.Min
		for i := 2; i < retry && d < limit; i++ {
			prev, d = d, prev+d
			if d < prev { // overflow
				d = limit
			}
		}
	}
	return min(d, limit)
}
