package sim_test

import "testing"

// orchestrator.max_tasks_per_run with load.steps_per_run: a burst of 40 ten-second steps
// that form one run goes through in four waves of 10 (the reference's cap), though 40
// idle workers could take them all at once; the waiting steps wait in the run, not in the
// queue, so none times out. Without the cap, or with each step its own run, one wave.
func TestPerRunCapShapesOneRun(t *testing.T) {
	const yaml = `
name: one-run
workers: [{pool: p, count: 40, flavour: rust, start: 0s}]
components: [{path: /c, pool: p, duration: 10s}]
load: [{component: /c, tasks: 40, arrival: {process: burst}, at: 1s, steps_per_run: 40}]
`
	for _, tc := range []struct {
		name     string
		sets     []string
		min, max float64 // virtual_duration bounds, seconds
	}{
		{"cap 10", nil, 41, 41.2},
		{"no cap", []string{"orchestrator.max_tasks_per_run=0"}, 11, 11.2},
		{"a run per step", []string{"load[0].steps_per_run=1"}, 11, 11.2},
	} {
		sets := append([]string{"orchestrator.discovery=off"}, tc.sets...)
		s := run(t, loadYAML(t, yaml, sets...)).Summary
		if s.Completed != 40 || s.Timeouts.Queue != 0 || s.Attempts != 40 {
			t.Errorf("%s: completed %d, queue timeouts %d, attempts %d; want 40, 0, 40", tc.name, s.Completed, s.Timeouts.Queue, s.Attempts)
		}
		if d := float64(s.VirtualDuration); d < tc.min || d > tc.max {
			t.Errorf("%s: virtual duration %.3fs, want in [%g, %g]", tc.name, d, tc.min, tc.max)
		}
	}
}
