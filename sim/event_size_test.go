package sim

import (
	"testing"
	"unsafe"
)

// The queue keeps each event inline in a slot beside 40 bytes of bookkeeping: at 24
// bytes an event makes a slot exactly one 64-byte cache line, which Pop reads whole.
func TestEventFitsTheQueueSlot(t *testing.T) {
	if n := unsafe.Sizeof(event{}); n != 24 {
		t.Fatalf("event is %d bytes, want 24 (a queue slot of one cache line)", n)
	}
}

// A message slot is three whole cache lines: its header, the message and a short
// encoding, read together by a delivery (msgs' backing array is page-aligned).
func TestInflightIsThreeCacheLines(t *testing.T) {
	if n := unsafe.Sizeof(inflight{}); n != 192 {
		t.Fatalf("inflight is %d bytes, want 192", n)
	}
}
