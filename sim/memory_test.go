package sim

import (
	"math"
	"testing"
	"time"
)

// The estimate counts what a run can reach: a stream's arrivals are capped by its rate
// over the duration left, a burst arrives whole, a stream that starts too late not at all.
func TestEstimateMemoryCountsReachableSteps(t *testing.T) {
	cfg := &Config{Duration: time.Hour, Workers: []PoolConfig{{Count: 10, Concurrency: 4}},
		Load: []LoadConfig{
			{Tasks: 1_000_000_000, Arrival: ArrivalPoisson, RatePerSec: 10},  // ~36,000 in an hour
			{Tasks: 5000, Arrival: ArrivalBurst, At: time.Minute},            // all of them
			{Tasks: 1_000_000_000, Arrival: ArrivalBurst, At: 2 * time.Hour}, // none
		}}
	e := EstimateMemory(cfg)
	const poisson = 36000 + 1139 + 10 // the mean, six standard deviations, and 10
	if e.Steps != poisson+5000 {
		t.Errorf("steps %d, want %d", e.Steps, poisson+5000)
	}
	if e.Workers != 10 || e.WorkerBytes != 10*memPerWorker {
		t.Errorf("workers %d (%d bytes)", e.Workers, e.WorkerBytes)
	}
	if e.PayloadBytes != 0 {
		t.Errorf("payload %d bytes without the wire", e.PayloadBytes)
	}
	if want := int64(memBase + (poisson+5000)*memPerStep + 10*memPerWorker); e.Bytes != want {
		t.Errorf("total %d, want %d", e.Bytes, want)
	}
	// On the wire, each payload size costs its sample and a copy per assignment that can be
	// in flight: at most one per worker slot.
	cfg.Network.Wire = true
	cfg.Load[0].PayloadBytes = 1 << 20
	if e := EstimateMemory(cfg); e.PayloadBytes != 40<<20+memPerPayload<<20 {
		t.Errorf("payload %d bytes, want %d", e.PayloadBytes, 40<<20+memPerPayload<<20)
	}
}

func TestEstimateMemorySaturates(t *testing.T) {
	cfg := &Config{Duration: time.Hour, Network: NetworkConfig{Wire: true}}
	for range 10_000 {
		cfg.Workers = append(cfg.Workers, PoolConfig{Count: 1_000_000, Concurrency: 100_000})
		cfg.Load = append(cfg.Load, LoadConfig{Tasks: 1_000_000_000, Arrival: ArrivalBurst, PayloadBytes: 1 << 30})
	}
	e := EstimateMemory(cfg)
	if e.PayloadBytes < 1e18 || e.Bytes < e.PayloadBytes || e.StepBytes != 1e13*memPerStep {
		t.Fatalf("estimate overflowed: %+v", e)
	}
	cfg.Workers[0].Concurrency = 1 << 62
	cfg.Load[0].PayloadBytes = 1 << 62
	if e := EstimateMemory(cfg); e.Bytes != math.MaxInt64 {
		t.Fatalf("estimate %d, want it saturated", e.Bytes)
	}
}
