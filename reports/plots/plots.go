package plots

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/safefile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The plots of a run (or of several runs overlaid), each written as NAME.png and NAME.svg.
const (
	PlotDetectionHistogram = "detection-histogram"
	PlotDetectionCDF       = "detection-cdf"
	PlotDetectionTail      = "detection-tail"
	PlotEndToEndCDF        = "end-to-end-cdf"
	PlotEndToEndTail       = "end-to-end-tail"
	PlotInFlight           = "in-flight"
	PlotThroughput         = "throughput"
)

// PlotNames lists the plots in the order reports show them: each tail plot (the log
// complementary CDF) right after its linear CDF.
var PlotNames = []string{PlotInFlight, PlotThroughput, PlotDetectionHistogram, PlotDetectionCDF, PlotDetectionTail,
	PlotEndToEndCDF, PlotEndToEndTail}

// Plot size, and the PNG resolution: 150 dpi is sharp on a laptop screen and in a page.
const (
	plotWidth  = 8 * vg.Inch
	plotHeight = 4.5 * vg.Inch
	pngDPI     = 150
)

// runColors tell runs apart in overlays (Tableau 10: distinct, and readable in grey).
var runColors = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

var (
	// Marks are dark grey and drawn under the data: red marks hid a series that lay on
	// them (the deadline detector's line under the 5s mark) and read as crash red.
	markColor  = color.RGBA{70, 70, 70, 255}
	faultColor = color.RGBA{230, 85, 13, 255}
	sansFont   = font.Font{Typeface: "Liberation", Variant: "Sans"}
)

func runColor(i int) color.RGBA { return runColors[i%len(runColors)] }

func withAlpha(c color.RGBA, a uint8) color.NRGBA { return color.NRGBA{c.R, c.G, c.B, a} }

// BuildPlots draws every plot for runs: one run, or several overlaid with a legend by run.
func BuildPlots(runs []*reports.Run) (map[string]*Figure, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("no runs to plot")
	}
	labels := RunLabels(runs)
	out := map[string]*Figure{}
	for _, b := range []struct {
		name  string
		build func([]*reports.Run, []string) (*Figure, error)
	}{
		{PlotDetectionHistogram, detectionHistogram},
		{PlotDetectionCDF, detectionCDF},
		{PlotDetectionTail, detectionTail},
		{PlotEndToEndCDF, endToEndCDF},
		{PlotEndToEndTail, endToEndTail},
		{PlotInFlight, inFlight},
		{PlotThroughput, throughput},
	} {
		p, err := b.build(runs, labels)
		if err != nil {
			return nil, fmt.Errorf("plot %s: %w", b.name, err)
		}
		out[b.name] = p
	}
	return out, nil
}

// RenderedPlot is one plot encoded both ways.
type RenderedPlot struct{ PNG, SVG []byte }

// RenderPlots draws every plot for runs and encodes each as PNG and SVG.
func RenderPlots(runs []*reports.Run) (map[string]RenderedPlot, error) {
	plots, err := BuildPlots(runs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]RenderedPlot, len(plots))
	for name, p := range plots {
		png, svg, err := p.render()
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", name, err)
		}
		out[name] = RenderedPlot{PNG: png, SVG: svg}
	}
	return out, nil
}

// WritePlots draws every plot for runs into dir as NAME.png and NAME.svg and returns the
// files written.
func WritePlots(dir string, runs []*reports.Run) ([]string, error) {
	plots, err := RenderPlots(runs)
	if err != nil {
		return nil, err
	}
	return WritePlotFiles(dir, plots)
}

// WriteRunPlots is the Reporter of a run's plots: NAME.png and NAME.svg in its out
// directory for each of PlotNames.
func WriteRunPlots(dir string, run *reports.Run) error {
	_, err := WritePlots(dir, []*reports.Run{run})
	return err
}

