package model

import (
	"testing"
	"unsafe"
)

// The hot records are sized to cache lines (see orchTask): a field added
// carelessly would cost a run at 100,000 workers a cache miss per event.
func TestHotRecordsFitTheirCacheLines(t *testing.T) {
	if got := unsafe.Sizeof(orchTask{}); got != 64 {
		t.Errorf("orchTask is %d bytes, want 64 (one cache line)", got)
	}
}
