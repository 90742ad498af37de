package wiremap

import (
	"strconv"
	"unsafe"
)

// IDSpace turns one kind of model id (a worker, a task, a run, a step) into its wire
// string and back. The model's ids are small integers; the wire's are strings that
// another implementation chose. Both drivers use the same spaces, so a run on real sockets
// and a simulation put the same bytes on the wire for the same ids.
type IDSpace interface {
	// Render returns id's wire form. The string may alias buf and is then valid only
	// until buf is written again.
	Render(buf *[36]byte, id uint64) string
	// Parse returns the id a wire string stands for, and false for a string this space
	// never rendered (a foreign id where a table expected its own).
	Parse(s string) (uint64, bool)
}

// UUIDs renders ids as version-4-shaped UUIDs: the first 8 hex digits are Salt, digit 19
// is Kind (so task ids and worker ids never look alike), and the last 12 are the id. The
// simulator uses Salt 0; a live process picks a random salt, so that two processes that
// number their workers alike still send distinct worker ids to one orchestrator.
type UUIDs struct {
	Kind byte
	Salt uint32
}

const hexDigits = "0123456789abcdef"

// uuidZero is the shape every rendered UUID starts from.
var uuidZero = [36]byte([]byte("00000000-0000-4000-8000-000000000000"))

// Render writes the UUID into buf and returns a string aliasing it (no allocation).
func (u UUIDs) Render(buf *[36]byte, id uint64) string {
	*buf = uuidZero
	// Two digits per table lookup, as Direct writes them.
	for i := 0; i < 4; i++ {
		p := hexPairs[byte(u.Salt>>(24-8*i))]
		buf[2*i], buf[2*i+1] = p[0], p[1]
	}
	buf[19] = u.Kind
	putHex48((*[12]byte)(buf[24:]), id)
	return unsafe.String(&buf[0], len(buf))
}

// Parse inverts Render; any other string, including another salt's, is not ours. It
// accepts what strconv.ParseUint(_, 16, _) does on the salt and the id (either case of
// hex digit) through a digit table: every heartbeat and completion is parsed here, and
// strconv's general parser was a visible part of a run's profile.
func (u UUIDs) Parse(s string) (uint64, bool) {
	if len(s) != 36 || s[19] != u.Kind {
		return 0, false
	}
	salt, ok := parseHex(s[:8])
	if !ok || salt != uint64(u.Salt) {
		return 0, false
	}
	return parseHex(s[24:])
}

// hexValue maps a byte to its hex digit's value, or 0xff for a byte that is not one.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := byte(0); i < 10; i++ {
		t['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		t['a'+i], t['A'+i] = 10+i, 10+i
	}
	return t
}()

// parseHex reads up to 16 hex digits (callers pass 8 or 12: no overflow).
func parseHex(s string) (uint64, bool) {
	var v uint64
	var bad byte
	for i := 0; i < len(s); i++ {
		d := hexValue[s[i]]
		bad |= d
		v = v<<4 | uint64(d&0xf)
	}
	return v, bad&0xf0 == 0 && len(s) > 0
}

// Decimal renders ids as decimal numbers (run and step ids in observability fields).
type Decimal struct{}

// Render writes id in decimal into buf and returns a string aliasing it.
func (Decimal) Render(buf *[36]byte, id uint64) string {
	n := strconv.AppendUint(buf[:0], id, 10)
	return unsafe.String(&buf[0], len(n))
}

// Parse reads a decimal id, as strconv.ParseUint(s, 10, 64) does; up to 19 digits (which
// cannot overflow) without it.
func (Decimal) Parse(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 19 {
		v, err := strconv.ParseUint(s, 10, 64)
		return v, err == nil
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	return v, true
}

// Interned maps foreign ids to dense small integers from First on, in order of first
// sight, and back. It is how a tasksim worker holds a real orchestrator's task ids, and
// how a tasksim orchestrator holds a real SDK's worker ids. It grows with distinct ids
// seen; Forget drops one that will not come back. Not safe for concurrent use.
type Interned struct {
	First uint64
	ids   map[string]uint64
	names map[uint64]string
	next  uint64
}

// Intern returns s's id, allocating the next one for a string not seen before.
func (t *Interned) Intern(s string) uint64 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	if t.ids == nil {
		t.ids, t.names, t.next = map[string]uint64{}, map[uint64]string{}, t.First
	}
	id := t.next
	t.next++
	s = string([]byte(s)) // the caller's string may alias a decode buffer
	t.ids[s], t.names[id] = id, s
	return id
}

// Forget drops id and its string.
func (t *Interned) Forget(id uint64) {
	if s, ok := t.names[id]; ok {
		delete(t.ids, s)
		delete(t.names, id)
	}
}

// Len is the number of ids held.
func (t *Interned) Len() int { return len(t.ids) }

// Render returns the interned string of id ("" for an id never interned).
func (t *Interned) Render(_ *[36]byte, id uint64) string { return t.names[id] }

// Parse returns the id of a string seen before; it does not intern.
func (t *Interned) Parse(s string) (uint64, bool) {
	id, ok := t.ids[s]
	return id, ok
}

// Names maps the scenario's names (queue names, component ids) to their indexes and back.
// A name not in the table is not served: PullTasks on an unknown queue gets NOT_FOUND,
// an assignment of an unknown component fails on the worker as the SDKs do.
type Names struct {
	names []string
	index map[string]int32
}

// NewNames returns a table of names, indexed in order.
func NewNames(names []string) *Names {
	n := &Names{index: make(map[string]int32, len(names))}
	for _, s := range names {
		n.Add(s)
	}
	return n
}

// Add appends a name (if new) and returns its index.
func (n *Names) Add(s string) int32 {
	if i, ok := n.index[s]; ok {
		return i
	}
	n.names = append(n.names, s)
	n.index[s] = int32(len(n.names) - 1)
	return int32(len(n.names) - 1)
}

// Index returns the index of s, or -1 and false.
func (n *Names) Index(s string) (int32, bool) {
	i, ok := n.index[s]
	if !ok {
		return -1, false
	}
	return i, true
}

// lookup is Index of a name's bytes, without allocating a string.
func (n *Names) lookup(b []byte) (int32, bool) {
	i, ok := n.index[string(b)]
	return i, ok
}

// Name returns the name at i, or "" out of range.
func (n *Names) Name(i int32) string {
	if i < 0 || int(i) >= len(n.names) {
		return ""
	}
	return n.names[i]
}

// Len is the number of names.
func (n *Names) Len() int { return len(n.names) }
