package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/tasksim/tasksim/model/codecbench"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// CodecBars draws a codec benchmark's ns/op as grouped bars, one group per message, payload and op, one bar
// per variant, on a log axis (the variants span four orders of magnitude), and saves it
// as PNG and SVG. An empty path skips that format.
func CodecBars(r *codecbench.Report, pngPath, svgPath string) error {
	if len(r.Rows) == 0 {
		return errors.New("codecbench: plot: empty report")
	}
	rows := r.Sorted()
	// A group is one message, payload and op; its bars are the variants.
	type groupKey struct {
		message string
		payload int
		op      string
	}
	type group struct {
		key   groupKey
		label string
	}
	var groups []group
	index := map[groupKey]int{}
	minNs := math.Inf(1)
	for _, row := range rows {
		k := groupKey{row.Message, row.PayloadBytes, row.Op}
		if _, ok := index[k]; !ok {
			index[k] = len(groups)
			label := row.ShortName() + "\n"
			if row.PayloadBytes > 0 {
				label += codecbench.FormatSize(row.PayloadBytes) + " "
			}
			groups = append(groups, group{k, label + row.Op})
		}
		if row.NsPerOp > 0 {
			minNs = min(minNs, row.NsPerOp)
		}
	}
	if math.IsInf(minNs, 1) {
		return errors.New("codecbench: plot: no positive ns/op")
	}
	// gonum draws bars up from 0, which a log scale cannot place; so bars show
	// log10(ns) above a base decade, and the ticks are labelled with the ns it stands for.
	base := math.Floor(math.Log10(minNs))

	p := plot.New()
	p.Title.Text = "tasksim codec benchmark: time per message (lower is better)"
	p.Y.Label.Text = "ns/op (log scale)"
	p.X.Label.Text = "message, payload, direction"
	p.Y.Tick.Marker = codecLogTicks{base: base}
	p.Legend.Top = true
	p.Legend.Left = true

	var present []string
	for _, v := range codecbench.Variants {
		for _, row := range rows {
			if row.Variant == v {
				present = append(present, v)
				break
			}
		}
	}
	const barWidth = 7 // points
	width := vg.Points(barWidth)
	for i, v := range present {
		vals := make(plotter.Values, len(groups))
		for _, row := range rows {
			if row.Variant == v && row.NsPerOp > 0 {
				vals[index[groupKey{row.Message, row.PayloadBytes, row.Op}]] = math.Log10(row.NsPerOp) - base
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return fmt.Errorf("codecbench: plot %s: %w", v, err)
		}
		bars.Color = plotutil.Color(i)
		if v == codecbench.VariantMemmove {
			// The floor in neutral grey (the palette has 7 colours and would reuse proto's).
			bars.Color = color.Gray{Y: 0x80}
		}
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(i)-float64(len(present)-1)/2)
		p.Add(bars)
		name := v
		if v == codecbench.VariantWire {
			name += " (sim path)"
		}
		p.Legend.Add(name, bars)
	}
	labels := make([]string, len(groups))
	for i, g := range groups {
		labels[i] = g.label
	}
	p.NominalX(labels...)
	p.Y.Min = 0
	p.Y.Max = math.Ceil(p.Y.Max) + 0.8 // room for the legend above the tallest bars

	w := vg.Length(len(groups))*vg.Points(barWidth)*vg.Length(len(present)+2) + 1.5*vg.Inch
	w = max(w, 8*vg.Inch)
	h := 5 * vg.Inch
	for _, out := range []string{pngPath, svgPath} {
		if out == "" {
			continue
		}
		if err := p.Save(w, h, out); err != nil {
			return fmt.Errorf("codecbench: save plot %s: %w", out, err)
		}
	}
	return nil
}

// codecLogTicks puts a tick at every decade of the log10-above-base axis, labelled in ns.
type codecLogTicks struct{ base float64 }

func (t codecLogTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for d := math.Floor(lo); d <= hi; d++ {
		ticks = append(ticks, plot.Tick{Value: d, Label: formatNs(math.Pow(10, d+t.base))})
		for m := 2.0; m < 10; m++ {
			if v := d + math.Log10(m); v <= hi {
				ticks = append(ticks, plot.Tick{Value: v}) // unlabelled minor tick
			}
		}
	}
	return ticks
}

func formatNs(ns float64) string {
	switch {
	case ns >= 1e9:
		return strconv.FormatFloat(ns/1e9, 'g', -1, 64) + "s"
	case ns >= 1e6:
		return strconv.FormatFloat(ns/1e6, 'g', -1, 64) + "ms"
	case ns >= 1e3:
		return strconv.FormatFloat(ns/1e3, 'g', -1, 64) + "µs"
	default:
		return strconv.FormatFloat(ns, 'g', -1, 64) + "ns"
	}
}
