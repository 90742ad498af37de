package conform

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// fact is one named observation of a situation, or one expectation of a flavour: a
// bool, an int, a duration (0 means none), a schedule of pauses, or a string.
type fact struct {
	Name  string
	Value any
}

// sched is a schedule of pauses between tries, as far as the situation's window saw it.
type sched []time.Duration

// MarshalJSON writes a fact as {"name":..., "value":...}, durations in seconds.
func (f fact) MarshalJSON() ([]byte, error) {
	var v any = f.Value
	switch x := f.Value.(type) {
	case time.Duration:
		v = secs(x)
	case sched:
		s := make([]float64, len(x))
		for i, d := range x {
			s[i] = secs(d)
		}
		v = s
	}
	return json.Marshal(struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	}{f.Name, v})
}

// secs is d in seconds, rounded to milliseconds.
func secs(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

// fmtDur prints a duration as seconds with millisecond precision.
func fmtDur(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func (f fact) String() string { return f.Name + "=" + fmtValue(f.Value) }

func fmtValue(v any) string {
	switch x := v.(type) {
	case time.Duration:
		if x == 0 {
			return "none"
		}
		return fmtDur(x)
	case sched:
		parts := make([]string, len(x))
		for i, d := range x {
			parts[i] = fmtDur(d)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		return fmt.Sprint(x)
	}
}

// tolerance is how far a measured duration may be from the expected one: 350ms or 10%,
// whichever is larger (real processes on a shared machine; RPC time adds to every
// pause). Tighter would flake under load; looser would blur python's SIGTERM exit at the
// probe (5.5s in the tests) with rust's at its task's end (3.5s).
func tolerance(want time.Duration) time.Duration {
	return max(350*time.Millisecond, want/10)
}

// atOnce is an expected pause of nothing: 0 means none, so a flavour that acts at once
// expects this, which any observed pause within the tolerance matches.
const atOnce = time.Nanosecond

// closeWithin reports whether got is want within its tolerance widened by slack (the
// harness lag).
func closeWithin(got, want, slack time.Duration) bool {
	if want == atOnce {
		return got >= 0 && got <= tolerance(0)+slack
	}
	if got == 0 || want == 0 {
		return got == want
	}
	d := got - want
	if d < 0 {
		d = -d
	}
	return d <= tolerance(want)+slack
}

// matches compares an observed value with an expected one.
func matches(got, want any) bool { return matchesWithin(got, want, 0) }

// matchesWithin is matches with every duration's tolerance widened by slack.
func matchesWithin(got, want any, slack time.Duration) bool {
	switch w := want.(type) {
	case time.Duration:
		g, ok := got.(time.Duration)
		return ok && closeWithin(g, w, slack)
	case sched:
		g, ok := got.(sched)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !closeWithin(g[i], w[i], slack) {
				return false
			}
		}
		return true
	default:
		return got == want
	}
}

// within truncates a flavour's full schedule to the pauses a window of length window
// (from the first try) can show. A pause ending within margin of the window's end
// cannot be called either way; ambiguous reports that. The windows are chosen so that
// no flavour's schedule ends a pause that close (RPC times add milliseconds per try).
func within(full []time.Duration, window time.Duration) (s sched, ambiguous bool) {
	const margin = 750 * time.Millisecond
	var at time.Duration
	for _, d := range full {
		at += d
		if at > window-margin && at < window+margin {
			return s, true
		}
		if at > window {
			break
		}
		s = append(s, d)
	}
	if s == nil {
		s = sched{}
	}
	return s, false
}

// gaps is the pauses between consecutive instants.
func gaps(at []time.Duration) sched {
	s := sched{}
	for i := 1; i < len(at); i++ {
		s = append(s, at[i]-at[i-1])
	}
	return s
}
