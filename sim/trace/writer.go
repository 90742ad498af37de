package trace

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"
)

// Writer writes trace.jsonl: one JSON object per event, in event order, e.g.
//
//	{"t":1.250000000,"kind":"send","node":3,"task":42,"attempt":1,"msg":"TaskHeartbeatRequest","bytes":57}
//
// t is virtual seconds, printed exactly from nanoseconds. Lines are formatted by
// appending into the output buffer (no reflection, no allocation per event) and written
// through a buffer; the first write error sticks and is reported by Flush and Err.
type Writer struct {
	bw  *bufio.Writer
	err error
}

// NewWriter returns a Writer to w. Call Flush at the end.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10)}
}

// Write appends one event: virtual time in nanoseconds, kind, node, task, attempt,
// message type name ("" when there is none) and message size in bytes.
func (w *Writer) Write(t int64, kind string, node int32, task uint64, attempt uint32, msg string, bytes int) {
	if w.err != nil {
		return
	}
	// Flush early rather than let append outgrow the buffer's free space, which would
	// allocate. 160 bytes cover the punctuation and the longest numbers; a string
	// escapes to at most 6 bytes per input byte.
	if w.bw.Available() < 160+6*(len(kind)+len(msg)) {
		if w.err = w.bw.Flush(); w.err != nil {
			return
		}
	}
	b := w.bw.AvailableBuffer()
	b = append(b, `{"t":`...)
	b = appendSeconds(b, t)
	b = append(b, `,"kind":`...)
	b = appendString(b, kind)
	b = append(b, `,"node":`...)
	b = strconv.AppendInt(b, int64(node), 10)
	b = append(b, `,"task":`...)
	b = strconv.AppendUint(b, task, 10)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendUint(b, uint64(attempt), 10)
	b = append(b, `,"msg":`...)
	b = appendString(b, msg)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(bytes), 10)
	b = append(b, "}\n"...)
	// b aliases the buffer's free space when it fitted, so this Write is a cheap copy
	// in place; bufio.Writer supports exactly this idiom.
	_, w.err = w.bw.Write(b)
}

// Flush writes any buffered lines and returns the first error met.
func (w *Writer) Flush() error {
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
