// Package trace records what a run did: a hash over every event, which two runs of the
// same scenario and seed must agree on, and an optional human-readable trace.jsonl.
//
// The hash is the run's fingerprint, not a security measure: a fast non-cryptographic
// 64-bit hash (xxHash64) with a fixed seed over a fixed little-endian layout, so it is the
// same on every platform and in every process.
package trace

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/cespare/xxhash/v2"
)

// hashSeed is fixed ("tasksim1"): changing it, or the record layout, changes every hash.
const hashSeed = 0x7461736b73696d31

// recordSize is one event's fixed part: time 8, kind 1, node 4, task 8, attempt 4,
// message type 1, message length 4. The length makes the variable part unambiguous: no
// two different event sequences produce the same byte stream.
const recordSize = 8 + 1 + 4 + 8 + 4 + 1 + 4

// hashBuffer is how many bytes of records the Hasher gathers before handing them to the
// digest: xxhash's Write costs a call and a copy into its own 32-byte block per call,
// which a 30-byte record paid every time. Chunking does not change a streamed hash.
const hashBuffer = 8 << 10

// Hasher accumulates the trace hash. The zero value is not ready; use NewHasher.
type Hasher struct {
	d   xxhash.Digest
	buf []byte
	n   int64
}

// NewHasher returns a Hasher over no events.
func NewHasher() *Hasher {
	h := &Hasher{buf: make([]byte, 0, hashBuffer)}
	h.d.ResetWithSeed(hashSeed)
	return h
}

// Event adds one event: its virtual time in nanoseconds, kind, node, task, attempt,
// message type and message bytes (nil when there is none). It does not allocate.
func (h *Hasher) Event(t int64, kind uint8, node int32, task uint64, attempt uint32, msgType uint8, msg []byte) {
	if len(h.buf)+recordSize+len(msg) > cap(h.buf) {
		h.flush()
	}
	i := len(h.buf)
	b := h.buf[i : i+recordSize]
	binary.LittleEndian.PutUint64(b[0:], uint64(t))
	b[8] = kind
	binary.LittleEndian.PutUint32(b[9:], uint32(node))
	binary.LittleEndian.PutUint64(b[13:], task)
	binary.LittleEndian.PutUint32(b[21:], attempt)
	b[25] = msgType
	binary.LittleEndian.PutUint32(b[26:], uint32(len(msg)))
	h.buf = h.buf[:i+recordSize]
	if len(msg) > 0 {
		if len(msg) > cap(h.buf)-len(h.buf) {
			h.flush()
			h.d.Write(msg) // larger than the buffer: straight to the digest
		} else {
			h.buf = append(h.buf, msg...)
		}
	}
	h.n++
}

func (h *Hasher) flush() {
	h.d.Write(h.buf)
	h.buf = h.buf[:0]
}

// Events reports how many events have been added.
func (h *Hasher) Events() int64 { return h.n }

// Sum64 returns the hash of the events so far; more events may be added afterwards.
func (h *Hasher) Sum64() uint64 {
	h.flush()
	return h.d.Sum64()
}

// Sum returns Sum64 as 16 lowercase hex digits, as summary.json's trace_hash.
func (h *Hasher) Sum() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h.Sum64())
	return hex.EncodeToString(b[:])
}
