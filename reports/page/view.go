package page

import (
	"fmt"
	"sort"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/plots"
	"github.com/tasksim/tasksim/sim"
)

// view is what report.html and report.md show, computed once so that both say the same.
type view struct {
	Title       string
	Scenario    string
	Seed        uint64
	Description string
	Replay      string
	Verdict     string // PASS, FAIL or NO EXPECTATIONS
	OK          bool
	VerdictLine string
	Expect      []expectRow
	Counts      []kv
	Quantiles   []string // the latency tables' quantile columns
	Detection   []reports.QuantileRow
	Latency     []reports.QuantileRow
	Components  []reports.BreakdownRow
	Pools       []reports.BreakdownRow
	Messages    []messageRow
	Run         []kv
}

type expectRow struct {
	OK       bool
	Expr     string
	Observed string
}

type kv struct{ Key, Value, Note string }

type messageRow struct {
	Type  string
	Count int64
	Bytes string
	Avg   string
}

// verdict is the one-word outcome and a sentence about it.
func verdict(s *sim.Summary) (word string, ok bool, line string) {
	failed := 0
	for _, e := range s.Expectations {
		if !e.OK {
			failed++
		}
	}
	switch {
	case len(s.Expectations) == 0:
		return "NO EXPECTATIONS", true, "the scenario states no expectations"
	case failed == 0:
		return "PASS", true, fmt.Sprintf("all %d expectations hold", len(s.Expectations))
	}
	return "FAIL", false, fmt.Sprintf("%d of %d expectations failed", failed, len(s.Expectations))
}

func newView(run *reports.Run) *view {
	s := &run.Summary
	v := &view{
		Title:       fmt.Sprintf("%s, seed %d", s.Scenario, s.Seed),
		Scenario:    s.Scenario,
		Seed:        s.Seed,
		Description: run.Info.Description,
	}
	if run.Info.Source != "" {
		v.Replay = run.Info.Replay()
	}
	v.Verdict, v.OK, v.VerdictLine = verdict(s)
	for _, e := range s.Expectations {
		v.Expect = append(v.Expect, expectRow{OK: e.OK, Expr: e.Expr, Observed: reports.FormatObserved(e.Expr, e.Observed)})
	}
	pct := func(n int64) string {
		if s.Steps == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f%% of steps", 100*float64(n)/float64(s.Steps))
	}
	v.Counts = []kv{
		{"steps", fmt.Sprint(s.Steps), "submitted"},
		{"completed", fmt.Sprint(s.Completed), pct(s.Completed)},
		{"failed", fmt.Sprint(s.Failed), pct(s.Failed)},
		{"lost", fmt.Sprint(s.Lost), "never settled"},
		{"attempts", fmt.Sprint(s.Attempts), fmt.Sprintf("retries: %d transport, %d component, %d recovery", s.Retries.Transport, s.Retries.Component, s.Retries.Recovery)},
		{"timeouts", fmt.Sprint(s.Timeouts.Queue + s.Timeouts.Heartbeat + s.Timeouts.Execution), fmt.Sprintf("%d queue, %d heartbeat, %d execution", s.Timeouts.Queue, s.Timeouts.Heartbeat, s.Timeouts.Execution)},
		{"false detections", fmt.Sprint(s.FalseDetections), "heartbeat timeouts of live, reachable workers"},
		{"pause detections", fmt.Sprint(s.PauseDetections), "heartbeat timeouts of paused workers"},
		{"partition detections", fmt.Sprint(s.PartitionDetections), "heartbeat timeouts of live workers cut off by a partition"},
		{"missed detections", fmt.Sprint(s.MissedDetections), "crashed workers' tasks no timer failed"},
		{"duplicate results", fmt.Sprint(s.DuplicateResults), "steps whose result was accepted twice"},
		{"double executions", fmt.Sprint(s.DoubleExecutions), "steps run twice at the same time"},
		{"stale results", fmt.Sprint(s.StaleResults), "an old attempt's result taken for a newer one"},
		{"early timeouts", fmt.Sprint(s.EarlyTimeouts), "failed by an earlier attempt's deadline"},
		{"redeliveries", fmt.Sprint(s.Redeliveries), "jetstream re-sent an unacknowledged assignment"},
		{"answers", fmt.Sprint(s.AlreadyClaimed + s.NotFound + s.Unavailable), fmt.Sprintf("%d already claimed, %d not found, %d unavailable", s.AlreadyClaimed, s.NotFound, s.Unavailable)},
		{"unhealthy components", fmt.Sprint(s.UnhealthyComponents), "flagged by the health tracker"},
	}
	for _, q := range reports.ReportQuantiles {
		v.Quantiles = append(v.Quantiles, q.Name)
	}
	v.Detection, v.Latency = reports.DetectionRows(run), reports.LatencyRows(run)
	v.Components, v.Pools = reports.ComponentRows(run), reports.PoolRows(run)
	var types []string
	for t := range s.Messages {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		m := s.Messages[t]
		avg := "–"
		if m.Count > 0 {
			avg = fmt.Sprintf("%.0f B", float64(m.Bytes)/float64(m.Count))
		}
		v.Messages = append(v.Messages, messageRow{Type: t, Count: m.Count, Bytes: reports.FormatBytes(m.Bytes), Avg: avg})
	}
	v.Run = []kv{
		{"virtual time", reports.Seconds(s.VirtualDuration), "start to the last settled step"},
		{"detector", run.Info.Detector, "heartbeat timeout " + reports.Seconds(run.Info.HeartbeatTimeout)},
		{"task ids", run.Info.TaskIDs, ""},
		{"workers", fmt.Sprint(run.Info.Workers), "all pools"},
		{"trace hash", s.TraceHash, "same scenario and seed give the same hash"},
	}
	if s.Perf.WallSeconds > 0 {
		v.Run = append(v.Run, kv{"wall time", fmt.Sprintf("%.2fs", s.Perf.WallSeconds),
			fmt.Sprintf("%d events, %.2fM events/s, %.0fx real time", s.Perf.Events, s.Perf.EventsPerSecond/1e6, s.Perf.VirtualPerWallSecond)})
	}
	if s.Perf.CodecNsPerMessage > 0 {
		v.Run = append(v.Run, kv{"codec", fmt.Sprintf("%.0f ns/message", s.Perf.CodecNsPerMessage),
			fmt.Sprintf("encode %.0f, decode %.0f ns; %.0f MB/s", s.Perf.CodecEncodeNsPerMsg, s.Perf.CodecDecodeNsPerMsg, s.Perf.CodecMBPerSecond)})
	}
	return v
}

// plotCaptions say in a line what each plot is for.
var plotCaptions = map[string]string{
	plots.PlotInFlight:           "Steps submitted and not yet settled, over virtual time; fault windows shaded.",
	plots.PlotThroughput:         "Steps settled per virtual second; fault windows shaded.",
	plots.PlotDetectionHistogram: "How long after its last heartbeat each task was failed by the heartbeat timer, stacked by what really happened (crash, false, pause, partition).",
	plots.PlotDetectionCDF:       "Detection latency since the last heartbeat, one line per cause; since the crash, dashed.",
	plots.PlotDetectionTail:      "The same detections' tail: the fraction detected later than each latency, on a log axis.",
	plots.PlotEndToEndCDF:        "Submission to final result, retries included, on a log axis.",
	plots.PlotEndToEndTail:       "The tail of the same: the fraction of steps slower than each latency, down to p99.99, both axes log.",
}
