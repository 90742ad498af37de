package main

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressLineShowsPercentElapsedAndETA(t *testing.T) {
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		extra       string
		want        string
	}{
		{1000, 5000, 10 * time.Second, "virtual 1m20s", "   20% of 5000 steps settled  elapsed 10s  ETA 40s  virtual 1m20s"},
		{0, 5000, 3 * time.Second, "", "    0% of 5000 steps settled  elapsed 3s  ETA ?"},
		{4999, 5000, 125 * time.Second, "", "  100% of 5000 steps settled  elapsed 2m05s  ETA 30ms"},
	}
	for _, tt := range tests {
		if got := progressLine(tt.done, tt.total, "steps settled", tt.elapsed, tt.extra); got != tt.want {
			t.Errorf("progressLine(%d, %d, %v) = %q, want %q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}

func TestMeterSilentUntilDelayThenClears(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	m := &meter{w: &b, unit: "seeds", delay: 2 * time.Second, start: now, now: func() time.Time { return now }}
	m.update(1, 10, "")
	m.clear()
	if b.Len() != 0 {
		t.Fatalf("printed before the delay: %q", b.String())
	}
	now = now.Add(3 * time.Second)
	m.update(5, 10, "")
	m.clear()
	if want := "\r   50% of 10 seeds  elapsed 3s  ETA 3s\033[K\r\033[K"; b.String() != want {
		t.Errorf("printed %q, want %q", b.String(), want)
	}
}
