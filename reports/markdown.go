package reports

import (
	"fmt"
	"io"
	"strings"
)

// MarkdownFile is the run's report for a CI job summary.
const MarkdownFile = "report.md"

// WriteMarkdown writes report.md: the same verdict, expectations and key numbers as
// report.html, for a CI job summary (e.g. appended to $GITHUB_STEP_SUMMARY). Plots are
// linked as the PNG files beside it, since a job summary cannot hold images of its own.
func WriteMarkdown(w io.Writer, run *Run, plots []string) error {
	v := newView(run)
	var b strings.Builder
	icon := "✅"
	if !v.OK {
		icon = "❌"
	}
	fmt.Fprintf(&b, "## %s %s: %s, seed %d\n\n%s.\n\n", icon, v.Verdict, v.Scenario, v.Seed, capitalise(v.VerdictLine))
	if v.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", v.Description)
	}
	if v.Replay != "" {
		fmt.Fprintf(&b, "```sh\n%s\n```\n\n", v.Replay)
	}
	writeExpectations(&b, v.Expect)

	b.WriteString("### Key numbers\n\n| | | |\n| --- | ---: | --- |\n")
	for _, c := range v.Counts {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.Key, c.Value, mdCell(c.Note))
	}
	b.WriteString("\n| latency | n | min | p50 | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, rows := range [][]quantileRow{v.Detection, v.Latency} {
		for _, q := range rows {
			name := q.Name
			if strings.HasPrefix(name, "since") {
				name = "detection " + name
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", name, q.Count, q.Min, q.P50, q.P90, q.P99, q.Max)
		}
	}
	b.WriteString("\n| message | count | bytes |\n| --- | ---: | ---: |\n")
	for _, m := range v.Messages {
		fmt.Fprintf(&b, "| %s | %d | %s |\n", m.Type, m.Count, m.Bytes)
	}
	b.WriteString("\n")
	for _, r := range v.Run {
		fmt.Fprintf(&b, "- %s: `%s` %s\n", r.Key, r.Value, mdCell(r.Note))
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
		fmt.Fprintf(b, "| %s | `%s` | %s |\n", mark, mdCell(e.Expr), e.Observed)
	}
	b.WriteString("\n")
}

// mdCell keeps text from breaking a Markdown table row.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
