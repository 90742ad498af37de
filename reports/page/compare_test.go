package page

import (
	"bytes"
	"html"
	"strings"
	"testing"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/reportstest"
	"github.com/tasksim/tasksim/reports/sweep"
	"github.com/tasksim/tasksim/sim"
)

func TestComparePageSetsKeyNumbersSideBySide(t *testing.T) {
	a := reportstest.SmallRun(t)
	b := reportstest.HandRun()
	b.Summary.Scenario, b.Summary.Seed = a.Summary.Scenario, a.Summary.Seed
	b.Info.Detector = "deadline"
	runs := []*reports.Run{a, b}
	rows := CompareRows(runs)
	byName := map[string]CompareRow{}
	for _, r := range rows {
		if len(r.Values) != 2 {
			t.Fatalf("row %s has %d values for 2 runs", r.Name, len(r.Values))
		}
		byName[r.Name] = r
	}
	for _, c := range []struct {
		name string
		want [2]string
	}{
		{"detector", [2]string{"scan", "deadline"}},
		{"steps", [2]string{"600", "10"}},
		{"lost", [2]string{"0", "1"}},
		{"end to end p99", [2]string{reports.Seconds(a.Latency.Latency.EndToEnd.Quantile(0.99)), reports.Seconds(b.Latency.Latency.EndToEnd.Quantile(0.99))}},
		{"end to end p99.9", [2]string{reports.Seconds(a.Latency.Latency.EndToEnd.Quantile(0.999)), reports.Seconds(b.Latency.Latency.EndToEnd.Quantile(0.999))}},
		{"detections by cause", [2]string{reports.DetectionCauseCounts(a), "crash 2, false 1"}},
		{"trace hash", [2]string{a.Summary.TraceHash, "abc"}},
	} {
		r, ok := byName[c.name]
		if !ok {
			t.Errorf("no row %q", c.name)
			continue
		}
		if r.Values[0] != c.want[0] || r.Values[1] != c.want[1] || r.Differs != (c.want[0] != c.want[1]) {
			t.Errorf("row %s = %q (differs %v), want %q", c.name, r.Values, r.Differs, c.want)
		}
	}
	var page bytes.Buffer
	if err := WriteCompareHTML(&page, runs, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<tr><td>detector</td><td class="num">scan</td><td class="num differs">deadline</td></tr>`,
		`<tr><td>failed</td><td class="num">0</td><td class="num differs">1</td></tr>`,
		html.EscapeString(a.Info.Replay()),
	} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("compare.html lacks %s", want)
		}
	}
}

func TestSweepPageShowsEachPathAcrossSeeds(t *testing.T) {
	sw, err := sweep.Run(sweep.Options{Scenario: "hand", Source: "hand", SeedSpec: "1..10", Parallel: 2}, func(seed uint64) (*sim.Summary, error) {
		s := &sim.Summary{Scenario: "hand", Seed: seed, Steps: 100, Completed: 100, Messages: map[string]sim.MessageStat{}}
		for _, m := range sim.MessageTypes {
			s.Messages[m] = sim.MessageStat{Count: 1}
		}
		s.Latency.EndToEnd = sim.Quantiles{Count: 100, Min: 0.1, P50: 1, P90: 2, P99: float64(seed), Max: float64(seed) + 1}
		s.Expectations = []sim.ExpectationResult{{Expr: "latency.end_to_end.p99 <= 8s", Observed: float64(seed), OK: seed <= 8}}
		return s, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteSweepHTML(&b, sw); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		">FAIL</span> sweep hand, seeds 1..10",
		"<td class=\"num\">9</td><td><code>latency.end_to_end.p99 &lt;= 8s (observed 9s)</code></td><td><code>tasksim run hand --seed 9</code></td>",
		// p99 is the seed: 1s..10s, nearest-rank p50 5s, p90 9s.
		"<td><code>latency.end_to_end.p99</code></td><td class=\"num\">1s</td><td class=\"num\">5s</td><td class=\"num\">9s</td><td class=\"num\">10s</td><td class=\"num\">10s</td><td class=\"num\">5.5s</td><td><svg class=\"dist\"",
		// Always-zero paths are kept, listed apart with their value.
		"<tr><td><code>lost</code></td><td class=\"num\">0</td></tr>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("sweep.html lacks %s", want)
		}
	}
	// The p99 histogram has a bar for each of the ten seeds' values, spread over the bins.
	row := page[strings.Index(page, "<td><code>latency.end_to_end.p99</code>"):]
	row = row[:strings.Index(row, "</svg>")]
	if n := strings.Count(row, "<rect "); n != 10 {
		t.Errorf("the p99 histogram has %d bars, want 10 (one per distinct seed value)", n)
	}
}
