package sim_test

import "testing"

// A crashed worker's stream drops what its pipe held: with the reference 4MiB pipe a
// one-slot rust worker hoards a deep queue's backlog and the crash drops most of it, each
// assignment failing at its queue deadline and retried; a pipe of one byte holds only
// the send in progress, so the crash drops at most that one. Nothing is lost either way.
func TestCrashDropsPipe(t *testing.T) {
	const yaml = `
name: pipe-drop
duration: 10m
workers: [{pool: p, count: 2, flavour: rust, concurrency: 1, start: 0s}]
components: [{path: /c, pool: p, duration: 1s}]
load: [{component: /c, tasks: 40, arrival: {process: burst}, at: 1s}]
faults: [{at: 1500ms, crash: {pool: p, workers: [p-0]}}]
`
	for _, tt := range []struct {
		pipe         string
		minDropped   int64
		maxDropped   int64
		minQueueTOut int64
	}{
		{"4MiB", 15, 20, 15},
		{"1B", 1, 1, 1},
	} {
		t.Run(tt.pipe, func(t *testing.T) {
			res := run(t, loadYAML(t, yaml, "queue.pipe_bytes="+tt.pipe, "orchestrator.discovery=off"))
			s := res.Summary
			if s.DroppedInPipe < tt.minDropped || s.DroppedInPipe > tt.maxDropped {
				t.Errorf("dropped_in_pipe %d, want in [%d, %d]", s.DroppedInPipe, tt.minDropped, tt.maxDropped)
			}
			if s.Timeouts.Queue < tt.minQueueTOut || s.Lost != 0 || s.Completed != 40 {
				t.Errorf("queue timeouts %d lost %d completed %d", s.Timeouts.Queue, s.Lost, s.Completed)
			}
		})
	}
}
