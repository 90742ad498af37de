package sim

import (
	"reflect"
	"testing"
	"time"
)

// The oracle's quiet-period shortcut skips Timeline.advance between bucket openings; the
// timeline it builds must equal one advanced at every event, across merges (more than
// maxBuckets seconds) and at instants just before, at and after bucket boundaries.
func TestTimelineQuietShortcut(t *testing.T) {
	o := newOracle(&Config{})
	plain := newTimeline()
	var at []time.Duration
	for s := time.Duration(0); s < 3*maxBuckets*time.Second; s += 370 * time.Millisecond {
		at = append(at, s)
	}
	for s := time.Duration(1); s <= 8; s++ {
		b := s*time.Second + 3*maxBuckets*time.Second
		at = append(at, b-time.Millisecond-1, b-time.Millisecond, b-1, b, b+1)
	}
	skipped := 0
	for i, now := range at {
		o.submitted = int64(i) // in flight changes with every event
		if now < o.timelineQuiet {
			skipped++
		}
		o.advance(now)
		plain.advance(now, int64(i))
	}
	if !reflect.DeepEqual(o.timeline, plain) {
		t.Fatalf("timeline with the shortcut differs: %d buckets of %gs, want %d of %gs",
			len(o.timeline.InFlight), o.timeline.BucketSeconds, len(plain.InFlight), plain.BucketSeconds)
	}
	if plain.BucketSeconds != 4 || skipped < len(at)/2 {
		t.Fatalf("bucket %gs, %d of %d events skipped: the test no longer covers merges or the shortcut", plain.BucketSeconds, skipped, len(at))
	}
}
