package main

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/tasksim/tasksim/sim"
)

func unsetEnv(t *testing.T, key string) {
	t.Setenv(key, "") // restores the variable after the test
	os.Unsetenv(key)
}

func TestPaceSweepGCSetsPercentAndLimitThenRestores(t *testing.T) {
	unsetEnv(t, "GOGC")
	unsetEnv(t, "GOMEMLIMIT")
	for _, tc := range []struct {
		name string
		sets []string
		runs int
	}{
		{"small scenario: the floor", nil, 2},
		{"large scenario: the estimate times the runs", []string{"workers[0].count=1000000"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadScenario("default", tc.sets, "")
			if err != nil {
				t.Fatal(err)
			}
			want := max(int64(minSweepHeap), sim.EstimateMemory(cfg).Bytes*int64(tc.runs))
			if tc.sets == nil && want != minSweepHeap || tc.sets != nil && want == minSweepHeap {
				t.Fatalf("case does not test what it says: want limit %d", want)
			}
			percent := debug.SetGCPercent(100)
			limit := debug.SetMemoryLimit(-1)
			restore := paceSweepGC(cfg, tc.runs)
			gotPercent := debug.SetGCPercent(-1)
			debug.SetGCPercent(gotPercent)
			gotLimit := debug.SetMemoryLimit(-1)
			restore()
			if gotPercent != sweepGCPercent || gotLimit != want {
				t.Errorf("during the sweep GC percent %d, memory limit %d; want %d, %d", gotPercent, gotLimit, sweepGCPercent, want)
			}
			if p, l := debug.SetGCPercent(percent), debug.SetMemoryLimit(limit); p != 100 || l != limit {
				t.Errorf("after the sweep GC percent %d, memory limit %d; want them restored to 100, %d", p, l, limit)
			}
		})
	}
}

func TestPaceSweepGCLeavesTheUsersGOGC(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			unsetEnv(t, "GOGC")
			unsetEnv(t, "GOMEMLIMIT")
			t.Setenv(env, "200")
			cfg, err := loadScenario("default", nil, "")
			if err != nil {
				t.Fatal(err)
			}
			percent := debug.SetGCPercent(150)
			defer debug.SetGCPercent(percent)
			restore := paceSweepGC(cfg, 2)
			got := debug.SetGCPercent(150)
			restore()
			if got != 150 {
				t.Errorf("with %s set the sweep changed GC percent to %d", env, got)
			}
		})
	}
}