// WritePlotFiles writes rendered plots into dir and returns the files written.
func WritePlotFiles(dir string, plots map[string]RenderedPlot) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create plot directory: %w", err)
	}
	var files []string
	for _, name := range PlotNames {
		r, ok := plots[name]
		if !ok {
			continue
		}
		for _, f := range []struct {
			ext  string
			data []byte
		}{{".png", r.PNG}, {".svg", r.SVG}} {
			path := filepath.Join(dir, name+f.ext)
			if err := safefile.WriteFile(path, f.data); err != nil {
				return nil, fmt.Errorf("write plot: %w", err)
			}
			files = append(files, path)
		}
	}
	return files, nil
}

// newPlot makes a plot in the house style: sans-serif, a grid; the legend goes below
// (Figure).
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	for _, ts := range []*draw.TextStyle{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		size := ts.Font.Size
		ts.Font = sansFont
		ts.Font.Size = size
	}
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{225}
	grid.Horizontal.Color = color.Gray{225}
	p.Add(grid)
	return p
}

// Title names what a plot shows and which scenario and seed it is of.
func plotTitle(what string, runs []*reports.Run) string {
	return what + " — " + runsName(runs)
}

// runsName is "crash-storm, seed 1", "crash-storm, seeds 1, 2, 3" or "a seed 1 vs b seed 2".
func runsName(runs []*reports.Run) string {
	scen := map[string]bool{}
	var seeds []string
	seen := map[uint64]bool{}
	for _, r := range runs {
		scen[r.Summary.Scenario] = true
		if !seen[r.Summary.Seed] {
			seen[r.Summary.Seed] = true
			seeds = append(seeds, strconv.FormatUint(r.Summary.Seed, 10))
		}
	}
	if len(scen) == 1 {
		word := "seed"
		if len(seeds) > 1 {
			word = "seeds"
		}
		return fmt.Sprintf("%s, %s %s", runs[0].Summary.Scenario, word, strings.Join(seeds, ", "))
	}
	var names []string
	for _, r := range runs {
		names = append(names, fmt.Sprintf("%s seed %d", r.Summary.Scenario, r.Summary.Seed))
	}
	return strings.Join(names, " vs ")
}

