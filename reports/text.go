package reports

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// WriteText prints a run's summary for a terminal: the verdict and every expectation with
// its observed value first, then the key numbers, then each component and pool. Every
// quantile comes from the run's distributions (Distribution.Quantile), the same numbers
// as the plots' legends and the pages.
func WriteText(w io.Writer, run *Run) error {
	s := &run.Summary
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
		if e.Why != "" {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", mark, e.Expr, e.Why)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\tobserved %s\n", mark, e.Expr, FormatNumber(e.Observed))
	}
	tw.Flush()

	fmt.Fprintf(&b, "\nsteps      %d submitted, %d completed, %d failed, %d lost (completed %.2f%%)\n",
		s.Steps, s.Completed, s.Failed, s.Lost, 100*s.CompletedRatio)
	fmt.Fprintf(&b, "attempts   %d (retries: %d transport, %d component, %d recovery)\n",
		s.Attempts, s.Retries.Transport, s.Retries.Component, s.Retries.Recovery)
	fmt.Fprintf(&b, "timeouts   %d queue, %d heartbeat, %d execution\n", s.Timeouts.Queue, s.Timeouts.Heartbeat, s.Timeouts.Execution)
	for i, r := range DetectionRows(run) {
		fmt.Fprintf(&b, "%-10s %-20s %s\n", firstOnly(i, "detection"), r.Name, quantileLine(r))
	}
	fmt.Fprintf(&b, "           false %d, during pause %d, during partition %d, missed %d\n",
		s.FalseDetections, s.PauseDetections, s.PartitionDetections, s.MissedDetections)
	fmt.Fprintf(&b, "hazards    duplicate results %d, double executions %d, stale results %d, early timeouts %d, redeliveries %d\n",
		s.DuplicateResults, s.DoubleExecutions, s.StaleResults, s.EarlyTimeouts, s.Redeliveries)
	fmt.Fprintf(&b, "answers    already claimed %d, not found %d, unavailable %d; unhealthy components %d\n",
		s.AlreadyClaimed, s.NotFound, s.Unavailable, s.UnhealthyComponents)
	if s.Live != nil {
		l := s.Live.HarnessLag
		fmt.Fprintf(&b, "harness    timer lag n=%d p50 %.2fms p99 %.2fms max %.2fms\n", l.Count, 1e3*l.P50, 1e3*l.P99, 1e3*l.Max)
		if s.Live.Warning != "" {
			fmt.Fprintf(&b, "WARNING    %s\n", s.Live.Warning)
		}
	}
	if len(s.Unknown) > 0 {
		fmt.Fprintf(&b, "unknown    %s (this run sees one side only)\n", strings.Join(s.Unknown, ", "))
	}
	for i, r := range LatencyRows(run) {
		fmt.Fprintf(&b, "%-10s %-10s %s\n", firstOnly(i, "latency"), r.Name, quantileLine(r))
	}
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
		fmt.Fprintf(&b, "codec      %.0f ns/message (encode %.0f, decode %.0f), %.0f MB/s: full encodes and decodes, 1 call in %d timed",
			s.Perf.CodecNsPerMessage, s.Perf.CodecEncodeNsPerMsg, s.Perf.CodecDecodeNsPerMsg, s.Perf.CodecMBPerSecond, s.Perf.CodecTimedEvery)
		if s.Perf.CodecReusedValues > 0 {
			fmt.Fprintf(&b, "; %d others reused the payload's bytes", s.Perf.CodecReusedValues)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "trace hash %s\n", s.TraceHash)
	if err := writeBreakdownText(&b, run); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeBreakdownText prints the per-component and per-pool table: names left-aligned,
// numbers right-aligned under their headings.
func writeBreakdownText(b *strings.Builder, run *Run) error {
	var table [][]string
	for _, g := range []struct {
		what string
		rows []BreakdownRow
	}{{"component", ComponentRows(run)}, {"pool", PoolRows(run)}} {
		for _, r := range g.rows {
			table = append(table, []string{g.what, r.Name, r.Pool, strconv.FormatInt(r.Completed, 10), strconv.FormatInt(r.Failed, 10),
				r.Timeouts(), r.P50, r.P95, r.P99})
		}
	}
	if len(table) == 0 {
		return nil
	}
	head := []string{"", "", "pool", "completed", "failed", "timeouts q/h/e", "end-to-end p50", "p95", "p99"}
	width := make([]int, len(head))
	for _, row := range append([][]string{head}, table...) {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	b.WriteString("\n")
	for _, row := range append([][]string{head}, table...) {
		line := fmt.Sprintf("%-*s %-*s  %-*s", width[0], row[0], width[1], row[1], width[2], row[2])
		for i := 3; i < len(row); i++ {
			line += fmt.Sprintf("  %*s", width[i], row[i])
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return nil
}

// firstOnly is a block's heading on its first line and blank below it.
func firstOnly(i int, heading string) string {
	if i == 0 {
		return heading
	}
	return ""
}

// quantileLine is a distribution on one line: n, min, every ReportQuantiles, max.
func quantileLine(r QuantileRow) string {
	if r.Count == 0 {
		return "none"
	}
	parts := []string{fmt.Sprintf("n=%d min %s", r.Count, r.Min)}
	for i, q := range ReportQuantiles {
		parts = append(parts, q.Name+" "+r.Quantiles[i])
	}
	return strings.Join(append(parts, "max "+r.Max), " ")
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
