package metrics

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/reportstest"
	"github.com/tasksim/tasksim/sim"
)

func parseMetrics(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("metrics.prom does not parse: %v", err)
	}
	return fams
}

func renderMetrics(t *testing.T, run *reports.Run) []byte {
	t.Helper()
	reg, err := Metrics(run)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteMetrics(&b, reg); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// value is a counter's or gauge's value, for the metric whose label (if any) matches.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name, label, lv string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s", name)
	}
	// Series whose label matches are summed (all of them when label is ""), so that a
	// family labelled by component adds up to the summary's total.
	var sum float64
	found := false
	for _, m := range f.Metric {
		match := label == ""
		for _, l := range m.Label {
			match = match || (l.GetName() == label && l.GetValue() == lv)
		}
		if !match {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		}
	}
	if !found {
		t.Fatalf("%s{%s=%q}: not found", name, label, lv)
	}
	return sum
}

func TestMetricsMatchSummary(t *testing.T) {
	for name, run := range map[string]*reports.Run{"hand": reportstest.HandRun(), "crash-storm": reportstest.SmallRun(t)} {
		t.Run(name, func(t *testing.T) {
			fams := parseMetrics(t, bytes.NewReader(renderMetrics(t, run)))
			s := &run.Summary
			for _, f := range fams {
				if strings.TrimSpace(f.GetHelp()) == "" {
					t.Errorf("%s has no HELP", f.GetName())
				}
			}
			counts := []struct {
				name, label, lv string
				want            int64
			}{
				{"tasksim_task_queue_timeout_total", "", "", s.Timeouts.Queue},
				{"tasksim_task_heartbeat_timeout_total", "", "", s.Timeouts.Heartbeat},
				{"tasksim_task_execution_timeout_total", "", "", s.Timeouts.Execution},
				{"tasksim_task_success_total", "", "", s.Completed},
				{"tasksim_task_failure_total", "", "", s.Failed},
				{"tasksim_component_unhealthy_total", "", "", s.UnhealthyComponents},
				{"tasksim_step_retries_total", "reason", "transport_error", s.Retries.Transport},
				{"tasksim_step_retries_total", "reason", "component_error", s.Retries.Component},
				{"tasksim_step_retries_total", "reason", "recovery", s.Retries.Recovery},
				{"tasksim_false_detections_total", "", "", s.FalseDetections},
				{"tasksim_missed_detections_total", "", "", s.MissedDetections},
				{"tasksim_steps_unsettled", "", "", s.Lost},
				{"tasksim_steps_total", "", "", s.Steps},
				{"tasksim_task_attempts_total", "", "", s.Attempts},
			}
			for typ, m := range s.Messages {
				counts = append(counts,
					struct {
						name, label, lv string
						want            int64
					}{"tasksim_messages_total", "type", typ, m.Count},
					struct {
						name, label, lv string
						want            int64
					}{"tasksim_message_bytes_total", "type", typ, m.Bytes})
			}
			for _, c := range counts {
				if got := value(t, fams, c.name, c.label, c.lv); got != float64(c.want) {
					t.Errorf("%s{%s=%q} = %g, summary says %d", c.name, c.label, c.lv, got, c.want)
				}
			}
			hists := map[string]struct {
				count int64
				max   float64
			}{
				"tasksim_task_queue_duration_seconds":            {s.Latency.QueueWait.Count, s.Latency.QueueWait.Max},
				"tasksim_task_execution_duration_seconds":        {s.Latency.Execution.Count, s.Latency.Execution.Max},
				"tasksim_step_end_to_end_duration_seconds":       {s.Latency.EndToEnd.Count, s.Latency.EndToEnd.Max},
				"tasksim_detection_since_last_heartbeat_seconds": {s.Detection.SinceLastHeartbeat.Count, s.Detection.SinceLastHeartbeat.Max},
				"tasksim_detection_since_crash_seconds":          {s.Detection.SinceCrash.Count, s.Detection.SinceCrash.Max},
			}
			for name, want := range hists {
				f := fams[name]
				if f == nil || f.GetType() != dto.MetricType_HISTOGRAM || len(f.Metric) != 1 {
					t.Fatalf("%s: not one histogram", name)
				}
				h := f.Metric[0].Histogram
				if int64(h.GetSampleCount()) != want.count {
					t.Errorf("%s_count = %d, summary says %d", name, h.GetSampleCount(), want.count)
				}
				prev := uint64(0)
				for _, b := range h.Bucket {
					if b.GetCumulativeCount() < prev {
						t.Errorf("%s: bucket le=%g count %d below the previous %d", name, b.GetUpperBound(), b.GetCumulativeCount(), prev)
					}
					prev = b.GetCumulativeCount()
					// Every value at or below the max: a bound at or above it holds them all.
					if b.GetUpperBound() >= want.max && b.GetCumulativeCount() != uint64(want.count) {
						t.Errorf("%s: le=%g holds %d, want all %d (max %g)", name, b.GetUpperBound(), b.GetCumulativeCount(), want.count, want.max)
					}
				}
				if want.count > 0 && (h.GetSampleSum() < want.max || math.IsNaN(h.GetSampleSum())) {
					t.Errorf("%s_sum = %g, below the max %g", name, h.GetSampleSum(), want.max)
				}
			}
		})
	}
}

