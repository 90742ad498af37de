package reports

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tasksim/tasksim/sim"
)

// WriteText prints a run's summary for a terminal: the verdict and every expectation with
// its observed value first, then the key numbers.
func WriteText(w io.Writer, s *sim.Summary) error {
	var b strings.Builder
	failed := 0
	for _, e := range s.Expectations {
		if !e.OK {
			failed++
		}
	}
	switch {
	case len(s.Expectations) == 0:
		fmt.Fprintf(&b, "NO EXPECTATIONS  %s seed %d\n", s.Scenario, s.Seed)
	case failed == 0:
		fmt.Fprintf(&b, "PASS  %s seed %d: all %d expectations hold\n", s.Scenario, s.Seed, len(s.Expectations))
	default:
		fmt.Fprintf(&b, "FAIL  %s seed %d: %d of %d expectations failed\n", s.Scenario, s.Seed, failed, len(s.Expectations))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, e := range s.Expectations {
		mark := "ok  "
		if !e.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(tw, "  %s\t%s\tobserved %s\n", mark, e.Expr, FormatNumber(e.Observed))
	}
	tw.Flush()

	fmt.Fprintf(&b, "\nsteps      %d submitted, %d completed, %d failed, %d lost (completed %.2f%%)\n",
		s.Steps, s.Completed, s.Failed, s.Lost, 100*s.CompletedRatio)
	fmt.Fprintf(&b, "attempts   %d (retries: %d transport, %d component, %d recovery)\n",
		s.Attempts, s.Retries.Transport, s.Retries.Component, s.Retries.Recovery)
	fmt.Fprintf(&b, "timeouts   %d queue, %d heartbeat, %d execution\n", s.Timeouts.Queue, s.Timeouts.Heartbeat, s.Timeouts.Execution)
	fmt.Fprintf(&b, "detection  since last heartbeat %s\n", quantileLine(s.Detection.SinceLastHeartbeat))
	fmt.Fprintf(&b, "           since crash          %s\n", quantileLine(s.Detection.SinceCrash))
	fmt.Fprintf(&b, "           false %d, during pause %d, missed %d\n", s.FalseDetections, s.PauseDetections, s.MissedDetections)
	fmt.Fprintf(&b, "hazards    duplicate results %d, double executions %d, stale results %d, early timeouts %d, redeliveries %d\n",
		s.DuplicateResults, s.DoubleExecutions, s.StaleResults, s.EarlyTimeouts, s.Redeliveries)
	fmt.Fprintf(&b, "answers    already claimed %d, not found %d, unavailable %d; unhealthy components %d\n",
		s.AlreadyClaimed, s.NotFound, s.Unavailable, s.UnhealthyComponents)
	fmt.Fprintf(&b, "latency    end to end %s\n", quantileLine(s.Latency.EndToEnd))
	fmt.Fprintf(&b, "           queue wait %s\n", quantileLine(s.Latency.QueueWait))
	fmt.Fprintf(&b, "           execution  %s\n", quantileLine(s.Latency.Execution))
	var types []string
	for t := range s.Messages {
		types = append(types, t)
	}
	sort.Strings(types)
	var msgs []string
	for _, t := range types {
		m := s.Messages[t]
		if m.Count > 0 {
			msgs = append(msgs, fmt.Sprintf("%s %d (%s)", t, m.Count, FormatBytes(m.Bytes)))
		}
	}
	fmt.Fprintf(&b, "messages   %s\n", strings.Join(msgs, ", "))
	fmt.Fprintf(&b, "virtual    %s simulated in %.2fs wall (%.0fx), %d events (%.2fM events/s)\n",
		Seconds(s.VirtualDuration), s.Perf.WallSeconds, s.Perf.VirtualPerWallSecond, s.Perf.Events, s.Perf.EventsPerSecond/1e6)
	if s.Perf.CodecNsPerMessage > 0 {
		fmt.Fprintf(&b, "codec      %.0f ns/message (encode %.0f, decode %.0f), %.0f MB/s\n",
			s.Perf.CodecNsPerMessage, s.Perf.CodecEncodeNsPerMsg, s.Perf.CodecDecodeNsPerMsg, s.Perf.CodecMBPerSecond)
	}
	fmt.Fprintf(&b, "trace hash %s\n", s.TraceHash)
	_, err := io.WriteString(w, b.String())
	return err
}

func quantileLine(q sim.Quantiles) string {
	if q.Count == 0 {
		return "none"
	}
	return fmt.Sprintf("n=%d min %s p50 %s p90 %s p99 %s max %s", q.Count,
		Seconds(q.Min), Seconds(q.P50), Seconds(q.P90), Seconds(q.P99), Seconds(q.Max))
}

// Seconds renders a number of seconds compactly: 5s, 1.25s, 12ms, 3m20s.
func Seconds(v float64) string {
	switch {
	case v == 0:
		return "0s"
	case v < 1:
		return strconv.FormatFloat(roundTo(v*1000, 2), 'f', -1, 64) + "ms"
	case v < 120:
		return strconv.FormatFloat(roundTo(v, 3), 'f', -1, 64) + "s"
	default:
		m := int(v) / 60
		return fmt.Sprintf("%dm%gs", m, roundTo(v-float64(m*60), 1))
	}
}

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// FormatNumber prints an observed value without noise: integers as integers.
func FormatNumber(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// IsDurationPath reports whether a summary path holds seconds.
func IsDurationPath(path string) bool {
	if path == "virtual_duration" {
		return true
	}
	return (strings.HasPrefix(path, "detection.") || strings.HasPrefix(path, "latency.")) && !strings.HasSuffix(path, ".count")
}

// FormatObserved shows an expectation's observed value in its unit.
func FormatObserved(expr string, v float64) string {
	path, _, _ := strings.Cut(strings.TrimSpace(expr), " ")
	switch {
	case IsDurationPath(path):
		return Seconds(v)
	case strings.HasSuffix(path, "_ratio"):
		return fmt.Sprintf("%s (%.2f%%)", FormatNumber(v), 100*v)
	}
	return FormatNumber(v)
}

// MarkdownCell keeps text from breaking a Markdown table row.
func MarkdownCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