// RunLabels names each run in a legend by what sets it apart from the others: scenario,
// seed, detector, --set overrides; parts all runs share are left out.
func RunLabels(runs []*reports.Run) []string {
	parts := make([][]string, len(runs))
	for i, r := range runs {
		parts[i] = []string{r.Summary.Scenario, "seed " + strconv.FormatUint(r.Summary.Seed, 10), "detector " + r.Info.Detector}
		parts[i] = append(parts[i], r.Info.Sets...)
		if r.Summary.Mode != "" {
			// A live run beside a simulation of the same file: the mode tells them apart.
			parts[i] = append(parts[i], r.Summary.Mode)
		}
	}
	labels := make([]string, len(runs))
	if len(runs) == 1 {
		labels[0] = strings.Join(parts[0][:2], " ")
		return labels
	}
	for i := range runs {
		var keep []string
		for _, part := range parts[i] {
			shared := true
			for j := range runs {
				if !contains(parts[j], part) {
					shared = false
					break
				}
			}
			// A --set of the detector says the same as the detector part; show it once.
			if !shared && !(strings.HasPrefix(part, "orchestrator.detector=") && contains(keep, "detector "+runs[i].Info.Detector)) {
				keep = append(keep, part)
			}
		}
		labels[i] = strings.Join(keep, ", ")
		if labels[i] == "" {
			labels[i] = runs[i].Dir
		}
		if labels[i] == "" {
			labels[i] = "run " + strconv.Itoa(i+1)
		}
	}
	return labels
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// endToEndCDF: steps' end-to-end latency on a log axis, which shows the body and the tail.
// The data is plotted as log10(seconds) on a linear axis with tick labels in seconds:
// gonum's LogScale centres the axis label at the arithmetic midpoint and squeezes the plot.
func endToEndCDF(runs []*reports.Run, labels []string) (*Figure, error) {
	p := newPlot(plotTitle("End-to-end step latency, CDF", runs),
		"submission to final result (virtual seconds, log scale)", "fraction of steps at or below")
	f := newFigure(p)
	for _, q := range []float64{0.5, 0.99} {
		p.Add(&hline{y: q, text: fmt.Sprintf("p%g", q*100), color: color.Gray{150}})
	}
	lo, hi := math.Inf(1), 0.0
	for i, r := range runs {
		d := &r.Latency.Latency.EndToEnd
		if d.Count == 0 {
			continue
		}
		lo, hi = math.Min(lo, d.Min), math.Max(hi, d.Max)
		l, err := cdfLine(d, runColor(i))
		if err != nil {
			return nil, err
		}
		for j := range l.XYs {
			l.XYs[j].X = math.Log10(math.Max(l.XYs[j].X, 1e-6))
		}
		p.Add(l)
		f.add(seriesLabel(labels, i, fmt.Sprintf("n=%d, p50 %s, p99 %s, max %s", d.Count, reports.Seconds(d.Quantile(0.5)), reports.Seconds(d.Quantile(0.99)), reports.Seconds(d.Max))), l)
	}
	if hi == 0 {
		p.Add(note("no step settled in this run"))
		return f, nil
	}
	// Whole decades around the data, so that ticks land on 1, 10, 100.
	p.X.Tick.Marker = logTicks{}
	p.X.Min = math.Floor(math.Log10(math.Max(lo, 1e-6)))
	p.X.Max = math.Ceil(math.Log10(hi * 1.0001))
	p.Y.Min, p.Y.Max = 0, 1.02
	return f, nil
}

// inFlight: steps in flight over virtual time, with each fault window shaded and named.
func inFlight(runs []*reports.Run, labels []string) (*Figure, error) {
	p := newPlot(plotTitle("Steps in flight", runs), "virtual time (s)", "steps submitted, not yet settled")
	f := newFigure(p)
	for i, r := range runs {
		tl := &r.Timeline
		xys := make(plotter.XYs, len(tl.InFlight))
		for j, v := range tl.InFlight {
			xys[j] = plotter.XY{X: float64(j) * tl.BucketSeconds, Y: float64(v)}
		}
		if err := addSeries(f, xys, i, labels[i], len(runs)); err != nil {
			return nil, err
		}
	}
	finishTimePlot(p, runs)
	return f, nil
}

// throughput: steps settled per virtual second.
func throughput(runs []*reports.Run, labels []string) (*Figure, error) {
	p := newPlot(plotTitle("Throughput", runs), "virtual time (s)", "steps settled per second")
	f := newFigure(p)
	for i, r := range runs {
		tl := &r.Timeline
		xys := make(plotter.XYs, 0, len(tl.Settled)+1)
		for j, v := range tl.Settled {
			// A step line: the rate holds across the bucket it was counted in.
			xys = append(xys, plotter.XY{X: float64(j) * tl.BucketSeconds, Y: float64(v) / tl.BucketSeconds})
		}
		if n := len(tl.Settled); n > 0 {
			xys = append(xys, plotter.XY{X: float64(n) * tl.BucketSeconds, Y: xys[n-1].Y})
		}
		if err := addSeries(f, xys, i, labels[i], len(runs)); err != nil {
			return nil, err
		}
	}
	finishTimePlot(p, runs)
	return f, nil
}

// addSeries adds one run's line over time, as steps (samples hold for their bucket).
func addSeries(f *Figure, xys plotter.XYs, i int, label string, n int) error {
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("line for %s: %w", label, err)
	}
	l.StepStyle = plotter.PostStep
	l.Color = runColor(i)
	// Earlier runs are drawn wider, so that where runs coincide (before the first fault
	// they often do) each still shows.
	l.Width = vg.Points(1.2 + 1.2*float64(n-1-i))
	f.Plot.Add(l)
	if n > 1 {
		f.add(label, l)
	}
	return nil
}

