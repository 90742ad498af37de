package plots

import (
	"fmt"
	"image/color"
	"math"

	"github.com/tasksim/tasksim/reports"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// The tail plots: each CDF's complement on a log axis, so that p99, p99.9 and p99.99 get
// as much room as the body (on a linear CDF the top 1% is a hair under the line y=1).

// survival is the fraction of values at or above each bucket's value, as a staircase
// (x, log10 fraction): 1 at the min, down to the last bucket's share at the max.
func survival(d *reports.Distribution, logX bool) plotter.XYs {
	if d.Count == 0 {
		return nil
	}
	x := func(v float64) float64 {
		if logX {
			return math.Log10(math.Max(v, 1e-6))
		}
		return v
	}
	n := float64(d.Count)
	var xys plotter.XYs
	above := n // values at or above the current bucket
	prevX := x(d.Min)
	for i, b := range d.Buckets {
		v := d.BucketValue(b)
		if i == len(d.Buckets)-1 {
			v = d.Max
		}
		xys = append(xys, plotter.XY{X: prevX, Y: math.Log10(above / n)}, plotter.XY{X: x(v), Y: math.Log10(above / n)})
		prevX = x(v)
		above -= float64(b.Count)
	}
	return xys
}

// tailMin is the bottom of a tail plot's axis: a decade below one in the largest count,
// at least down to p99.
func tailMin(runs []*reports.Run, dist func(*reports.Run) []*reports.Distribution) float64 {
	lo := -2.0
	for _, r := range runs {
		for _, d := range dist(r) {
			if d.Count > 0 {
				lo = math.Min(lo, math.Floor(math.Log10(1/float64(d.Count))))
			}
		}
	}
	return lo
}

func tailLine(xys plotter.XYs, c color.RGBA) (*plotter.Line, error) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, fmt.Errorf("tail line: %w", err)
	}
	l.Color = c
	l.Width = vg.Points(1.8)
	return l, nil
}

// endToEndTail: the fraction of steps that took longer than x, both axes log.
func endToEndTail(runs []*reports.Run, labels []string) (*Figure, error) {
	p := newPlot(plotTitle("End-to-end step latency, tail", runs),
		"submission to final result (virtual seconds, log scale)", "fraction of steps at or above (log scale)")
	f := newFigure(p)
	lo, hi := math.Inf(1), 0.0
	for i, r := range runs {
		d := &r.Latency.Latency.EndToEnd
		if d.Count == 0 {
			continue
		}
		lo, hi = math.Min(lo, d.Min), math.Max(hi, d.Max)
		l, err := tailLine(survival(d, true), runColor(i))
		if err != nil {
			return nil, err
		}
		p.Add(l)
		f.add(seriesLabel(labels, i, fmt.Sprintf("p99 %s, p99.9 %s, p99.99 %s, max %s", reports.Seconds(d.Quantile(0.99)),
			reports.Seconds(d.Quantile(0.999)), reports.Seconds(d.Quantile(0.9999)), reports.Seconds(d.Max))), l)
	}
	if hi == 0 {
		p.Add(note("no step settled in this run"))
		return f, nil
	}
	p.X.Tick.Marker = logTicks{}
	p.X.Min = math.Floor(math.Log10(math.Max(lo, 1e-6)))
	p.X.Max = math.Ceil(math.Log10(hi * 1.0001))
	p.Y.Min = tailMin(runs, func(r *reports.Run) []*reports.Distribution {
		return []*reports.Distribution{&r.Latency.Latency.EndToEnd}
	})
	p.Y.Max = 0.05
	p.Y.Tick.Marker = fractionTicks{}
	return f, nil
}

// detectionTail: the fraction of detections that came later than x, per cause (one
// run) or per run (several), on a log axis, with the timeout marks.
func detectionTail(runs []*reports.Run, labels []string) (*Figure, error) {
	p := newPlot(plotTitle(detectionWhat(runs)+", tail", runs),
		"detection latency (virtual seconds)", "fraction of detections at or above (log scale)")
	f := newFigure(p)
	if anyDetections(runs) {
		addTimeoutMarks(p, runs)
	}
	hi := 0.0
	var lines []*plotter.Line
	for i, r := range runs {
		hi = math.Max(hi, 2*r.Info.HeartbeatTimeout)
		var series []causeSeries
		if len(runs) == 1 {
			series = detectionSeries(r)
		} else if d := &r.Latency.Detection.SinceLastHeartbeat; d.Count > 0 {
			series = []causeSeries{{"", d}}
		}
		for _, s := range series {
			hi = math.Max(hi, s.d.Max)
			c := seriesColor(s.cause, i)
			label := causeLabel(s.cause)
			if len(runs) > 1 {
				c, label = runColor(i), labels[i]
			}
			l, err := tailLine(survival(s.d, false), c)
			if err != nil {
				return nil, err
			}
			lines = append(lines, l)
			f.add(fmt.Sprintf("%s: n=%d, p99 %s, max %s", label, s.d.Count, reports.Seconds(s.d.Quantile(0.99)), reports.Seconds(s.d.Max)), l)
		}
	}
	underlay(p, lines)
	p.X.Min, p.X.Max = 0, math.Max(hi*1.05, 1)
	if len(f.legend) == 0 {
		p.Y.Min, p.Y.Max = 0, 1
		p.Y.Tick.Marker = noTicks{}
		p.Add(note(noDetections))
		return f, nil
	}
	p.Y.Min = tailMin(runs, func(r *reports.Run) []*reports.Distribution {
		return []*reports.Distribution{&r.Latency.Detection.SinceLastHeartbeat}
	})
	// The band above 1 (log 0) holds the marks' labels.
	p.Y.Max = 0.18 * -p.Y.Min
	p.Y.Tick.Marker = fractionTicks{}
	return f, nil
}

// fractionTicks label an axis of log10(fraction) at each decade up to 1 with the
// fraction and the percentile it marks: "1%  (p99)".
type fractionTicks struct{}

func (fractionTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Ceil(lo - 1e-9); e <= math.Min(hi, 0)+1e-9; e++ {
		ticks = append(ticks, plot.Tick{Value: e, Label: fractionLabel(e)})
		for m := 2.0; m < 10 && e < 0; m++ {
			if v := e + math.Log10(m); v <= math.Min(hi, 0) {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}

func fractionLabel(e float64) string {
	switch int(math.Round(e)) {
	case 0:
		return "all"
	case -1:
		return "10% (p90)"
	case -2:
		return "1% (p99)"
	case -3:
		return "0.1% (p99.9)"
	case -4:
		return "0.01% (p99.99)"
	}
	return fmt.Sprintf("1e%d", int(math.Round(e)))
}
