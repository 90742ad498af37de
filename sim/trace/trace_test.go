package trace

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

type event struct {
	t       int64
	kind    uint8
	node    int32
	task    uint64
	attempt uint32
	msgType uint8
	msg     []byte
}

var events = []event{
	{0, 1, 0, 0, 0, 0, nil},
	{1_500_000_000, 100, 3, 42, 1, 7, []byte{0x0a, 0x03, 'a', 'b', 'c'}},
	{1_500_000_000, 101, 0, 42, 1, 7, nil},
	{2_000_000_001, 4, 3, 42, 2, 0, nil},
}

func hashOf(evs []event) string {
	h := NewHasher()
	for _, e := range evs {
		h.Event(e.t, e.kind, e.node, e.task, e.attempt, e.msgType, e.msg)
	}
	return h.Sum()
}

func TestHashDeterministic(t *testing.T) {
	a, b := hashOf(events), hashOf(events)
	if a != b {
		t.Fatalf("same events hashed to %s and %s", a, b)
	}
	if len(a) != 16 {
		t.Fatalf("Sum = %q, want 16 hex digits", a)
	}
}

// TestHashGolden pins the hash of a fixed trace: a change to the record layout, the seed
// or the hash function changes every run's trace_hash, and must be deliberate.
func TestHashGolden(t *testing.T) {
	if got, want := hashOf(events), goldenHash; got != want {
		t.Fatalf("hash = %s, want %s", got, want)
	}
	if got, want := NewHasher().Sum(), goldenEmpty; got != want {
		t.Fatalf("empty hash = %s, want %s", got, want)
	}
}

const (
	goldenHash  = "8b279bd30c77cb55"
	goldenEmpty = "a679f08acf3d73df"
)

func TestHashSeesEveryField(t *testing.T) {
	base := hashOf(events)
	mutations := map[string]func(e *event){
		"time":          func(e *event) { e.t++ },
		"kind":          func(e *event) { e.kind++ },
		"node":          func(e *event) { e.node++ },
		"node sign":     func(e *event) { e.node = -e.node - 1 },
		"task":          func(e *event) { e.task ^= 1 << 63 },
		"attempt":       func(e *event) { e.attempt++ },
		"message type":  func(e *event) { e.msgType++ },
		"message byte":  func(e *event) { e.msg = append([]byte{}, e.msg...); e.msg[2]++ },
		"message short": func(e *event) { e.msg = e.msg[:len(e.msg)-1] },
		"message nil":   func(e *event) { e.msg = nil },
	}
	for name, mutate := range mutations {
		evs := append([]event{}, events...)
		mutate(&evs[1])
		if hashOf(evs) == base {
			t.Errorf("changing the %s did not change the hash", name)
		}
	}
	// Order, dropping and adding events.
	swapped := append([]event{}, events...)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	for name, evs := range map[string][]event{
		"order":   swapped,
		"dropped": events[:3],
		"added":   append(append([]event{}, events...), events[0]),
	} {
		if hashOf(evs) == base {
			t.Errorf("%s events did not change the hash", name)
		}
	}
	// Moving bytes between the message and the next record must not collide.
	a := []event{{1, 1, 1, 1, 1, 1, []byte{1, 2}}, {2, 2, 2, 2, 2, 2, []byte{3}}}
	b := []event{{1, 1, 1, 1, 1, 1, []byte{1}}, {2, 2, 2, 2, 2, 2, []byte{2, 3}}}
	if hashOf(a) == hashOf(b) {
		t.Error("message boundaries are ambiguous")
	}
}

func TestHashNoAllocs(t *testing.T) {
	h := NewHasher()
	msg := make([]byte, 200)
	if n := testing.AllocsPerRun(1000, func() { h.Event(1, 2, 3, 4, 5, 6, msg) }); n != 0 {
		t.Fatalf("Event allocates %v times", n)
	}
	if h.Events() != 1001 {
		t.Fatalf("Events = %d, want 1001", h.Events())
	}
}

// writeSample writes three lines: an event with a message, sends and lifecycle items;
// a fault with only its own fields; and one whose strings need escaping.
func writeSample(w *Writer) {
	orch, w3 := Node{"orchestrator", -1}, Node{"worker", 3}
	w.Begin(1_250_000_000, "deliver")
	w.Node(orch, "")
	w.Node(w3, "ignored: only the first call counts")
	w.Message(42, 1, "TaskHeartbeatRequest", 57)
	w.Send(orch, w3, 42, 1, "TaskHeartbeatResponse", 12)
	w.Lifecycle(Life{Kind: "claimed", Node: orch, Worker: w3, Step: 7, Task: 42, Attempt: 1})
	w.Lifecycle(Life{Kind: "crash", Node: w3, Step: -1})
	w.End()
	w.Begin(86_400_000_000_001, "fault_start")
	w.StringField("fault", "partition")
	w.Field("fault_index", 0)
	w.Begin(5, "odd \"kind\"\\\n\x01") // ends the line before
	w.Node(Node{"caf\xc3\xa9 \xff", math.MaxInt32}, "pool \"p\"")
	w.Message(math.MaxUint64, math.MaxUint32, "", 1<<20)
}

func TestWriterLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	writeSample(w)
	if err := w.Flush(); err != nil { // ends the open line
		t.Fatal(err)
	}
	want := []string{
		`{"t":1.250000000,"event":"deliver","node":"orchestrator","task":42,"attempt":1,"msg":"TaskHeartbeatRequest","bytes":57,` +
			`"sends":[{"from":"orchestrator","to":"worker-3","task":42,"attempt":1,"msg":"TaskHeartbeatResponse","bytes":12}],` +
			`"lifecycle":[{"kind":"claimed","node":"orchestrator","worker":"worker-3","step":7,"task":42,"attempt":1},{"kind":"crash","node":"worker-3"}]}`,
		`{"t":86400.000000001,"event":"fault_start","fault":"partition","fault_index":0}`,
		`{"t":0.000000005,"event":"odd \"kind\"\\\u000a\u0001","node":"café \ufffd-2147483647","pool":"pool \"p\"","task":18446744073709551615,"attempt":4294967295,"msg":"","bytes":1048576}`,
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
		if !json.Valid([]byte(got[i])) {
			t.Errorf("line %d is not JSON: %s", i+1, got[i])
		}
	}
	// Nothing is written outside a line.
	buf.Reset()
	w.Send(Node{"a", -1}, Node{"b", -1}, 1, 1, "x", 1)
	w.Lifecycle(Life{Kind: "lost", Step: -1})
	w.End()
	if err := w.Flush(); err != nil || buf.Len() != 0 {
		t.Fatalf("wrote %q outside a line (err %v)", buf.String(), err)
	}
}

func TestWriterManyLinesNoAllocs(t *testing.T) {
	w := NewWriter(io.Discard)
	writeSample(w) // grows the buffers
	n := testing.AllocsPerRun(100_000, func() { writeSample(w) })
	if n != 0 {
		t.Fatalf("a line allocates %v times", n)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriterStickyError(t *testing.T) {
	w := NewWriter(failWriter{})
	for range 10_000 { // more than the buffer holds
		writeSample(w)
	}
	if err := w.Flush(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Flush = %v, want disk full", err)
	}
	if w.Err() == nil {
		t.Fatal("Err = nil after a failed write")
	}
}

func BenchmarkHasherEvent(b *testing.B) {
	h := NewHasher()
	msg := make([]byte, 64)
	b.SetBytes(int64(recordSize + len(msg)))
	for b.Loop() {
		h.Event(1, 2, 3, 4, 5, 6, msg)
	}
}

func BenchmarkWriter(b *testing.B) {
	w := NewWriter(io.Discard)
	for b.Loop() {
		writeSample(w)
	}
}

// The Hasher buffers records before the digest sees them; across buffer boundaries and
// with messages larger than the buffer, the hash is that of the plain byte stream.
func TestHashBufferingIsTheStream(t *testing.T) {
	h := NewHasher()
	ref := xxhash.NewWithSeed(hashSeed)
	var rec [recordSize]byte
	for i := range 3000 {
		msg := bytes.Repeat([]byte{byte(i)}, []int{0, 5, 600, 3 * hashBuffer, hashBuffer - recordSize}[i%5])
		h.Event(int64(i), uint8(i), int32(-i), uint64(i)<<40, uint32(i), uint8(i%9), msg)
		binary.LittleEndian.PutUint64(rec[0:], uint64(i))
		rec[8] = uint8(i)
		binary.LittleEndian.PutUint32(rec[9:], uint32(int32(-i)))
		binary.LittleEndian.PutUint64(rec[13:], uint64(i)<<40)
		binary.LittleEndian.PutUint32(rec[21:], uint32(i))
		rec[25] = uint8(i % 9)
		binary.LittleEndian.PutUint32(rec[26:], uint32(len(msg)))
		ref.Write(rec[:])
		ref.Write(msg)
		if i%1000 == 999 && h.Sum64() != ref.Sum64() {
			t.Fatalf("after %d events: buffered %x, stream %x", i+1, h.Sum64(), ref.Sum64())
		}
	}
}
