package page

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/plots"
	"github.com/tasksim/tasksim/reports/reportstest"
)

func TestHTMLHoldsEveryExpectationAndIsSelfContained(t *testing.T) {
	for name, run := range map[string]*reports.Run{"hand": reportstest.HandRun(), "crash-storm": reportstest.SmallRun(t)} {
		t.Run(name, func(t *testing.T) {
			rendered, err := plots.RenderPlots([]*reports.Run{run})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := WriteHTML(&b, run, rendered); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			if len(run.Summary.Expectations) == 0 {
				t.Fatal("the test run has no expectations")
			}
			for _, e := range run.Summary.Expectations {
				if !strings.Contains(page, "<code>"+html.EscapeString(e.Expr)+"</code>") {
					t.Errorf("report.html lacks expectation %q", e.Expr)
				}
			}
			verdict, _, _ := verdict(&run.Summary)
			if !strings.Contains(page, ">"+verdict+"<") {
				t.Errorf("report.html lacks the verdict %s", verdict)
			}
			if n := strings.Count(page, `src="data:image/png;base64,`); n != len(plots.PlotNames) {
				t.Errorf("report.html embeds %d plots, want %d", n, len(plots.PlotNames))
			}
			// Self-contained: nothing is fetched.
			if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//|@import|url\(`).FindString(page); m != "" {
				t.Errorf("report.html fetches something: %s", m)
			}
			for _, want := range []string{run.Summary.TraceHash, "end to end", "since crash"} {
				if !strings.Contains(page, want) {
					t.Errorf("report.html lacks %q", want)
				}
			}
		})
	}
}

func TestMarkdownHoldsEveryExpectation(t *testing.T) {
	run := reportstest.HandRun()
	var b bytes.Buffer
	if err := WriteMarkdown(&b, run, []string{"in-flight.png"}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if !strings.HasPrefix(md, "## ❌ FAIL: hand, seed 7") {
		t.Errorf("report.md starts %q", strings.SplitN(md, "\n", 2)[0])
	}
	for _, e := range run.Summary.Expectations {
		if !strings.Contains(md, "`"+e.Expr+"`") {
			t.Errorf("report.md lacks expectation %q", e.Expr)
		}
	}
	if !strings.Contains(md, "| ❌ **FAIL** | `lost == 0` | 1 |") {
		t.Errorf("report.md does not mark the failed expectation:\n%s", md)
	}
	if !strings.Contains(md, "[in-flight.png](in-flight.png)") {
		t.Error("report.md does not link the plots")
	}
}

// TestPagesShowEveryQuantileComponentAndPool pins the rows both pages gained: p95 and
// p99.9 in every latency row, a row per detection cause, and a row per component and
// per pool with run.json's counts.
func TestPagesShowEveryQuantileComponentAndPool(t *testing.T) {
	cfg, res := reportstest.Simulate(t, "default", 0, nil)
	run := reports.NewRun(cfg, res, "default", nil)
	var h, md bytes.Buffer
	if err := WriteHTML(&h, run, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, run, nil); err != nil {
		t.Fatal(err)
	}
	e2e := &run.Latency.Latency.EndToEnd
	p95, p999 := reports.Seconds(e2e.Quantile(0.95)), reports.Seconds(e2e.Quantile(0.999))
	embed := run.Info.Components[0]
	pool := reports.PoolRows(run)[0]
	// The counts come from the run: they move with the model, the rows must not.
	crash, falseDet := res.Summary.Detection.SinceCrash.Count, res.Summary.FalseDetections
	for _, want := range []string{
		`<th class="num">p95</th><th class="num">p99</th><th class="num">p99.9</th>`,
		`<td class="num">` + p95 + `</td><td class="num">` + reports.Seconds(e2e.Quantile(0.99)) + `</td><td class="num">` + p999 + `</td>`,
		fmt.Sprintf("<td>crash detections</td><td class=\"num\">%d</td>", crash),
		fmt.Sprintf("<td>false detections</td><td class=\"num\">%d</td>", falseDet),
		"<td><code>/python/embed</code></td><td>python</td><td class=\"num\">1500</td>",
		"<tr><td>rust</td><td></td><td class=\"num\">2000</td>",
	} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	for _, want := range []string{
		"| latency | n | min | p50 | p90 | p95 | p99 | p99.9 | max | mean |",
		"| end to end | 4000 | " + reports.Seconds(e2e.Min) + " | ",
		" | " + p95 + " | ",
		fmt.Sprintf("| crash detections | %d |", crash),
		fmt.Sprintf("| component `/python/embed` | python | 1500 | 0 | %d/%d/%d | ", embed.QueueTimeouts, embed.HeartbeatTimeouts, embed.ExecutionTimeouts),
		fmt.Sprintf("| pool `python` |  | 2000 | 0 | %d/%d/%d | ", pool.QueueTimeouts, pool.HeartbeatTimeouts, pool.ExecutionTimeouts),
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %s", want)
		}
	}
	if embed.Success != 1500 || pool.Name != "python" {
		t.Errorf("default's /python/embed or its pool changed (%+v, %+v): update the rows above", embed, pool)
	}
}

// TestHTMLPlotsAreFullWidthAndOpenFullSize pins the layout that makes plots readable: one
// per row as wide as the page (two abreast, their text was 7 px), each a link to itself
// at full size over the page, and links to the PNG and SVG files beside the report.
func TestHTMLPlotsAreFullWidthAndOpenFullSize(t *testing.T) {
	run := reportstest.HandRun()
	rendered, err := plots.RenderPlots([]*reports.Run{run})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, run, rendered); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"figure img { display: block; width: 100%;", "figure:target { position: fixed; inset: 0;", "figure:target img { width: auto; max-width: none; }"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html's style lacks %q", want)
		}
	}
	if strings.Contains(page, "grid-template-columns: repeat(auto-fit, minmax(560px") {
		t.Error("plots are still laid out side by side")
	}
	for _, name := range plots.PlotNames {
		for _, want := range []string{`<figure id="` + name + `">`, `<a class="zoom" href="#` + name + `"`, `<a href="` + name + `.png">PNG</a>`, `<a href="` + name + `.svg">SVG</a>`} {
			if !strings.Contains(page, want) {
				t.Errorf("report.html lacks %s", want)
			}
		}
	}
}

// The description is the scenario author's text: report.md shows it as text, never as
// HTML or Markdown a job summary would render (an unclosed comment hid the rest of the
// report), and a --set holding ``` cannot close the replay block.
func TestMarkdownEscapesTheScenariosText(t *testing.T) {
	run := reportstest.HandRun()
	run.Info.Description = "Hides the rest <!-- and runs <img src=x onerror=alert(1)> **bold** [a](b)"
	run.Info.Sets = []string{"description=```"}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, run, nil); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	want := `Hides the rest &lt;\!\-\- and runs &lt;img src=x onerror=alert\(1\)&gt; \*\*bold\*\* \[a\]\(b\)`
	if !strings.Contains(md, want) {
		t.Errorf("report.md does not escape the description:\n%s", md)
	}
	if strings.Contains(md, "<!--") || strings.Contains(md, "<img") {
		t.Errorf("report.md holds raw HTML from the description:\n%s", md)
	}
	if !strings.Contains(md, "````sh\n") {
		t.Errorf("the replay block's fence is not longer than the ``` inside it:\n%s", md)
	}
}
