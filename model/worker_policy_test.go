package model

import (
	"slices"
	"testing"
	"time"
)

// schedule lists the pauses a retry policy gives to tries 1.. answered code, until it
// stops retrying.
func schedule(r RetryPolicy, code Code) []time.Duration {
	var out []time.Duration
	for tries := 1; ; tries++ {
		d, again := r.Retry(code, tries)
		if !again {
			return out
		}
		out = append(out, d)
	}
}

func TestPolicyRetrySchedules(t *testing.T) {
	s := time.Second
	strict := []time.Duration{s, 2 * s, 4 * s, 8 * s, 10 * s}
	for _, c := range []struct {
		name string
		r    RetryPolicy
		code Code
		want []time.Duration
	}{
		{"python claim unavailable", FlavourPython.Policy().Claim, CodeUnavailable, []time.Duration{s, s, s, s}},
		{"python claim not found", FlavourPython.Policy().Claim, CodeNotFound, nil},
		{"python complete unavailable", FlavourPython.Policy().Complete, CodeUnavailable, []time.Duration{4 * s, 8 * s, 16 * s, 30 * s, 30 * s}},
		{"rust claim unavailable", FlavourRust.Policy().Claim, CodeUnavailable, nil},
		{"rust complete unavailable", FlavourRust.Policy().Complete, CodeUnavailable, nil},
		{"strict claim deadline", FlavourStrict.Policy().Claim, CodeDeadlineExceeded, strict},
		{"strict complete unavailable", FlavourStrict.Policy().Complete, CodeUnavailable, strict},
		{"strict complete invalid", FlavourStrict.Policy().Complete, CodeInvalidArgument, nil},
	} {
		if got := schedule(c.r, c.code); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPolicyReconnectSchedules(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		f    Flavour
		want []time.Duration
	}{
		// Python and strict exit at the 15th failure in a row, rust at the 10th.
		{FlavourPython, slices.Repeat([]time.Duration{2 * s}, 14)},
		{FlavourRust, []time.Duration{2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 60 * s, 60 * s, 60 * s, 60 * s}},
		{FlavourStrict, slices.Repeat([]time.Duration{2 * s}, 14)},
	} {
		var got []time.Duration
		for n := 1; ; n++ {
			d, again := c.f.Policy().Reconnect.Delay(n)
			if !again {
				break
			}
			got = append(got, d)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: reconnects after %v, want %v", c.f, got, c.want)
		}
	}
}

func TestPolicyDefaults(t *testing.T) {
	for f, want := range map[Flavour]int{FlavourPython: 4, FlavourRust: 10, FlavourStrict: 4} {
		if got := f.DefaultConcurrency(); got != want {
			t.Errorf("%s: default concurrency %d, want %d", f, got, want)
		}
	}
}
