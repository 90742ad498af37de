package trace

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"
)

// Writer writes trace.jsonl: one JSON object per event of the simulation kernel, in
// event order, with what the event caused, e.g.
//
//	{"t":1.250000000,"event":"deliver","node":"orchestrator","task":42,"attempt":1,"msg":"TaskHeartbeatRequest","bytes":57,
//	 "sends":[{"from":"orchestrator","to":"worker-3","task":42,"attempt":1,"msg":"TaskHeartbeatResponse","bytes":12}],
//	 "lifecycle":[{"kind":"claimed","node":"orchestrator","worker":"worker-3","task":42,"attempt":1}]}
//
// (on one line). t is virtual seconds, printed exactly from nanoseconds. docs/trace.md
// lists the fields. A line is begun with Begin, filled by the event's handlers and ended
// with End; lines are formatted by appending into reused buffers (no reflection, no
// allocation per event once they have grown) and written through a buffer; the first
// write error sticks and is reported by Flush and Err.
type Writer struct {
	bw  *bufio.Writer
	err error

	open    bool
	head    []byte // "t", "event" and the event's own fields
	sends   []byte // the items of "sends", comma-separated
	life    []byte // the items of "lifecycle"
	nodeSet bool
	msgSet  bool
	scratch []byte
}

// Node names a participant: Name alone when ID < 0 ("orchestrator"), else Name-ID
// ("worker-3").
type Node struct {
	Name string
	ID   int32
}

// NewWriter returns a Writer to w. Call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10)}
}

// Begin starts the line of a kernel event of the given kind at t nanoseconds, ending
// the line before if it is still open.
func (w *Writer) Begin(t int64, event string) {
	if w.open {
		w.End()
	}
	w.open, w.nodeSet, w.msgSet = true, false, false
	w.head = append(w.head[:0], `{"t":`...)
	w.head = appendSeconds(w.head, t)
	w.head = append(w.head, `,"event":`...)
	w.head = appendString(w.head, event)
	w.sends, w.life = w.sends[:0], w.life[:0]
}

// Node sets where the event happens, and the worker's pool ("" for none); only the
// first call of a line counts.
func (w *Writer) Node(n Node, pool string) {
	if !w.open || w.nodeSet {
		return
	}
	w.nodeSet = true
	w.head = append(w.head, `,"node":`...)
	w.head = appendNode(w.head, n)
	if pool != "" {
		w.head = append(w.head, `,"pool":`...)
		w.head = appendString(w.head, pool)
	}
}

// Field adds an integer field of the event, e.g. "timer" or "fault_index".
func (w *Writer) Field(key string, v int64) {
	if !w.open {
		return
	}
	w.head = append(w.head, ',')
	w.head = appendString(w.head, key)
	w.head = append(w.head, ':')
	w.head = strconv.AppendInt(w.head, v, 10)
}

// StringField adds a string field of the event, e.g. "fault".
func (w *Writer) StringField(key, v string) {
	if !w.open {
		return
	}
	w.head = append(w.head, ',')
	w.head = appendString(w.head, key)
	w.head = append(w.head, ':')
	w.head = appendString(w.head, v)
}

// Message sets the message the event delivers; only the first call of a line counts.
func (w *Writer) Message(task uint64, attempt uint32, msg string, bytes int) {
	if !w.open || w.msgSet {
		return
	}
	w.msgSet = true
	w.head = appendMessage(w.head, task, attempt, msg, bytes)
}

// Send adds a message the event sent, to the line's "sends".
func (w *Writer) Send(from, to Node, task uint64, attempt uint32, msg string, bytes int) {
	if !w.open {
		return
	}
	if len(w.sends) > 0 {
		w.sends = append(w.sends, ',')
	}
	w.sends = append(w.sends, `{"from":`...)
	w.sends = appendNode(w.sends, from)
	w.sends = append(w.sends, `,"to":`...)
	w.sends = appendNode(w.sends, to)
	w.sends = appendMessage(w.sends, task, attempt, msg, bytes)
	w.sends = append(w.sends, '}')
}

