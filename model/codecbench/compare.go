package codecbench

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"
)

// DefaultThreshold is the slowdown Compare tolerates even when it is significant: 10%.
const DefaultThreshold = 0.10

// Comparison is the verdict of Compare, one Delta per row present in both reports.
type Comparison struct {
	Threshold float64
	Alpha     float64
	Deltas    []Delta
	// Unmatched lists rows present in only one report (by case name), which are not
	// compared; a case added or removed is not a regression.
	Unmatched []string
}

// Delta compares one row's samples in the baseline and the current report.
type Delta struct {
	Message      string
	PayloadBytes int
	Op           string
	Variant      string
	OldNs, NewNs float64 // medians
	Change       float64 // NewNs/OldNs - 1: +0.25 is 25% slower
	P            float64 // Mann-Whitney U test p-value
	Significant  bool    // P < Alpha: the samples differ beyond noise
	// Regression is a significant slowdown beyond the threshold on a codec row (the
	// memmove floor measures the machine, not a codec, and never fails the gate).
	Regression bool
	Warnings   []string // from benchmath, e.g. too few samples to ever be significant
}

// Failed reports whether any row regressed.
func (c Comparison) Failed() bool { return len(c.Regressions()) > 0 }

// Regressions returns the deltas that fail the gate.
func (c Comparison) Regressions() []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if d.Regression {
			out = append(out, d)
		}
	}
	return out
}

// Compare tests, row by row, whether current is slower than baseline, the way benchstat
// does: a Mann-Whitney U test over the two rows' samples (no assumption about their
// distribution) at alpha 0.05. A row regresses when the difference is significant and
// the median slowed by more than threshold (a fraction; DefaultThreshold if <= 0). A
// noisy machine widens the samples, which raises p rather than inventing a regression;
// a single slow sample cannot fail the gate on its own.
func Compare(baseline, current *Report, threshold float64) (Comparison, error) {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	thresholds := benchmath.DefaultThresholds
	c := Comparison{Threshold: threshold, Alpha: thresholds.CompareAlpha}
	if baseline == nil || current == nil {
		return c, errors.New("codecbench: compare: missing report")
	}
	for _, cur := range current.Rows {
		old := baseline.find(cur.key())
		if old == nil {
			c.Unmatched = append(c.Unmatched, "new: "+rowName(cur))
			continue
		}
		if len(old.SamplesNs) == 0 || len(cur.SamplesNs) == 0 {
			return c, fmt.Errorf("codecbench: compare %s: no samples_ns in %s report", rowName(cur),
				map[bool]string{true: "baseline", false: "current"}[len(old.SamplesNs) == 0])
		}
		oldS := benchmath.NewSample(append([]float64(nil), old.SamplesNs...), &thresholds)
		newS := benchmath.NewSample(append([]float64(nil), cur.SamplesNs...), &thresholds)
		cmp := benchmath.AssumeNothing.Compare(oldS, newS)
		oldMed := benchmath.AssumeNothing.Summary(oldS, 0.95).Center
		newMed := benchmath.AssumeNothing.Summary(newS, 0.95).Center
		d := Delta{Message: cur.Message, PayloadBytes: cur.PayloadBytes, Op: cur.Op, Variant: cur.Variant,
			OldNs: oldMed, NewNs: newMed, P: cmp.P, Significant: cmp.P < cmp.Alpha}
		if oldMed > 0 {
			d.Change = newMed/oldMed - 1
		}
		d.Regression = d.Significant && d.Change > threshold && cur.Variant != VariantMemmove
		for _, w := range cmp.Warnings {
			d.Warnings = append(d.Warnings, w.Error())
		}
		c.Deltas = append(c.Deltas, d)
	}
	for _, old := range baseline.Rows {
		if current.find(old.key()) == nil {
			c.Unmatched = append(c.Unmatched, "gone: "+rowName(old))
		}
	}
	if len(c.Deltas) == 0 {
		return c, errors.New("codecbench: compare: the reports have no case in common")
	}
	return c, nil
}

func rowName(r Row) string {
	return Case{Message: r.Message, PayloadBytes: r.PayloadBytes, Op: Op(r.Op), Variant: r.Variant}.Name()
}

// Table writes the comparison as benchstat would: old and new medians, the change, or
// "~" when the difference is not significant, with the p-value and sample counts.
func (c Comparison) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\told ns/op\tnew ns/op\tdelta\tp\t")
	for _, d := range c.Deltas {
		delta := "~"
		if d.Significant {
			delta = fmt.Sprintf("%+.1f%%", 100*d.Change)
		}
		mark := ""
		if d.Regression {
			mark = "  REGRESSION"
		}
		name := Case{Message: d.Message, PayloadBytes: d.PayloadBytes, Op: Op(d.Op), Variant: d.Variant}.Name()
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%s\tp=%.3f\t%s\n", name, d.OldNs, d.NewNs, delta, d.P, mark)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("codecbench: write comparison: %w", err)
	}
	for _, u := range c.Unmatched {
		fmt.Fprintf(w, "not compared: %s\n", u)
	}
	n := len(c.Regressions())
	verdict := "no significant slowdown"
	if n > 0 {
		verdict = fmt.Sprintf("%d significant slowdown(s)", n)
	}
	_, err := fmt.Fprintf(w, "%s beyond %.0f%% (Mann-Whitney U test, alpha %.2f)\n", verdict, 100*c.Threshold, c.Alpha)
	return err
}
