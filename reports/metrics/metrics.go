package metrics

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/safefile"
	"github.com/tasksim/tasksim/sim"
)

// MetricsFile is the Prometheus text exposition of a run in its out directory.
const MetricsFile = "metrics.prom"

// HistogramBounds are the upper bounds (seconds) of every exported histogram. They are
// the same for every run, so that runs aggregate in PromQL (histogram_quantile needs
// equal buckets), and dense from 1s to 10s, where heartbeat detection lands.
var HistogramBounds = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12.5, 15, 20, 30, 45, 60, 120, 300, 600, 1800, 3600,
}

// Metrics builds a registry holding the run's metrics: the reference orchestrator's
// families (PROTOCOL.md, "Metrics") under tasksim_ names, plus crash detection and
// traffic. Durations are virtual seconds; histogram buckets are counted from the latency
// recorders.
func Metrics(run *reports.Run) (*prometheus.Registry, error) {
	c := &constCollector{}
	s := &run.Summary
	l := &run.Latency

	c.histogram("tasksim_task_queue_duration_seconds",
		"Time a task spent Queued: from dispatch to its first heartbeat (the claim), in virtual seconds.", &l.Latency.QueueWait)
	c.histogram("tasksim_task_execution_duration_seconds",
		"Time a task spent Executing: from its first heartbeat to its result, in virtual seconds.", &l.Latency.Execution)
	c.histogram("tasksim_step_end_to_end_duration_seconds",
		"Time from a step's submission to its final result, retries included, in virtual seconds.", &l.Latency.EndToEnd)
	c.histogram("tasksim_detection_since_last_heartbeat_seconds",
		"For tasks failed by the heartbeat timer: time from the last heartbeat that arrived to the failure, in virtual seconds.", &l.Detection.SinceLastHeartbeat)
	c.histogram("tasksim_detection_since_crash_seconds",
		"For tasks whose worker had really crashed: time from the crash to the failure, in virtual seconds.", &l.Detection.SinceCrash)

	if cs := run.Info.Components; len(cs) > 0 {
		// The reference labels these by component; the summary holds their sums.
		per := func(f func(c *sim.ComponentStats) int64) ([]string, []int64) {
			names, vs := make([]string, len(cs)), make([]int64, len(cs))
			for i := range cs {
				names[i], vs[i] = cs[i].Component, f(&cs[i])
			}
			return names, vs
		}
		perComponent := func(name, help string, f func(c *sim.ComponentStats) int64) {
			names, vs := per(f)
			c.counterVec(name, help, "component", names, vs)
		}
		perComponent("tasksim_task_queue_timeout_total", "Tasks failed by the queue timer (no first heartbeat in time).", func(c *sim.ComponentStats) int64 { return c.QueueTimeouts })
		perComponent("tasksim_task_heartbeat_timeout_total", "Tasks failed by the heartbeat timer (crash detection).", func(c *sim.ComponentStats) int64 { return c.HeartbeatTimeouts })
		perComponent("tasksim_task_execution_timeout_total", "Tasks failed by the execution-time cap.", func(c *sim.ComponentStats) int64 { return c.ExecutionTimeouts })
		perComponent("tasksim_task_success_total", "Steps that completed successfully.", func(c *sim.ComponentStats) int64 { return c.Success })
		perComponent("tasksim_task_failure_total", "Steps that failed for good (retry budget spent or a non-retriable error).", func(c *sim.ComponentStats) int64 { return c.Failure })
		perComponent("tasksim_component_unhealthy_total", "Times a component was flagged unhealthy by the health tracker.", func(c *sim.ComponentStats) int64 { return c.Unhealthy })
		retries := prometheus.NewDesc("tasksim_step_retries_total", "Assignments made beyond each step's first, by why they were made.", []string{"component", "reason"}, nil)
		exhausted := prometheus.NewDesc("tasksim_step_retries_exhausted_total", "Steps that failed because a retry budget ran out, by budget.", []string{"component", "reason"}, nil)
		for i := range cs {
			k := &cs[i]
			for _, r := range []struct {
				d      *prometheus.Desc
				reason string
				v      int64
			}{
				{retries, "transport_error", k.RetriesTransport}, {retries, "component_error", k.RetriesComponent}, {retries, "recovery", k.RetriesRecovery},
				{exhausted, "transport_error", k.ExhaustedTransport}, {exhausted, "component_error", k.ExhaustedComponent},
			} {
				c.add(prometheus.NewConstMetric(r.d, prometheus.CounterValue, float64(r.v), k.Component, r.reason))
			}
		}
	} else {
		// A run saved without the breakdown: totals only.
		c.counter("tasksim_task_queue_timeout_total", "Tasks failed by the queue timer (no first heartbeat in time).", s.Timeouts.Queue)
		c.counter("tasksim_task_heartbeat_timeout_total", "Tasks failed by the heartbeat timer (crash detection).", s.Timeouts.Heartbeat)
		c.counter("tasksim_task_execution_timeout_total", "Tasks failed by the execution-time cap.", s.Timeouts.Execution)
		c.counter("tasksim_task_success_total", "Steps that completed successfully.", s.Completed)
		c.counter("tasksim_task_failure_total", "Steps that failed for good (retry budget spent or a non-retriable error).", s.Failed)
		c.counter("tasksim_component_unhealthy_total", "Times a component was flagged unhealthy by the health tracker.", s.UnhealthyComponents)
		c.counterVec("tasksim_step_retries_total", "Assignments made beyond each step's first, by why they were made.", "reason",
			[]string{"transport_error", "component_error", "recovery"}, []int64{s.Retries.Transport, s.Retries.Component, s.Retries.Recovery})
	}
	c.counter("tasksim_steps_total", "Steps submitted.", s.Steps)
	c.counter("tasksim_task_attempts_total", "Task assignments made, first attempts and retries.", s.Attempts)

	c.counter("tasksim_false_detections_total",
		"Tasks failed by the heartbeat timer while their worker was alive, not paused, and not cut off.", s.FalseDetections)
	c.counter("tasksim_pause_detections_total", "Tasks failed by the heartbeat timer while their worker was paused.", s.PauseDetections)
	c.counter("tasksim_partition_detections_total",
		"Tasks failed by the heartbeat timer while their worker was alive but cut off by a partition.", s.PartitionDetections)
	c.counter("tasksim_missed_detections_total", "Tasks of crashed workers that no timer ever failed.", s.MissedDetections)
	c.counterVec("tasksim_hazards_total", "Protocol hazards the oracle observed, by kind (SCENARIOS.md, summary.json).", "kind",
		[]string{"duplicate_result", "double_execution", "stale_result", "early_timeout", "redelivery"},
		[]int64{s.DuplicateResults, s.DoubleExecutions, s.StaleResults, s.EarlyTimeouts, s.Redeliveries})
	c.counterVec("tasksim_responses_total", "Error answers workers received, by kind.", "kind",
		[]string{"already_claimed", "not_found", "unavailable"}, []int64{s.AlreadyClaimed, s.NotFound, s.Unavailable})

	types := make([]string, 0, len(s.Messages))
	for t := range s.Messages {
		types = append(types, t)
	}
	sort.Strings(types) // map order must not reach the output
	counts, sizes := make([]int64, len(types)), make([]int64, len(types))
	for i, t := range types {
		counts[i], sizes[i] = s.Messages[t].Count, s.Messages[t].Bytes
	}
	c.counterVec("tasksim_messages_total", "Protobuf messages sent, by message type.", "type", types, counts)
	c.counterVec("tasksim_message_bytes_total", "Encoded bytes of protobuf messages sent, by message type.", "type", types, sizes)

	// The run's end state stands in for the gauges a live orchestrator would be scraped for.
	if ps := run.Info.Pools; len(ps) > 0 {
		depth := prometheus.NewDesc("tasksim_queue_depth", "Assignments waiting in the queue when the run ended, by queue (pool).", []string{"queue"}, nil)
		connected := prometheus.NewDesc("tasksim_queue_connected_workers", "Workers connected to the queue when the run ended, by queue (pool).", []string{"queue"}, nil)
		for _, p := range ps {
			c.add(prometheus.NewConstMetric(depth, prometheus.GaugeValue, float64(p.QueueDepth), p.Pool))
			c.add(prometheus.NewConstMetric(connected, prometheus.GaugeValue, float64(p.ConnectedWorkers), p.Pool))
		}
	} else {
		c.gauge("tasksim_queue_depth", "Steps submitted but not settled when the run ended (queued or executing).", float64(s.Lost))
		c.gauge("tasksim_queue_connected_workers", "Worker processes the scenario runs (all pools).", float64(run.Info.Workers))
	}
	// A live JetStream run's queues, as the NATS server reported them at the end.
	if s.Live != nil && len(s.Live.JetStream) > 0 {
		labels := []string{"stream", "consumer"}
		pending := prometheus.NewDesc("tasksim_jetstream_pending", "Messages of the stream waiting for their first delivery when the run ended.", labels, nil)
		ackPending := prometheus.NewDesc("tasksim_jetstream_ack_pending", "Messages delivered and not yet acknowledged when the run ended.", labels, nil)
		stall := prometheus.NewDesc("tasksim_jetstream_dispatch_stall_seconds", "Longest wait of an assignment between the orchestrator and the stream's store ack.", labels, nil)
		for _, q := range s.Live.JetStream {
			c.add(prometheus.NewConstMetric(pending, prometheus.GaugeValue, float64(q.Pending), q.Stream, q.Consumer))
			c.add(prometheus.NewConstMetric(ackPending, prometheus.GaugeValue, float64(q.AckPending), q.Stream, q.Consumer))
			c.add(prometheus.NewConstMetric(stall, prometheus.GaugeValue, q.DispatchStall, q.Stream, q.Consumer))
		}
	}
	c.gauge("tasksim_steps_unsettled", "Steps submitted but not settled when the run ended.", float64(s.Lost))
	c.counter("tasksim_duplicate_deliveries_total", "Assignments a duplicate_delivery fault handed to a second worker.", run.Info.DuplicateDeliveries)
	c.gauge("tasksim_virtual_duration_seconds", "Virtual time from start to the last settled step.", s.VirtualDuration)

	if c.err != nil {
		return nil, c.err
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("register run metrics: %w", err)
	}
	return reg, nil
}