// finishTimePlot sets the axes of a plot over virtual time and shades the fault windows.
func finishTimePlot(p *plot.Plot, runs []*reports.Run) {
	end := 0.0
	for _, r := range runs {
		end = math.Max(end, float64(len(r.Timeline.InFlight))*r.Timeline.BucketSeconds)
		end = math.Max(end, r.Summary.VirtualDuration)
	}
	p.X.Min, p.X.Max = 0, math.Max(end, 1)
	p.Y.Min = 0
	if p.Y.Max < 1 {
		p.Y.Max = 1
	}
	// Head room for the fault labels above the data.
	p.Y.Max *= 1.18
	p.Add(&faultBands{windows: faultWindows(runs)})
}

// faultWindow is a fault to shade, with its label.
type faultWindow struct {
	kind       string
	start, end float64
}

// faultWindows are the runs' fault windows, each once, in start order.
func faultWindows(runs []*reports.Run) []faultWindow {
	var out []faultWindow
	seen := map[faultWindow]bool{}
	for _, r := range runs {
		for _, f := range r.Timeline.Faults {
			w := faultWindow{kind: strings.ReplaceAll(f.Kind, "_", " "), start: f.Start, end: f.End}
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// cdfLine draws a distribution's CDF as a step line.
func cdfLine(d *reports.Distribution, c color.RGBA) (*plotter.Line, error) {
	xs, ys := d.CDF()
	xys := make(plotter.XYs, len(xs))
	for i := range xs {
		xys[i] = plotter.XY{X: xs[i], Y: ys[i]}
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, fmt.Errorf("CDF line: %w", err)
	}
	l.StepStyle = plotter.PostStep
	l.Color = c
	l.Width = vg.Points(1.5)
	return l, nil
}

// addTimeoutMarks draws the heartbeat timeout, and for the scan detector twice it (the
// latest a scan can notice), as labelled vertical lines. Call it before adding the data,
// so that a series lying on a mark is drawn over it.
func addTimeoutMarks(p *plot.Plot, runs []*reports.Run) {
	seen := map[float64]bool{}
	m := &marks{}
	for _, r := range runs {
		t := r.Info.HeartbeatTimeout
		if t <= 0 {
			continue
		}
		if !seen[t] {
			seen[t] = true
			m.lines = append(m.lines, vline{x: t, text: "heartbeat timeout " + reports.Seconds(t), color: markColor})
		}
		if r.Info.Detector == model.DetectorScan.String() && !seen[2*t] {
			seen[2*t] = true
			m.lines = append(m.lines, vline{x: 2 * t, text: "scan bound 2×timeout " + reports.Seconds(2*t), color: markColor, dashed: true})
		}
	}
	sort.Slice(m.lines, func(i, j int) bool { return m.lines[i].x < m.lines[j].x })
	p.Add(m)
}

// seriesLabel is a legend entry: what it shows, prefixed by the run when there are several.
func seriesLabel(labels []string, i int, what string) string {
	if len(labels) == 1 {
		return what
	}
	return labels[i] + ": " + what
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// vline is a labelled vertical line across the whole plot area.
type vline struct {
	x      float64
	text   string
	color  color.Color
	dashed bool
}

// marks draws vertical lines with their labels written level in the band at the top of
// the plot, which the plots keep free of data, so that no line crosses a label; labels
// that would overlap go a row lower.
type marks struct{ lines []vline }

func (m *marks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	var rowEnds []vg.Length
	for _, v := range m.lines {
		x := trX(v.x)
		if x < c.Min.X || x > c.Max.X {
			continue
		}
		ls := draw.LineStyle{Color: v.color, Width: vg.Points(1)}
		if v.dashed {
			ls.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		c.StrokeLine2(ls, x, c.Min.Y, x, c.Max.Y)
		ts := labelStyle(v.color)
		ts.YAlign = draw.YTop
		w := ts.Width(v.text)
		// Right of the line, or left of it where the plot ends first.
		x0 := x + vg.Points(3)
		if x0+w > c.Max.X {
			x0 = x - vg.Points(3) - w
		}
		row := 0
		for row < len(rowEnds) && rowEnds[row] > x0 {
			row++
		}
		if row == len(rowEnds) {
			rowEnds = append(rowEnds, 0)
		}
		rowEnds[row] = x0 + w + vg.Points(6)
		c.FillText(ts, vg.Point{X: x0, Y: c.Max.Y - vg.Points(3) - vg.Length(row)*ts.Height(v.text)}, v.text)
	}
}

// hline is a labelled horizontal guide (a quantile level on a CDF).
type hline struct {
	y     float64
	text  string
	color color.Color
}

func (h *hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(h.y)
	c.StrokeLine2(draw.LineStyle{Color: h.color, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}, c.Min.X, y, c.Max.X, y)
	ts := labelStyle(h.color)
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YBottom
	c.FillText(ts, vg.Point{X: c.Min.X + vg.Points(3), Y: y + vg.Points(1)}, h.text)
}

// faultBands shades each fault window over the whole height and names it at the top;
// a fault without duration (a crash) is a line. Labels that would collide go a row lower.
type faultBands struct{ windows []faultWindow }

func (f *faultBands) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	ts := labelStyle(faultColor)
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YTop
	var rowEnds []vg.Length
	for _, w := range f.windows {
		x0, x1 := trX(w.start), trX(w.end)
		if x1 < c.Min.X || x0 > c.Max.X {
			continue
		}
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1-x0 >= vg.Points(1) {
			c.FillPolygon(withAlpha(faultColor, 40), []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
		} else {
			c.StrokeLine2(draw.LineStyle{Color: withAlpha(faultColor, 200), Width: vg.Points(1), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}, x0, c.Min.Y, x0, c.Max.Y)
		}
		width := ts.Width(w.kind)
		row := 0
		for row < len(rowEnds) && rowEnds[row] > x0 {
			row++
		}
		if row == len(rowEnds) {
			rowEnds = append(rowEnds, 0)
		}
		rowEnds[row] = x0 + width + vg.Points(6)
		c.FillText(ts, vg.Point{X: x0 + vg.Points(2), Y: c.Max.Y - vg.Points(3) - vg.Length(row)*ts.Height(w.kind)}, w.kind)
	}
}

// note is a centred message on an empty plot, so that "nothing happened" is said, not
// left to a blank area.
func note(text string) *noteText { return &noteText{text: text} }

type noteText struct{ text string }

func (n *noteText) Plot(c draw.Canvas, _ *plot.Plot) {
	ts := labelStyle(color.Gray{90})
	ts.Font.Size = vg.Points(11)
	ts.XAlign, ts.YAlign = draw.XCenter, draw.YCenter
	c.FillText(ts, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: (c.Min.Y + c.Max.Y) / 2}, n.text)
}

func labelStyle(col color.Color) draw.TextStyle {
	f := sansFont
	f.Size = vg.Points(8.5)
	return draw.TextStyle{Color: col, Font: f, Handler: plot.DefaultTextHandler}
}

// logTicks marks an axis that holds log10(seconds): whole decades and the steps between
// them, labelled in seconds (1, 2 and 5 times a power of ten), not as exponents.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
		for m := 1.0; m < 10; m++ {
			v := math.Log10(m) + e
			if v < lo-1e-9 || v > hi+1e-9 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = reports.Seconds(m * math.Pow(10, e))
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// plainTicks are gonum's default ticks labelled without trailing zeros (75, not 75.00).
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			// Round away float noise (0.30000000000000004) before printing in full.
			v, _ := strconv.ParseFloat(strconv.FormatFloat(ticks[i].Value, 'g', 10, 64), 64)
			ticks[i].Label = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ticks
}

// cappedTicks are plainTicks that stop at max: above it is the band for labels.
type cappedTicks struct{ max float64 }

func (t cappedTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, tk := range (plainTicks{}).Ticks(lo, t.max) {
		if tk.Value <= t.max+1e-9 {
			out = append(out, tk)
		}
	}
	return out
}

// noTicks leaves an axis without ticks (a plot that only says it is empty).
type noTicks struct{}

func (noTicks) Ticks(_, _ float64) []plot.Tick { return nil }