// Life is one item of a line's "lifecycle": what happened to a step, a task or a
// process.
type Life struct {
	Kind   string // e.g. "claimed", "timed_out", "crash"
	Node   Node   // who reports it
	Worker Node   // the worker it is about; Name "" for none
	Step   int64  // -1 for none
	Task   uint64 // 0 for none (task ids start at 1)
	// Attempt is written with Task.
	Attempt uint32
	Reason  string // "" for none
}

// Lifecycle adds l to the line's "lifecycle".
func (w *Writer) Lifecycle(l Life) {
	if !w.open {
		return
	}
	if len(w.life) > 0 {
		w.life = append(w.life, ',')
	}
	w.life = append(w.life, `{"kind":`...)
	w.life = appendString(w.life, l.Kind)
	w.life = append(w.life, `,"node":`...)
	w.life = appendNode(w.life, l.Node)
	if l.Worker.Name != "" {
		w.life = append(w.life, `,"worker":`...)
		w.life = appendNode(w.life, l.Worker)
	}
	if l.Step >= 0 {
		w.life = append(w.life, `,"step":`...)
		w.life = strconv.AppendInt(w.life, l.Step, 10)
	}
	if l.Task != 0 {
		w.life = append(w.life, `,"task":`...)
		w.life = strconv.AppendUint(w.life, l.Task, 10)
		w.life = append(w.life, `,"attempt":`...)
		w.life = strconv.AppendUint(w.life, uint64(l.Attempt), 10)
	}
	if l.Reason != "" {
		w.life = append(w.life, `,"reason":`...)
		w.life = appendString(w.life, l.Reason)
	}
	w.life = append(w.life, '}')
}

// End writes the open line, if any.
func (w *Writer) End() {
	if !w.open {
		return
	}
	w.open = false
	if w.err != nil {
		return
	}
	b := append(w.scratch[:0], w.head...)
	if len(w.sends) > 0 {
		b = append(b, `,"sends":[`...)
		b = append(b, w.sends...)
		b = append(b, ']')
	}
	if len(w.life) > 0 {
		b = append(b, `,"lifecycle":[`...)
		b = append(b, w.life...)
		b = append(b, ']')
	}
	b = append(b, "}\n"...)
	w.scratch = b
	_, w.err = w.bw.Write(b)
}

func appendNode(b []byte, n Node) []byte {
	b = append(b, '"')
	b = appendRaw(b, n.Name)
	if n.ID >= 0 {
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(n.ID), 10)
	}
	return append(b, '"')
}

// appendRaw appends s escaped as inside a JSON string, without the quotes.
func appendRaw(b []byte, s string) []byte {
	q := appendString(b, s) // "s"
	copy(q[len(b):], q[len(b)+1:len(q)-1])
	return q[:len(q)-2]
}

func appendMessage(b []byte, task uint64, attempt uint32, msg string, bytes int) []byte {
	b = append(b, `,"task":`...)
	b = strconv.AppendUint(b, task, 10)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendUint(b, uint64(attempt), 10)
	b = append(b, `,"msg":`...)
	b = appendString(b, msg)
	b = append(b, `,"bytes":`...)
	return strconv.AppendInt(b, int64(bytes), 10)
}

// Flush ends the open line, writes any buffered lines and returns the first error met.
func (w *Writer) Flush() error {
	w.End()
	if w.err != nil {
		return w.err
	}
	w.err = w.bw.Flush()
	return w.err
}

// Err returns the first error met, if any.
func (w *Writer) Err() error { return w.err }

// appendSeconds formats ns as seconds with nine decimals: exact, where converting to
// float64 would round beyond 2^53 ns (about 104 days).
func appendSeconds(b []byte, ns int64) []byte {
	u := uint64(ns)
	if ns < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/1e9, 10)
	frac := u % 1e9
	var d [10]byte
	d[0] = '.'
	for i := 9; i >= 1; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, d[:]...)
}

// appendString appends s as a JSON string. Names are plain ASCII in practice; anything
// else is escaped so a line always parses, with invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			const hexDigits = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
