package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/reportstest"
	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/latency"
)

var (
	defaultOnce sync.Once
	defaultData *reports.Run
)

// defaultRun is the built-in default scenario, simulated once for these tests.
func defaultRun(t *testing.T) *reports.Run {
	t.Helper()
	defaultOnce.Do(func() {
		cfg, res := reportstest.Simulate(t, "default", 0, nil)
		defaultData = reports.NewRun(cfg, res, "default", nil)
	})
	if defaultData == nil {
		t.Fatal("the default run failed")
	}
	return defaultData
}

// TestDetectionPlotsSeriesPerCause: default's heartbeat timeouts are some crashes and
// some false detections (the counts come from its summary: they move with the model);
// its plots must say so, not "Crash detection latency".
func TestDetectionPlotsSeriesPerCause(t *testing.T) {
	run := defaultRun(t)
	nCrash := fmt.Sprintf("n=%d,", run.Summary.Detection.SinceCrash.Count)
	nFalse := fmt.Sprintf("n=%d,", run.Summary.FalseDetections)
	figs, err := BuildPlots([]*reports.Run{run})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{PlotDetectionHistogram, PlotDetectionCDF, PlotDetectionTail} {
		f := figs[name]
		if title := f.Plot.Title.Text; !strings.HasPrefix(title, "Detection latency by cause") {
			t.Errorf("%s is titled %q", name, title)
		}
		var crash, falses int
		for _, l := range f.LegendTexts() {
			switch {
			case strings.HasPrefix(l, "crash (worker dead)") && strings.Contains(l, nCrash):
				crash++
			case strings.HasPrefix(l, "false (worker alive") && strings.Contains(l, nFalse):
				falses++
			}
		}
		if crash != 1 || falses != 1 {
			t.Errorf("%s legend %q: want one crash series of %s and one false series of %s", name, f.LegendTexts(), nCrash, nFalse)
		}
	}
	// A run whose detections are all of crashes is titled so.
	cs := reportstest.SmallRun(t)
	cs.Latency.Detection.ByCause = map[string]*reports.Distribution{"crash": &cs.Latency.Detection.SinceLastHeartbeat}
	figs, err = BuildPlots([]*reports.Run{cs})
	if err != nil {
		t.Fatal(err)
	}
	if title := figs[PlotDetectionHistogram].Plot.Title.Text; !strings.HasPrefix(title, "Crash detection latency") {
		t.Errorf("an all-crash run's histogram is titled %q", title)
	}
}

// TestLegendNumbersAreTheTexts: a legend's quantiles are the text output's, to the digit.
func TestLegendNumbersAreTheTexts(t *testing.T) {
	run := defaultRun(t)
	var b strings.Builder
	if err := reports.WriteText(&b, run); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	line := func(prefix string) string {
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, prefix) {
				return l
			}
		}
		t.Fatalf("text has no line with %q:\n%s", prefix, text)
		return ""
	}
	figs, err := BuildPlots([]*reports.Run{run})
	if err != nil {
		t.Fatal(err)
	}
	legend := strings.Join(figs[PlotDetectionCDF].LegendTexts(), "\n")
	nFalse := fmt.Sprintf("n=%d", run.Summary.FalseDetections)
	falseLine := line("false detections     " + nFalse)
	e2eLine := line("end to end n=")
	for _, q := range []string{"p50", "p99"} {
		want := fieldAfter(falseLine, q)
		if !strings.Contains(legend, nFalse+", "+q+" "+want) && !strings.Contains(legend, q+" "+want) {
			t.Errorf("detection CDF legend %q lacks the text's false-detection %s %s", legend, q, want)
		}
		e2e := strings.Join(figs[PlotEndToEndCDF].LegendTexts(), "\n")
		if want := fieldAfter(e2eLine, q); !strings.Contains(e2e, q+" "+want) {
			t.Errorf("end-to-end CDF legend %q lacks the text's %s %s", e2e, q, want)
		}
	}
	tail := strings.Join(figs[PlotEndToEndTail].LegendTexts(), "\n")
	if want := fieldAfter(e2eLine, "p99.9"); !strings.Contains(tail, "p99.9 "+want) {
		t.Errorf("end-to-end tail legend %q lacks the text's p99.9 %s", tail, want)
	}
}

