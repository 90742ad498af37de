package reports

import (
	"fmt"
	"strings"
)

// ReportQuantiles are the quantiles every latency row shows, in order, with their column
// names. All of them come from Distribution.Quantile, which is the recorder's own rule,
// so that the text, the pages and the plot legends print the same numbers.
var ReportQuantiles = []struct {
	Name string
	Q    float64
}{{"p50", 0.5}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}, {"p99.9", 0.999}}

// QuantileRow is one latency distribution as reports print it: every value already
// formatted, "–" where there is no sample.
type QuantileRow struct {
	Name      string
	Count     int64
	Min, Max  string
	Quantiles []string // like ReportQuantiles
	Mean      string
}

// NewQuantileRow formats a distribution for a report.
func NewQuantileRow(name string, d *Distribution) QuantileRow {
	r := QuantileRow{Name: name, Count: d.Count, Min: "–", Max: "–", Mean: "–"}
	for _, q := range ReportQuantiles {
		v := "–"
		if d.Count > 0 {
			v = Seconds(d.Quantile(q.Q))
		}
		r.Quantiles = append(r.Quantiles, v)
	}
	if d.Count > 0 {
		r.Min, r.Max, r.Mean = Seconds(d.Min), Seconds(d.Max), Seconds(d.Sum/float64(d.Count))
	}
	return r
}

// DetectionRows are the detection latencies: since the last heartbeat and since the
// crash, then since the last heartbeat for each cause that occurred.
func DetectionRows(run *Run) []QuantileRow {
	l := &run.Latency.Detection
	rows := []QuantileRow{
		NewQuantileRow("since last heartbeat", &l.SinceLastHeartbeat),
		NewQuantileRow("since crash", &l.SinceCrash),
	}
	for _, c := range DetectionCauses() {
		if d := l.ByCause[c]; d != nil && d.Count > 0 {
			rows = append(rows, NewQuantileRow(c+" detections", d))
		}
	}
	return rows
}

// LatencyRows are the step and attempt latencies.
func LatencyRows(run *Run) []QuantileRow {
	l := &run.Latency.Latency
	return []QuantileRow{
		NewQuantileRow("end to end", &l.EndToEnd),
		NewQuantileRow("queue wait", &l.QueueWait),
		NewQuantileRow("execution", &l.Execution),
	}
}

// BreakdownRow is one component's or pool's share of a run.
type BreakdownRow struct {
	Name string
	// Pool is the component's pool; empty on a pool's own row.
	Pool                                                string
	Completed, Failed                                   int64
	QueueTimeouts, HeartbeatTimeouts, ExecutionTimeouts int64
	// P50, P95 and P99 are completed steps' end-to-end latency, "–" without one.
	P50, P95, P99 string
}

// Timeouts is the row's timeouts as "queue/heartbeat/execution".
func (r *BreakdownRow) Timeouts() string {
	return fmt.Sprintf("%d/%d/%d", r.QueueTimeouts, r.HeartbeatTimeouts, r.ExecutionTimeouts)
}

func (r *BreakdownRow) setQuantiles(d *Distribution) {
	r.P50, r.P95, r.P99 = "–", "–", "–"
	if d != nil && d.Count > 0 {
		r.P50, r.P95, r.P99 = Seconds(d.Quantile(0.5)), Seconds(d.Quantile(0.95)), Seconds(d.Quantile(0.99))
	}
}

// ComponentRows are the run's components, in the scenario's order, with their counts
// from run.json and their quantiles from latency.json.
func ComponentRows(run *Run) []BreakdownRow {
	var rows []BreakdownRow
	for i, c := range run.Info.Components {
		r := BreakdownRow{Name: c.Component, Pool: c.Pool, Completed: c.Success, Failed: c.Failure,
			QueueTimeouts: c.QueueTimeouts, HeartbeatTimeouts: c.HeartbeatTimeouts, ExecutionTimeouts: c.ExecutionTimeouts}
		var d *Distribution
		if i < len(run.Latency.Components) && run.Latency.Components[i].Name == c.Component {
			d = &run.Latency.Components[i].EndToEnd
		}
		r.setQuantiles(d)
		rows = append(rows, r)
	}
	return rows
}

// PoolRows are the run's pools, in the scenario's order: their components' counts
// added up, and the pool's own quantiles (a pool's latencies are recorded as one
// distribution, since quantiles do not add).
func PoolRows(run *Run) []BreakdownRow {
	var rows []BreakdownRow
	for i, p := range run.Info.Pools {
		r := BreakdownRow{Name: p.Pool}
		for _, c := range run.Info.Components {
			if c.Pool == p.Pool {
				r.Completed += c.Success
				r.Failed += c.Failure
				r.QueueTimeouts += c.QueueTimeouts
				r.HeartbeatTimeouts += c.HeartbeatTimeouts
				r.ExecutionTimeouts += c.ExecutionTimeouts
			}
		}
		var d *Distribution
		if i < len(run.Latency.Pools) && run.Latency.Pools[i].Name == p.Pool {
			d = &run.Latency.Pools[i].EndToEnd
		}
		r.setQuantiles(d)
		rows = append(rows, r)
	}
	return rows
}

// DetectionCauseCounts says how many heartbeat timeouts each cause had, e.g.
// "crash 6, false 39", in DetectionCauses order; empty when the run has no breakdown.
func DetectionCauseCounts(run *Run) string {
	var parts []string
	for _, c := range DetectionCauses() {
		if d := run.Latency.Detection.ByCause[c]; d != nil && d.Count > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, d.Count))
		}
	}
	return strings.Join(parts, ", ")
}
