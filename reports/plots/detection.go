package plots

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/tasksim/tasksim/reports"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// causeColors tell detection causes apart: crash red, false blue, pause purple,
// partition orange, unclassified grey (in reports.DetectionCauses order).
var causeColors = map[string]color.RGBA{
	"crash":        {214, 39, 40, 255},
	"false":        {31, 119, 180, 255},
	"pause":        {148, 103, 189, 255},
	"partition":    {255, 127, 14, 255},
	"unclassified": {127, 127, 127, 255},
}

// causeSeries is one cause's detections in one run.
type causeSeries struct {
	cause string // "" for a run saved before detections were split by cause
	d     *reports.Distribution
}

// detectionSeries are a run's detections by cause, the non-empty ones in
// reports.DetectionCauses order; a run without the split gives one series of them all.
func detectionSeries(r *reports.Run) []causeSeries {
	byCause := r.Latency.Detection.ByCause
	if len(byCause) == 0 {
		if d := &r.Latency.Detection.SinceLastHeartbeat; d.Count > 0 {
			return []causeSeries{{"", d}}
		}
		return nil
	}
	var out []causeSeries
	for _, c := range reports.DetectionCauses() {
		if d := byCause[c]; d != nil && d.Count > 0 {
			out = append(out, causeSeries{c, d})
		}
	}
	return out
}

// detectionWhat names the detections of runs by their causes: "Crash detection latency"
// only when every detection was of a crash.
func detectionWhat(runs []*reports.Run) string {
	causes := map[string]bool{}
	for _, r := range runs {
		for _, s := range detectionSeries(r) {
			causes[s.cause] = true
		}
	}
	if len(causes) == 1 {
		for c := range causes {
			if c != "" && c != "unclassified" {
				return strings.ToUpper(c[:1]) + c[1:] + " detection latency"
			}
		}
	}
	if len(causes) > 1 && !causes[""] {
		return "Detection latency by cause"
	}
	return "Heartbeat-timeout detection latency"
}

// causeLabel is a cause as a legend names it.
func causeLabel(cause string) string {
	switch cause {
	case "":
		return "all detections"
	case "false":
		return "false (worker alive, heartbeats lost or late)"
	case "crash":
		return "crash (worker dead)"
	case "pause":
		return "pause (worker paused)"
	case "partition":
		return "partition (worker cut off)"
	}
	return cause
}

// quantileText is "n=45, p50 6.149s, p99 9.961s": the same numbers as the text and the
// pages, from the same Distribution.Quantile.
func quantileText(d *reports.Distribution) string {
	return fmt.Sprintf("n=%d, p50 %s, p99 %s", d.Count, reports.Seconds(d.Quantile(0.5)), reports.Seconds(d.Quantile(0.99)))
}

const noDetections = "no task was failed by the heartbeat timer in this run"

// detectionHistogram: how long after the last heartbeat each detection came. One run's
// causes are stacked, each in its colour; several runs are overlaid, one series each.
func detectionHistogram(runs []*reports.Run, labels []string) (*Figure, error) {
	p := newPlot(plotTitle(detectionWhat(runs), runs),
		"time from the last heartbeat to the task's failure (virtual seconds)", "tasks failed by the heartbeat timer")
	f := newFigure(p)
	hi := 0.0
	for _, r := range runs {
		hi = math.Max(hi, math.Max(r.Latency.Detection.SinceLastHeartbeat.Max, 2*r.Info.HeartbeatTimeout))
	}
	if hi == 0 {
		hi = 10
	}
	width := niceStep(hi / 60)
	nbins := int(math.Ceil(hi*1.05/width)) + 1
	bin := func(d *reports.Distribution, into []float64) {
		for _, b := range d.Buckets {
			into[min(int(d.BucketValue(b)/width), nbins-1)] += float64(b.Count)
		}
	}
	histogram := func(weights []float64, c color.RGBA, alpha uint8) *plotter.Histogram {
		// Empty bins are left out: drawn, they lay a line along the axis.
		var bins []plotter.HistogramBin
		for j, w := range weights {
			if w > 0 {
				bins = append(bins, plotter.HistogramBin{Min: float64(j) * width, Max: float64(j+1) * width, Weight: w})
			}
		}
		h := &plotter.Histogram{Bins: bins, Width: width, FillColor: withAlpha(c, alpha), LineStyle: plotter.DefaultLineStyle}
		h.LineStyle.Color = c
		h.LineStyle.Width = vg.Points(0.6)
		return h
	}
	top := 0.0
	if anyDetections(runs) {
		addTimeoutMarks(p, runs) // under the bars, so that bars on a mark stay visible
	}
	if len(runs) == 1 {
		series := detectionSeries(runs[0])
		// Stacked: cause k is drawn as the sum of causes 0..k, last first, so each shows
		// as its own band on top of the ones before it.
		stacks := make([][]float64, len(series))
		for k := range series {
			stacks[k] = make([]float64, nbins)
			if k > 0 {
				copy(stacks[k], stacks[k-1])
			}
			bin(series[k].d, stacks[k])
		}
		for k := len(series) - 1; k >= 0; k-- {
			h := histogram(stacks[k], seriesColor(series[k].cause, 0), 200)
			p.Add(h)
			for _, w := range stacks[k] {
				top = math.Max(top, w)
			}
		}
		for k, s := range series {
			h := histogram(stacks[k], seriesColor(s.cause, 0), 200)
			f.add(fmt.Sprintf("%s: %s", causeLabel(s.cause), quantileText(s.d)), h)
		}
	} else {
		for i, r := range runs {
			d := &r.Latency.Detection.SinceLastHeartbeat
			if d.Count == 0 {
				continue
			}
			weights := make([]float64, nbins)
			bin(d, weights)
			for _, w := range weights {
				top = math.Max(top, w)
			}
			h := histogram(weights, runColor(i), 90)
			p.Add(h)
			what := quantileText(d)
			if causes := reports.DetectionCauseCounts(r); causes != "" {
				what = fmt.Sprintf("%s (%s)", what, causes)
			}
			f.add(seriesLabel(labels, i, what), h)
		}
	}
	p.X.Min, p.X.Max = 0, float64(nbins)*width
	p.Y.Min = 0
	if top == 0 {
		p.Y.Max = 1
		p.Y.Tick.Marker = noTicks{}
		p.Add(note(noDetections))
		return f, nil
	}
	// Head room above the tallest bar for the marks' labels; ticks stop at the data.
	p.Y.Max = top * 1.22
	p.Y.Tick.Marker = cappedTicks{max: top}
	return f, nil
}