// constCollector hands out metrics computed once: a run's numbers do not change.
type constCollector struct {
	metrics []prometheus.Metric
	err     error
}

func (c *constCollector) Describe(ch chan<- *prometheus.Desc) {
	seen := map[*prometheus.Desc]bool{}
	for _, m := range c.metrics {
		if d := m.Desc(); !seen[d] {
			seen[d] = true
			ch <- d
		}
	}
}

func (c *constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.metrics {
		ch <- m
	}
}

func (c *constCollector) add(m prometheus.Metric, err error) {
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("build metric: %w", err)
	}
	if err == nil {
		c.metrics = append(c.metrics, m)
	}
}

func (c *constCollector) counter(name, help string, v int64) {
	c.add(prometheus.NewConstMetric(prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, float64(v)))
}

func (c *constCollector) counterVec(name, help, label string, values []string, vs []int64) {
	d := prometheus.NewDesc(name, help, []string{label}, nil)
	for i, lv := range values {
		c.add(prometheus.NewConstMetric(d, prometheus.CounterValue, float64(vs[i]), lv))
	}
}

func (c *constCollector) gauge(name, help string, v float64) {
	c.add(prometheus.NewConstMetric(prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, v))
}

func (c *constCollector) histogram(name, help string, d *reports.Distribution) {
	buckets := make(map[float64]uint64, len(HistogramBounds))
	for _, le := range HistogramBounds {
		buckets[le] = uint64(d.CountAtMost(le))
	}
	c.add(prometheus.NewConstHistogram(prometheus.NewDesc(name, help, nil, nil), uint64(d.Count), d.Sum, buckets))
}

// WriteMetrics renders the registry in the Prometheus text format.
func WriteMetrics(w io.Writer, reg prometheus.Gatherer) error {
	fams, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("encode metric %s: %w", f.GetName(), err)
		}
	}
	return nil
}

// WriteMetricsFile writes metrics.prom into dir.
func WriteMetricsFile(dir string, run *reports.Run) error {
	reg, err := Metrics(run)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := WriteMetrics(&b, reg); err != nil {
		return err
	}
	if err := safefile.WriteFile(filepath.Join(dir, MetricsFile), b.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", MetricsFile, err)
	}
	return nil
}
