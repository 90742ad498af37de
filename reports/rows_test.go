package reports_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/reportstest"
	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

// TestQuantilesHaveOneSource pins that a quantile read from latency.json is exactly the
// summary's (the text once said p99 9.961s where the plot's legend said 9.959s), for
// every distribution of every built-in scenario.
func TestQuantilesHaveOneSource(t *testing.T) {
	for _, name := range scenarios.Names() {
		if name == "scale" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			cfg, res := reportstest.Simulate(t, name, 0, nil)
			run := reports.NewRun(cfg, res, name, nil)
			s, l := &run.Summary, &run.Latency
			for _, c := range []struct {
				path string
				q    sim.Quantiles
				d    *reports.Distribution
			}{
				{"detection.since_last_heartbeat", s.Detection.SinceLastHeartbeat, &l.Detection.SinceLastHeartbeat},
				{"detection.since_crash", s.Detection.SinceCrash, &l.Detection.SinceCrash},
				{"latency.end_to_end", s.Latency.EndToEnd, &l.Latency.EndToEnd},
				{"latency.queue_wait", s.Latency.QueueWait, &l.Latency.QueueWait},
				{"latency.execution", s.Latency.Execution, &l.Latency.Execution},
			} {
				for _, q := range []struct {
					name string
					q    float64
					want float64
				}{{"min", 0, c.q.Min}, {"p50", 0.5, c.q.P50}, {"p90", 0.9, c.q.P90}, {"p99", 0.99, c.q.P99}, {"max", 1, c.q.Max}} {
					if got := c.d.Quantile(q.q); got != q.want {
						t.Errorf("%s.%s: %v from latency.json, %v in summary.json", c.path, q.name, got, q.want)
					}
				}
			}
		})
	}
}

func TestComponentAndPoolRows(t *testing.T) {
	cfg, res := reportstest.Simulate(t, "default", 0, nil)
	run := reports.NewRun(cfg, res, "default", nil)
	comps, pools := reports.ComponentRows(run), reports.PoolRows(run)
	if len(comps) != len(cfg.Components) || len(pools) != len(cfg.Workers) {
		t.Fatalf("%d component rows, %d pool rows for %d components, %d pools", len(comps), len(pools), len(cfg.Components), len(cfg.Workers))
	}
	var completed, failed, hb int64
	for i, r := range comps {
		c := run.Info.Components[i]
		if r.Name != cfg.Components[i].Path || r.Pool != cfg.Components[i].Pool || r.Completed != c.Success || r.Failed != c.Failure || r.HeartbeatTimeouts != c.HeartbeatTimeouts {
			t.Errorf("row %+v does not say what run.json says: %+v", r, c)
		}
		d := &run.Latency.Components[i].EndToEnd
		if r.P95 != reports.Seconds(d.Quantile(0.95)) || d.Count != c.Success {
			t.Errorf("%s: p95 %s, distribution of %d says %s", r.Name, r.P95, d.Count, reports.Seconds(d.Quantile(0.95)))
		}
		completed, failed, hb = completed+r.Completed, failed+r.Failed, hb+r.HeartbeatTimeouts
	}
	var pc, pf, ph int64
	for _, r := range pools {
		pc, pf, ph = pc+r.Completed, pf+r.Failed, ph+r.HeartbeatTimeouts
	}
	s := &run.Summary
	if completed != s.Completed || pc != s.Completed || failed != s.Failed || pf != s.Failed || hb != s.Timeouts.Heartbeat || ph != s.Timeouts.Heartbeat {
		t.Errorf("rows add up to %d/%d completed, %d/%d failed, %d/%d heartbeat timeouts; the summary has %d, %d, %d",
			completed, pc, failed, pf, hb, ph, s.Completed, s.Failed, s.Timeouts.Heartbeat)
	}
	// default has two pools: python's quantiles are its own distribution, not rust's.
	if pools[0].Name != "python" || pools[0].P99 == pools[1].P99 {
		t.Errorf("pool rows %+v", pools)
	}
}

func TestTextShowsEveryQuantileCauseAndComponent(t *testing.T) {
	cfg, res := reportstest.Simulate(t, "default", 0, nil)
	run := reports.NewRun(cfg, res, "default", nil)
	var b strings.Builder
	if err := reports.WriteText(&b, run); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	e2e := &run.Latency.Latency.EndToEnd
	want := []string{
		"end to end n=4000 min " + reports.Seconds(e2e.Min) + " p50 " + reports.Seconds(e2e.Quantile(0.5)) +
			" p90 " + reports.Seconds(e2e.Quantile(0.9)) + " p95 " + reports.Seconds(e2e.Quantile(0.95)) +
			" p99 " + reports.Seconds(e2e.Quantile(0.99)) + " p99.9 " + reports.Seconds(e2e.Quantile(0.999)) + " max " + reports.Seconds(e2e.Max),
		// default's heartbeat timeouts by cause, as the summary counts them.
		fmt.Sprintf("crash detections     n=%d ", res.Summary.Detection.SinceCrash.Count),
		fmt.Sprintf("false detections     n=%d ", res.Summary.FalseDetections),
		"component /python/embed ",
		"pool      rust ",
		"timeouts q/h/e",
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q:\n%s", w, text)
		}
	}
}