// detectionCDF: the distribution of detection latency since the last heartbeat, one line
// per cause (one run) or per run (several), and since the crash, dashed.
func detectionCDF(runs []*reports.Run, labels []string) (*Figure, error) {
	p := newPlot(plotTitle(detectionWhat(runs)+", CDF", runs),
		"detection latency (virtual seconds)", "fraction of detections at or below")
	f := newFigure(p)
	if anyDetections(runs) {
		addTimeoutMarks(p, runs)
	}
	hi := 0.0
	var lines []*plotter.Line
	add := func(d *reports.Distribution, c color.RGBA, dashed bool, label string) error {
		hi = math.Max(hi, d.Max)
		l, err := cdfLine(d, c)
		if err != nil {
			return err
		}
		if dashed {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		lines = append(lines, l)
		f.add(label, l)
		return nil
	}
	for i, r := range runs {
		hi = math.Max(hi, 2*r.Info.HeartbeatTimeout)
		if len(runs) == 1 {
			for _, s := range detectionSeries(r) {
				if err := add(s.d, seriesColor(s.cause, i), false, fmt.Sprintf("%s, since last heartbeat: %s", causeLabel(s.cause), quantileText(s.d))); err != nil {
					return nil, err
				}
			}
		} else if d := &r.Latency.Detection.SinceLastHeartbeat; d.Count > 0 {
			what := "since last heartbeat: " + quantileText(d)
			if causes := reports.DetectionCauseCounts(r); causes != "" {
				what += " (" + causes + ")"
			}
			if err := add(d, runColor(i), false, seriesLabel(labels, i, what)); err != nil {
				return nil, err
			}
		}
		if d := &r.Latency.Detection.SinceCrash; d.Count > 0 {
			c := seriesColor("crash", 0)
			if len(runs) > 1 {
				c = runColor(i)
			}
			if err := add(d, c, true, seriesLabel(labels, i, "crash, since the crash: "+quantileText(d))); err != nil {
				return nil, err
			}
		}
	}
	underlay(p, lines)
	p.X.Min, p.X.Max = 0, math.Max(hi*1.05, 1)
	p.Y.Min = 0
	if len(f.legend) == 0 {
		p.Y.Max = 1
		p.Add(note(noDetections))
		return f, nil
	}
	p.Y.Max = 1.2 // the band above 1 holds the marks' labels
	p.Y.Tick.Marker = cappedTicks{max: 1}
	return f, nil
}

// underlay adds lines so that where one lies on another (two detectors' detections
// exactly at the timeout) both stay visible: solid lines first, the earlier ones wider so
// they show on both sides of a later one, then dashed lines over them, whose gaps let
// the line beneath show through.
func underlay(p *plot.Plot, lines []*plotter.Line) {
	var solid, dashed []*plotter.Line
	for _, l := range lines {
		if len(l.Dashes) > 0 {
			dashed = append(dashed, l)
		} else {
			solid = append(solid, l)
		}
	}
	for i, l := range solid {
		l.Width = vg.Points(math.Min(1.6+1.0*float64(len(solid)-1-i), 3.6))
		p.Add(l)
	}
	for _, l := range dashed {
		l.Width = vg.Points(1.6)
		p.Add(l)
	}
}

// anyDetections reports whether any run has a heartbeat-timeout detection: an empty
// plot says so and draws no marks (they would cross the message).
func anyDetections(runs []*reports.Run) bool {
	for _, r := range runs {
		if r.Latency.Detection.SinceLastHeartbeat.Count > 0 || r.Latency.Detection.SinceCrash.Count > 0 {
			return true
		}
	}
	return false
}

// seriesColor is a cause's colour; a run saved without causes takes its run colour.
func seriesColor(cause string, run int) color.RGBA {
	if c, ok := causeColors[cause]; ok {
		return c
	}
	return runColor(run)
}
