package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"unicode"

	"github.com/tasksim/tasksim/reports/codecbench"
	"github.com/tasksim/tasksim/reports/safefile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// CodecBars draws a codec benchmark's ns/op as grouped bars, one group per message,
// payload and op, one bar per variant, on a log axis (the variants span four orders of
// magnitude), and saves it as PNG and SVG. An empty path skips that format.
func CodecBars(r *codecbench.Report, pngPath, svgPath string) error {
	f, err := codecFigure(r)
	if err != nil {
		return err
	}
	pngData, svgData, err := f.render()
	if err != nil {
		return fmt.Errorf("codecbench: plot: %w", err)
	}
	for _, out := range []struct {
		path string
		data []byte
	}{{pngPath, pngData}, {svgPath, svgData}} {
		if out.path == "" {
			continue
		}
		if err := safefile.WriteFile(out.path, out.data); err != nil {
			return fmt.Errorf("codecbench: save plot: %w", err)
		}
	}
	return nil
}

// Bar geometry: each group is as wide as its widest label line, so that labels of
// neighbouring groups never overlap.
const (
	codecBarWidth = 7 // points
	codecLabelPad = 8 // points between neighbouring groups' labels
)

// codecFigure builds the chart in the house style (the run plots' sans-serif font, the
// legend below the bars).
func codecFigure(r *codecbench.Report) (*Figure, error) {
	if len(r.Rows) == 0 {
		return nil, errors.New("codecbench: plot: empty report")
	}
	rows := r.Sorted()
	// A group is one message, payload and op; its bars are the variants.
	type groupKey struct {
		message string
		payload int
		op      string
	}
	var labels []string
	index := map[groupKey]int{}
	minNs := math.Inf(1)
	for _, row := range rows {
		k := groupKey{row.Message, row.PayloadBytes, row.Op}
		if _, ok := index[k]; !ok {
			index[k] = len(labels)
			label := splitCamel(row.ShortName()) + "\n"
			if row.PayloadBytes > 0 {
				label += codecbench.FormatSize(row.PayloadBytes) + " "
			}
			labels = append(labels, label+row.Op)
		}
		if row.NsPerOp > 0 {
			minNs = min(minNs, row.NsPerOp)
		}
	}
	if math.IsInf(minNs, 1) {
		return nil, errors.New("codecbench: plot: no positive ns/op")
	}
	// gonum draws bars up from 0, which a log scale cannot place; so bars show
	// log10(ns) above a base decade, and the ticks are labelled with the ns it stands for.
	base := math.Floor(math.Log10(minNs))

	p := newPlot("Codec benchmark: time per message (lower is better)", "message, payload, direction", "ns/op (log scale)")
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Marker = codecLogTicks{base: base}
	f := newFigure(p)

	var present []string
	for _, v := range codecbench.Variants {
		for _, row := range rows {
			if row.Variant == v {
				present = append(present, v)
				break
			}
		}
	}
	width := vg.Points(codecBarWidth)
	// The group pitch in data units is 1 (NominalX); in points it is the widest label
	// line or the bars, whichever is wider.
	pitch := width * vg.Length(len(present)+1)
	for _, l := range labels {
		pitch = max(pitch, p.X.Tick.Label.Width(l)+vg.Points(codecLabelPad))
	}
	for i, v := range present {
		vals := make(plotter.Values, len(labels))
		for _, row := range rows {
			if row.Variant == v && row.NsPerOp > 0 {
				vals[index[groupKey{row.Message, row.PayloadBytes, row.Op}]] = math.Log10(row.NsPerOp) - base
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("codecbench: plot %s: %w", v, err)
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
		f.add(name, bars)
	}
	p.NominalX(labels...)
	p.X.Tick.Label.Font = sansFont
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Min = 0
	p.Y.Max = math.Ceil(p.Y.Max)
	// Half a group of room at each end, so the outer groups' labels are not cut.
	p.X.Min, p.X.Max = -0.6, float64(len(labels))-0.4
	f.Width = max(pitch*vg.Length(len(labels))+1.2*vg.Inch, plotWidth)
	return f, nil
}

// splitCamel breaks a long message name before its last word, so that group labels
// stay narrow: "TaskHeartbeatRequest" becomes "TaskHeartbeat\nRequest".
func splitCamel(name string) string {
	if len(name) <= 14 {
		return name
	}
	for i := len(name) - 1; i > 0; i-- {
		if unicode.IsUpper(rune(name[i])) {
			return name[:i] + "\n" + name[i:]
		}
	}
	return name
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
