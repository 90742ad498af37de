package sim

import (
	"math"
	"slices"
	"time"
)

// The costs behind EstimateMemory, measured with `tasksim run --json` (perf.peak_heap_bytes)
// on burst scenarios: 100,000 steps take 100 MB and 400,000 take 419 MB; 10,000 workers
// 12 MB and 40,000 20 MB. They are rounded up: the estimate is there to refuse what
// cannot fit, not to predict to the byte.
const (
	memBase      = 32 << 20 // the runtime, the tables, the histograms
	memPerStep   = 1200     // a step's orchestrator, oracle and event state, kept to the end
	memPerWorker = 512      // a worker process and its slot
	// memPerPayload is what one payload size costs besides its messages in flight: the
	// sample Value (about 12 bytes of Go objects per encoded byte) and the decoder's
	// arenas for it.
	memPerPayload = 16
)

// MemoryEstimate is an estimate of a run's peak memory, and what it is made of.
type MemoryEstimate struct {
	Bytes       int64
	Steps       int64 // steps that can arrive before the run's duration ends
	StepBytes   int64
	Workers     int64
	WorkerBytes int64
	// PayloadBytes is the memory for payloads: each distinct size's sample Value, and a
	// copy on the wire for every assignment that can be in flight at once.
	PayloadBytes int64
}

// EstimateMemory estimates the peak memory of running cfg, so that a scenario that could
// never fit (10^9 steps, 1000 pools of 10^6 workers, 1 GiB payloads) is refused before it
// starts rather than after it has taken the machine's memory. It counts only what the
// run can reach: a stream's arrivals are capped by its rate over the run's duration.
func EstimateMemory(cfg *Config) MemoryEstimate {
	var e MemoryEstimate
	slots := 0.0
	for _, p := range cfg.Workers {
		e.Workers += int64(p.Count)
		slots += float64(p.Count) * float64(max(p.Concurrency, 1))
	}
	var sizes []int
	inFlightPayload := 0.0
	for _, l := range cfg.Load {
		steps := reachableSteps(l, cfg.Duration)
		e.Steps += int64(steps)
		if cfg.Network.Wire && l.PayloadBytes > 0 && steps > 0 {
			sizes = append(sizes, l.PayloadBytes)
			inFlightPayload = max(inFlightPayload, math.Min(steps, slots)*float64(l.PayloadBytes))
		}
	}
	payload := inFlightPayload
	slices.Sort(sizes)
	for _, size := range slices.Compact(sizes) {
		payload += memPerPayload * float64(size)
	}
	steps, workers := float64(e.Steps)*memPerStep, float64(e.Workers)*memPerWorker
	e.StepBytes, e.WorkerBytes, e.PayloadBytes = saturate(steps), saturate(workers), saturate(payload)
	e.Bytes = saturate(memBase + steps + workers + payload)
	return e
}

// reachableSteps is how many of a stream's steps can arrive before the run ends: all of
// a burst that starts in time, or the rate over the time left, with room for a Poisson
// process running well above its mean (six standard deviations).
func reachableSteps(l LoadConfig, duration time.Duration) float64 {
	if l.At > duration {
		return 0
	}
	n := float64(l.Tasks)
	if l.Arrival == ArrivalBurst || l.RatePerSec <= 0 {
		return n
	}
	mean := l.RatePerSec * (duration - l.At).Seconds()
	return math.Min(n, math.Ceil(mean+6*math.Sqrt(mean)+10))
}

func saturate(x float64) int64 {
	if x >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(x)
}