// A deadline detector fails tasks exactly at the timeout: the le="5" bucket must hold them.
func TestMetricsBucketIncludesExactBound(t *testing.T) {
	run := reportstest.HandRun() // detection since last heartbeat: 5s, 6.2s, 7.5s
	fams := parseMetrics(t, bytes.NewReader(renderMetrics(t, run)))
	for _, b := range fams["tasksim_detection_since_last_heartbeat_seconds"].Metric[0].Histogram.Bucket {
		want := map[float64]uint64{4: 0, 5: 1, 6: 1, 7: 2, 8: 3}
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("le=%g holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
}

func TestPushReachesGateway(t *testing.T) {
	type request struct {
		method, path, contentType string
		body                      []byte
	}
	got := make(chan request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- request{r.Method, r.URL.Path, r.Header.Get("Content-Type"), b}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	run := reportstest.HandRun()
	if err := Push(context.Background(), srv.URL, run, srv.Client()); err != nil {
		t.Fatal(err)
	}
	req := <-got
	if req.method != http.MethodPut {
		t.Errorf("method %s, want PUT (replace the group)", req.method)
	}
	// The push client orders grouping labels as its map yields them; either order is
	// the same group to a Pushgateway.
	if a, b := "/metrics/job/tasksim/scenario/hand/seed/7", "/metrics/job/tasksim/seed/7/scenario/hand"; req.path != a && req.path != b {
		t.Errorf("path %s, want %s (grouping labels in any order)", req.path, a)
	}
	fams := parseMetrics(t, bytes.NewReader(req.body))
	if v := value(t, fams, "tasksim_task_success_total", "", ""); v != float64(run.Summary.Completed) {
		t.Errorf("pushed tasksim_task_success_total = %g, want %d", v, run.Summary.Completed)
	}
	if !bytes.Equal(req.body, renderMetrics(t, run)) {
		t.Errorf("pushed body differs from metrics.prom:\n%s", req.body)
	}
}

func TestPushReportsGatewayError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusBadRequest)
	}))
	defer srv.Close()
	err := Push(context.Background(), srv.URL, reportstest.HandRun(), srv.Client())
	if err == nil || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("err = %v, want one naming the gateway", err)
	}
}

// A live JetStream run exports each stream's end state as the server reported it.
func TestMetricsJetStreamGauges(t *testing.T) {
	run := reportstest.HandRun()
	run.Summary.Live = &sim.LiveStats{JetStream: []sim.JetStreamStats{
		{Stream: "STEPFLOW_TASKS", Consumer: "stepflow-default", Pending: 3, AckPending: 2, DispatchStall: 0.25}}}
	fams := parseMetrics(t, bytes.NewReader(renderMetrics(t, run)))
	for name, want := range map[string]float64{"tasksim_jetstream_pending": 3, "tasksim_jetstream_ack_pending": 2,
		"tasksim_jetstream_dispatch_stall_seconds": 0.25} {
		if got := value(t, fams, name, "stream", "STEPFLOW_TASKS"); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if _, ok := parseMetrics(t, bytes.NewReader(renderMetrics(t, reportstest.HandRun())))["tasksim_jetstream_pending"]; ok {
		t.Error("a run without JetStream exports JetStream gauges")
	}
}
