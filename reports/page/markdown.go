package page

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/plots"
	"github.com/tasksim/tasksim/reports/safefile"
)

// MarkdownFile is the run's report for a CI job summary.
const MarkdownFile = "report.md"

// WriteMarkdown writes report.md: the same verdict, expectations and key numbers as
// report.html, for a CI job summary (e.g. appended to $GITHUB_STEP_SUMMARY). Plots are
// linked as the PNG files beside it, since a job summary cannot hold images of its own.
func WriteMarkdown(w io.Writer, run *reports.Run, plots []string) error {
	v := newView(run)
	var b strings.Builder
	icon := "✅"
	if !v.OK {
		icon = "❌"
	}
	fmt.Fprintf(&b, "## %s %s: %s, seed %d\n\n%s.\n\n", icon, v.Verdict, v.Scenario, v.Seed, capitalise(v.VerdictLine))
	if v.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", markdownText(v.Description))
	}
	if v.Replay != "" {
		fence := codeFence(v.Replay)
		fmt.Fprintf(&b, "%ssh\n%s\n%s\n\n", fence, v.Replay, fence)
	}
	writeExpectations(&b, v.Expect)

	b.WriteString("### Key numbers\n\n| | | |\n| --- | ---: | --- |\n")
	for _, c := range v.Counts {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.Key, c.Value, reports.MarkdownCell(c.Note))
	}
	writeQuantileTable(&b, v)
	writeBreakdownTable(&b, v)
	b.WriteString("\n| message | count | bytes |\n| --- | ---: | ---: |\n")
	for _, m := range v.Messages {
		fmt.Fprintf(&b, "| %s | %d | %s |\n", m.Type, m.Count, m.Bytes)
	}
	b.WriteString("\n")
	for _, r := range v.Run {
		fmt.Fprintf(&b, "- %s: `%s` %s\n", r.Key, r.Value, reports.MarkdownCell(r.Note))
	}
	if len(plots) > 0 {
		b.WriteString("\n### Plots\n\n")
		for _, p := range plots {
			fmt.Fprintf(&b, "- [%s](%s)\n", p, p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeQuantileTable is the detection and latency distributions, one row each.
func writeQuantileTable(b *strings.Builder, v *view) {
	b.WriteString("\n| latency | n | min | " + strings.Join(v.Quantiles, " | ") + " | max | mean |\n| --- | ---: | ---: |" +
		strings.Repeat(" ---: |", len(v.Quantiles)) + " ---: | ---: |\n")
	for _, rows := range [][]reports.QuantileRow{v.Detection, v.Latency} {
		for _, q := range rows {
			name := q.Name
			if strings.HasPrefix(name, "since") {
				name = "detection " + name
			}
			fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s |\n", name, q.Count, q.Min, strings.Join(q.Quantiles, " | "), q.Max, q.Mean)
		}
	}
}

// writeBreakdownTable is one row per component, then one per pool.
func writeBreakdownTable(b *strings.Builder, v *view) {
	if len(v.Components) == 0 && len(v.Pools) == 0 {
		return
	}
	b.WriteString("\n| component or pool | pool | completed | failed | timeouts queue/heartbeat/execution | end-to-end p50 | p95 | p99 |\n" +
		"| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, g := range []struct {
		what string
		rows []reports.BreakdownRow
	}{{"component", v.Components}, {"pool", v.Pools}} {
		for _, r := range g.rows {
			fmt.Fprintf(b, "| %s `%s` | %s | %d | %d | %s | %s | %s | %s |\n", g.what, reports.MarkdownCell(r.Name), r.Pool, r.Completed, r.Failed, r.Timeouts(), r.P50, r.P95, r.P99)
		}
	}
}

// WriteMarkdownFile is the Reporter of report.md, linking the plots' PNG files beside it.
func WriteMarkdownFile(dir string, run *reports.Run) error {
	var pngs []string
	for _, name := range plots.PlotNames {
		pngs = append(pngs, name+".png")
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, run, pngs); err != nil {
		return err
	}
	if err := safefile.WriteFile(filepath.Join(dir, MarkdownFile), b.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", MarkdownFile, err)
	}
	return nil
}

// writeExpectations renders the expectations table shared by report.md and check's report.
func writeExpectations(b *strings.Builder, rows []expectRow) {
	if len(rows) == 0 {
		b.WriteString("The scenario states no expectations.\n\n")
		return
	}
	b.WriteString("| | expectation | observed |\n| --- | --- | ---: |\n")
	for _, e := range rows {
		mark := "✅"
		if !e.OK {
			mark = "❌ **FAIL**"
		}
		fmt.Fprintf(b, "| %s | `%s` | %s |\n", mark, reports.MarkdownCell(e.Expr), e.Observed)
	}
	b.WriteString("\n")
}

// markdownText is s as literal text in Markdown: the scenario's description is the
// user's, and a job summary renders HTML and Markdown in it (an unclosed <!-- hid the
// rest of the report, an <img onerror> ran in viewers that allow it). <, > and & become
// entities, Markdown's punctuation is backslash-escaped, and lines are joined.
func markdownText(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '(', ')', '#', '|', '!', '~', '{', '}', '+', '-', '.':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// codeFence is a backtick fence longer than any run of backticks in s, so that a --set
// value holding ``` cannot close the block early.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
