package main

import (
	"fmt"
	"io"
	"time"
)

// meter shows a long job's progress on a terminal, on one line it rewrites: how much of
// the whole is done, the wall time so far and an estimate of what is left. It stays
// silent for the first delay, so that short jobs print nothing.
type meter struct {
	w     io.Writer
	unit  string // what is counted: "steps settled", "seeds", "samples"
	delay time.Duration
	start time.Time
	now   func() time.Time
	shown bool
}

func newMeter(w io.Writer, unit string, delay time.Duration) *meter {
	return &meter{w: w, unit: unit, delay: delay, start: time.Now(), now: time.Now}
}

// update shows done of total; extra (may be empty) follows on the line.
func (m *meter) update(done, total int64, extra string) {
	elapsed := m.now().Sub(m.start)
	if elapsed < m.delay {
		return
	}
	m.shown = true
	fmt.Fprintf(m.w, "\r%s\033[K", progressLine(done, total, m.unit, elapsed, extra))
}

// clear removes the line if one was shown.
func (m *meter) clear() {
	if m.shown {
		fmt.Fprint(m.w, "\r\033[K")
	}
}

// progressLine is "  42% of 5000 steps settled  elapsed 12s  ETA 17s", the ETA assuming
// the rest goes as fast as what is done.
func progressLine(done, total int64, unit string, elapsed time.Duration, extra string) string {
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	eta := "ETA ?"
	if done > 0 && total >= done {
		eta = "ETA " + shortDuration(time.Duration(float64(elapsed)*float64(total-done)/float64(done)))
	}
	line := fmt.Sprintf("  %3.0f%% of %d %s  elapsed %s  %s", pct, total, unit, shortDuration(elapsed), eta)
	if extra != "" {
		line += "  " + extra
	}
	return line
}

// shortDuration rounds to what a person reads on a progress line: 850ms, 12s, 3m05s.
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