// fieldAfter is the word after key in a line of "key value" pairs.
func fieldAfter(line, key string) string {
	f := strings.Fields(line)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == key {
			return f[i+1]
		}
	}
	return ""
}

// TestEmptyDetectionPlotsSayWhyWithoutLegend: no detections, no legend and no marks; the
// message alone.
func TestEmptyDetectionPlotsSayWhyWithoutLegend(t *testing.T) {
	run := reportstest.HandRun()
	run.Latency.Detection.SinceLastHeartbeat = reports.Distribution{}
	run.Latency.Detection.SinceCrash = reports.Distribution{}
	run.Latency.Detection.ByCause = nil
	figs, err := BuildPlots([]*reports.Run{run})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{PlotDetectionHistogram, PlotDetectionCDF, PlotDetectionTail} {
		if l := figs[name].LegendTexts(); len(l) != 0 {
			t.Errorf("empty %s has a legend %q", name, l)
		}
		_, svg, err := figs[name].render()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(svg, []byte(noDetections)) {
			t.Errorf("empty %s does not say why it is empty", name)
		}
		if bytes.Contains(svg, []byte("heartbeat timeout 5s")) {
			t.Errorf("empty %s draws the timeout mark across its message", name)
		}
	}
}

// TestTailPlotsReachTheRarestSample: the tail axis goes down to one step in the run's
// count (default: 4000 steps, so p99.99), with the levels labelled as percentiles.
func TestTailPlotsReachTheRarestSample(t *testing.T) {
	run := defaultRun(t)
	figs, err := BuildPlots([]*reports.Run{run})
	if err != nil {
		t.Fatal(err)
	}
	p := figs[PlotEndToEndTail].Plot
	if p.Y.Min != -4 {
		t.Errorf("end-to-end tail axis starts at 1e%g, want 1e-4 for 4000 steps", p.Y.Min)
	}
	var labels []string
	for _, tk := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, ", "); got != "0.01% (p99.99), 0.1% (p99.9), 1% (p99), 10% (p90), all" {
		t.Errorf("tail axis labels %q", got)
	}
}

// TestSeriesOnAMarkStaysVisible: a deadline detector detects exactly at the timeout, so
// its CDF is a vertical line on the timeout's mark; the series must be drawn over it.
func TestSeriesOnAMarkStaysVisible(t *testing.T) {
	run := reportstest.HandRun()
	r := latency.New()
	for range 20 {
		r.Record(5 * time.Second)
	}
	d := reports.FromRecorder(r)
	run.Info.Detector = "deadline"
	run.Latency.Detection.SinceLastHeartbeat = d
	run.Latency.Detection.SinceCrash = reports.Distribution{}
	run.Latency.Detection.ByCause = map[string]*reports.Distribution{sim.CauseCrash.String(): &d}
	figs, err := BuildPlots([]*reports.Run{run})
	if err != nil {
		t.Fatal(err)
	}
	pngData, _, err := figs[PlotDetectionCDF].render()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	// The mark's column: the one with the most mark-grey pixels. In it, the middle of the
	// plot must be the crash series' red.
	b := img.Bounds()
	best, bestN := -1, 0
	for x := b.Min.X + b.Dx()/8; x < b.Max.X; x++ { // right of the axis and its labels
		n := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			if near(img.At(x, y), markColor) {
				n++
			}
		}
		if n > bestN {
			best, bestN = x, n
		}
	}
	if best < 0 {
		t.Fatal("no timeout mark drawn")
	}
	red := 0
	for x := best - 3; x <= best+3; x++ {
		for y := b.Min.Y + b.Dy()/4; y < b.Min.Y+b.Dy()/2; y++ {
			if near(img.At(x, y), causeColors["crash"]) {
				red++
			}
		}
	}
	if red < b.Dy()/8 {
		t.Errorf("around the mark's column %d only %d pixels show the series: it is hidden under the mark", best, red)
	}
	if bestN > b.Dy()/4 {
		t.Errorf("the mark shows over %d of %d rows: the series on it should cover it", bestN, b.Dy())
	}
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { return int(a>>8)-int(w) < 40 && int(w)-int(a>>8) < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}
