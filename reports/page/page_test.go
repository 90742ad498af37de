package page

import (
	"bytes"
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
