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
	Threshold float64 `json:"threshold"`
	Alpha     float64 `json:"alpha"`
	Deltas    []Delta `json:"deltas"`
	// Unmatched lists rows present in only one report (by case name), which are not
	// compared; a case added or removed is not a regression.
	Unmatched []string `json:"unmatched,omitempty"`
}

// Delta compares one row's samples in the baseline and the current report.
type Delta struct {
	Message      string  `json:"message"`
	PayloadBytes int     `json:"payload_bytes"`
	Op           string  `json:"op"`
	Variant      string  `json:"variant"`
	OldNs        float64 `json:"old_ns"` // medians of ns/op
	NewNs        float64 `json:"new_ns"`
	// VsRef says the row was judged by its time relative to its reference variant
	// (Row.Reference), sample by sample (the reference is timed in chunks between the
	// row's), rather than by its ns/op: a machine that is slower or busier now than when
	// the baseline was made slows the reference too.
	VsRef bool `json:"vs_reference"`
	// OldRatio, NewRatio are the medians of those ratios; zero when not VsRef.
	OldRatio    float64 `json:"old_ratio,omitempty"`
	NewRatio    float64 `json:"new_ratio,omitempty"`
	Change      float64 `json:"change"`      // of the judged figure: +0.25 is 25% slower
	P           float64 `json:"p"`           // Mann-Whitney U test p-value
	Significant bool    `json:"significant"` // P < Alpha: the samples differ beyond noise
	// Regression is a significant slowdown beyond the threshold on a codec row (the
	// memmove floor measures the machine, not a codec, and never fails the gate).
	Regression bool     `json:"regression"`
	Warnings   []string `json:"warnings,omitempty"` // from benchmath, e.g. too few samples to ever be significant
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

// Compare tests, row by row, whether current is slower than baseline. Each row is judged
// by its cost relative to its reference variant, sample by sample (the reference codec
// on the same message, payload and direction, timed in chunks between the row's; see
// Run), so that a machine that is slower or busier than when the baseline was made does
// not read as a slower codec. The
// ratios are compared the way benchstat compares samples: a Mann-Whitney U test (no
// assumption about their distribution) at alpha 0.05. A row regresses when the
// difference is significant and the median slowed by more than threshold (a fraction;
// DefaultThreshold if <= 0); a single slow sample cannot fail the gate on its own. Rows
// without a reference are judged by their ns/op; the memmove floor measures the machine,
// not a codec, and never fails the gate.
func Compare(baseline, current *Report, threshold float64) (Comparison, error) {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	thresholds := benchmath.DefaultThresholds
	c := Comparison{Threshold: threshold, Alpha: thresholds.CompareAlpha}
	if baseline == nil || current == nil {
		return c, errors.New("codecbench: compare: missing report")
	}
	if baseline.Method != current.Method {
		return c, fmt.Errorf("codecbench: compare: the baseline was measured by method %q, this run by %q: record the baseline again with this tasksim", baseline.methodName(), current.methodName())
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
		d := Delta{Message: cur.Message, PayloadBytes: cur.PayloadBytes, Op: cur.Op, Variant: cur.Variant,
			OldNs: median(old.SamplesNs), NewNs: median(cur.SamplesNs)}
		oldX, newX := old.SamplesNs, cur.SamplesNs
		if o, n := relative(old), relative(&cur); o != nil && n != nil && old.Reference == cur.Reference {
			oldX, newX, d.VsRef = o, n, true
			d.OldRatio, d.NewRatio = median(o), median(n)
		}
		oldS := benchmath.NewSample(append([]float64(nil), oldX...), &thresholds)
		newS := benchmath.NewSample(append([]float64(nil), newX...), &thresholds)
		cmp := benchmath.AssumeNothing.Compare(oldS, newS)
		d.P, d.Significant = cmp.P, cmp.P < cmp.Alpha
		if om := median(oldX); om > 0 {
			d.Change = median(newX)/om - 1
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

// relative is the row's samples divided by its reference's, sample by sample; nil when
// the row has no reference samples.
func relative(row *Row) []float64 {
	if len(row.RefSamplesNs) != len(row.SamplesNs) || len(row.SamplesNs) == 0 {
		return nil
	}
	out := make([]float64, len(row.SamplesNs))
	for i, ns := range row.SamplesNs {
		if row.RefSamplesNs[i] <= 0 {
			return nil
		}
		out[i] = ns / row.RefSamplesNs[i]
	}
	return out
}

func (r *Report) methodName() string {
	if r.Method == "" {
		return "whole samples (an older tasksim)"
	}
	return r.Method
}

func rowName(r Row) string {
	return Case{Message: r.Message, PayloadBytes: r.PayloadBytes, Op: Op(r.Op), Variant: r.Variant}.Name()
}

// Table writes the comparison as benchstat would: old and new medians, the change, or
// "~" when the difference is not significant, with the p-value and sample counts.
func (c Comparison) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\told ns/op\tnew ns/op\told vs ref\tnew vs ref\tdelta\tp\t")
	for _, d := range c.Deltas {
		delta := "~"
		if d.Significant {
			delta = fmt.Sprintf("%+.1f%%", 100*d.Change)
		}
		mark := ""
		if d.Regression {
			mark = "  REGRESSION"
		}
		oldF, newF := "-", "-"
		if d.VsRef {
			oldF, newF = fmt.Sprintf("%.3fx", d.OldRatio), fmt.Sprintf("%.3fx", d.NewRatio)
		}
		name := Case{Message: d.Message, PayloadBytes: d.PayloadBytes, Op: Op(d.Op), Variant: d.Variant}.Name()
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%s\t%s\t%s\tp=%.3f\t%s\n", name, d.OldNs, d.NewNs, oldF, newF, delta, d.P, mark)
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
	_, err := fmt.Fprintf(w, "%s beyond %.0f%% (time relative to the reference codec measured with it; Mann-Whitney U test, alpha %.2f)\n", verdict, 100*c.Threshold, c.Alpha)
	return err
}
