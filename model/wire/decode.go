package wire

import (
	"encoding/binary"
	"math"
	"unsafe"

	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

// This file decodes TaskAssignment and CompleteTaskRequest, the messages that carry a
// google.protobuf.Value, without allocating in steady state. The generated code allocates
// every node of the Value tree (the Value, its oneof wrapper, each Struct and its map,
// each ListValue and its slice): 94 allocations for a 512-byte input, which is most of
// its decode time. Here the nodes come from slabs that the Codec keeps and reuses on the
// next decode of the same message type, which the aliasing contract on Codec allows.
//
// Only the shape the protocol uses is handled: known fields with their proper wire types,
// each message field at most once, no unknown fields, nesting up to maxFastDepth. Anything
// else makes the fast path give up, and the general path (UnmarshalVTUnsafe, then
// protobuf-go) decodes the input from scratch, so the result never depends on which
// path ran.

// maxFastDepth bounds the fast path's recursion on Values nested in Values; deeper input goes to the
// general path.
const maxFastDepth = 64

const slabChunk = 128

// slab hands out T values from chunks it keeps across decodes; the caller initialises
// each one. Chunks never move, so pointers handed out stay valid until reuse.
type slab[T any] struct {
	chunks [][]T
	ci, i  int
}

func (s *slab[T]) reset() { s.ci, s.i = 0, 0 }

func (s *slab[T]) next() *T {
	if s.ci == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, slabChunk))
	}
	p := &s.chunks[s.ci][s.i]
	if s.i++; s.i == slabChunk {
		s.ci, s.i = s.ci+1, 0
	}
	return p
}

// take returns n contiguous elements (for ListValue.Values), capacity capped at n so an
// append by the caller cannot run into its neighbours.
func (s *slab[T]) take(n int) []T {
	for {
		if s.ci == len(s.chunks) {
			s.chunks = append(s.chunks, make([]T, max(slabChunk, n)))
		}
		c := s.chunks[s.ci]
		if len(c)-s.i >= n {
			out := c[s.i : s.i+n : s.i+n]
			s.i += n
			return out
		}
		s.ci, s.i = s.ci+1, 0
	}
}

// valueArena holds the nodes of decoded Value trees for one message type.
type valueArena struct {
	values     slab[structpb.Value]
	structs    slab[structpb.Struct]
	lists      slab[structpb.ListValue]
	ptrs       slab[*structpb.Value]
	nulls      slab[structpb.Value_NullValue]
	numbers    slab[structpb.Value_NumberValue]
	strs       slab[structpb.Value_StringValue]
	bools      slab[structpb.Value_BoolValue]
	structVals slab[structpb.Value_StructValue]
	listVals   slab[structpb.Value_ListValue]
	maps       []map[string]*structpb.Value
	mi         int
}

func (a *valueArena) reset() {
	a.values.reset()
	a.structs.reset()
	a.lists.reset()
	a.ptrs.reset()
	a.nulls.reset()
	a.numbers.reset()
	a.strs.reset()
	a.bools.reset()
	a.structVals.reset()
	a.listVals.reset()
	a.mi = 0
}

func (a *valueArena) newMap() map[string]*structpb.Value {
	if a.mi == len(a.maps) {
		a.maps = append(a.maps, make(map[string]*structpb.Value, 8))
	}
	m := a.maps[a.mi]
	clear(m)
	a.mi++
	return m
}

// ReadBytes reads a length-prefixed field body at b[i:], after its tag; next is the
// index after it. It is for every hand-written decoder of these messages (wiremap's
// Direct too), so that they bound lengths the same way.
func ReadBytes(b []byte, i int) (body []byte, next int, ok bool) {
	n, w := binary.Uvarint(b[i:])
	if w <= 0 || n > uint64(len(b)-i-w) {
		return nil, 0, false
	}
	i += w
	return b[i : i+int(n)], i + int(n), true
}

// readString reads a length-prefixed string at b[i:], aliasing b.
func readString(b []byte, i int) (s string, next int, ok bool) {
	body, next, ok := ReadBytes(b, i)
	if !ok {
		return "", 0, false
	}
	if len(body) > 0 {
		s = unsafe.String(&body[0], len(body))
	}
	return s, next, true
}

// ReadVarint reads a varint at b[i:]; next is the index after it.
func ReadVarint(b []byte, i int) (x uint64, next int, ok bool) {
	x, w := binary.Uvarint(b[i:])
	if w <= 0 {
		return 0, 0, false
	}
	return x, i + w, true
}

func (a *valueArena) value(b []byte, depth int) (*structpb.Value, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	v := a.values.next()
	v.Reset()
	for i := 0; i < len(b); {
		if v.Kind != nil {
			return nil, false // a second kind: the general path merges or replaces
		}
		tag := b[i]
		i++
		var ok bool
		switch tag {
		case 0x8:
			var x uint64
			if x, i, ok = ReadVarint(b, i); !ok {
				return nil, false
			}
			k := a.nulls.next()
			k.NullValue = structpb.NullValue(int32(x))
			v.Kind = k
		case 0x11:
			if len(b)-i < 8 {
				return nil, false
			}
			k := a.numbers.next()
			k.NumberValue = math.Float64frombits(binary.LittleEndian.Uint64(b[i:]))
			v.Kind = k
			i += 8
		case 0x1a:
			k := a.strs.next()
			if k.StringValue, i, ok = readString(b, i); !ok {
				return nil, false
			}
			v.Kind = k
		case 0x20:
			var x uint64
			if x, i, ok = ReadVarint(b, i); !ok {
				return nil, false
			}
			k := a.bools.next()
			k.BoolValue = x != 0
			v.Kind = k
		case 0x2a:
			var body []byte
			if body, i, ok = ReadBytes(b, i); !ok {
				return nil, false
			}
			k := a.structVals.next()
			if k.StructValue, ok = a.structFields(body, depth+1); !ok {
				return nil, false
			}
			v.Kind = k
		case 0x32:
			var body []byte
			if body, i, ok = ReadBytes(b, i); !ok {
				return nil, false
			}
			k := a.listVals.next()
			if k.ListValue, ok = a.list(body, depth+1); !ok {
				return nil, false
			}
			v.Kind = k
		default:
			return nil, false
		}
	}
	return v, true
}

func (a *valueArena) structFields(b []byte, depth int) (*structpb.Struct, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	s := a.structs.next()
	s.Reset()
	m := a.newMap()
	for i := 0; i < len(b); {
		if b[i] != 0xa {
			return nil, false
		}
		entry, next, ok := ReadBytes(b, i+1)
		if !ok {
			return nil, false
		}
		i = next
		// An entry is its key then its value, each once.
		if len(entry) == 0 || entry[0] != 0xa {
			return nil, false
		}
		key, j, ok := readString(entry, 1)
		if !ok || j >= len(entry) || entry[j] != 0x12 {
			return nil, false
		}
		body, j, ok := ReadBytes(entry, j+1)
		if !ok || j != len(entry) {
			return nil, false
		}
		v, ok := a.value(body, depth+1)
		if !ok {
			return nil, false
		}
		m[key] = v // a repeated key: the last one wins, as in protobuf-go
	}
	s.Fields = m
	return s, true
}

func (a *valueArena) list(b []byte, depth int) (*structpb.ListValue, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	// Count first, to take the slice in one piece.
	n := 0
	for i := 0; i < len(b); n++ {
		if b[i] != 0xa {
			return nil, false
		}
		_, next, ok := ReadBytes(b, i+1)
		if !ok {
			return nil, false
		}
		i = next
	}
	l := a.lists.next()
	l.Reset()
	if n == 0 {
		return l, true
	}
	l.Values = a.ptrs.take(n)
	for i, k := 0, 0; i < len(b); k++ {
		body, next, _ := ReadBytes(b, i+1) // checked above
		i = next
		v, ok := a.value(body, depth+1)
		if !ok {
			return nil, false
		}
		l.Values[k] = v
	}
	return l, true
}

// assignmentParts are the submessages of the last decoded TaskAssignment.
type assignmentParts struct {
	arena   valueArena
	wrap    pb.TaskAssignment_Execute
	execute pb.ComponentExecuteRequest
	obs     pb.ObservabilityContext
	obsStr  [5]string
	context pb.TaskContext
	params  map[string]string
}

// decodeAssignment is the fast path for TaskAssignment; false means "use the general path".
func (c *Codec) decodeAssignment(m *pb.TaskAssignment, b []byte) bool {
	p := &c.assignParts
	p.arena.reset()
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		var ok bool
		switch tag {
		case 0xa:
			if m.TaskId, i, ok = readString(b, i); !ok {
				return false
			}
		case 0x12:
			var body []byte
			if body, i, ok = ReadBytes(b, i); !ok || m.Task != nil {
				return false
			}
			p.execute.Reset()
			if !c.decodeExecute(&p.execute, body) {
				return false
			}
			p.wrap.Execute = &p.execute
			m.Task = &p.wrap
		case 0x22:
			var body []byte
			if body, i, ok = ReadBytes(b, i); !ok || m.Context != nil {
				return false
			}
			// Two plain strings: the generated code allocates nothing here.
			p.context.Reset()
			if p.context.UnmarshalVTUnsafe(body) != nil || p.context.ProtoReflect().GetUnknown() != nil {
				return false
			}
			m.Context = &p.context
		case 0x28:
			var x uint64
			if x, i, ok = ReadVarint(b, i); !ok {
				return false
			}
			m.HeartbeatIntervalSecs = uint32(x)
		default:
			// Including list_components (3): discovery tasks are rare.
			return false
		}
	}
	return true
}

func (c *Codec) decodeExecute(m *pb.ComponentExecuteRequest, b []byte) bool {
	p := &c.assignParts
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		var ok bool
		switch tag {
		case 0xa:
			if m.ComponentId, i, ok = readString(b, i); !ok {
				return false
			}
		case 0x12:
			var body []byte
			if body, i, ok = ReadBytes(b, i); !ok || m.Input != nil {
				return false
			}
			if m.Input, ok = c.decodeTopValue(&p.arena, body); !ok {
				return false
			}
		case 0x18:
			var x uint64
			if x, i, ok = ReadVarint(b, i); !ok {
				return false
			}
			m.Attempt = uint32(x)
		case 0x22:
			var body []byte
			if body, i, ok = ReadBytes(b, i); !ok || m.Observability != nil {
				return false
			}
			if !c.decodeObservability(body) {
				return false
			}
			m.Observability = &p.obs
		case 0x2a:
			var entry []byte
			if entry, i, ok = ReadBytes(b, i); !ok {
				return false
			}
			if m.PathParams == nil {
				if p.params == nil {
					p.params = make(map[string]string, 4)
				}
				clear(p.params)
				m.PathParams = p.params
			}
			if len(entry) == 0 || entry[0] != 0xa {
				return false
			}
			k, j, ok := readString(entry, 1)
			if !ok || j >= len(entry) || entry[j] != 0x12 {
				return false
			}
			v, j, ok := readString(entry, j+1)
			if !ok || j != len(entry) {
				return false
			}
			m.PathParams[k] = v
		default:
			return false
		}
	}
	return true
}

// decodeObservability fills the Codec's ObservabilityContext; its optional strings point
// into the Codec, as the generated code would allocate each.
func (c *Codec) decodeObservability(b []byte) bool {
	p := &c.assignParts
	o := &p.obs
	o.Reset()
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		if tag&7 != 2 || tag>>3 < 1 || tag>>3 > 5 {
			return false
		}
		f := tag>>3 - 1
		var ok bool
		if p.obsStr[f], i, ok = readString(b, i); !ok {
			return false
		}
		s := &p.obsStr[f]
		switch f {
		case 0:
			o.TraceId = s
		case 1:
			o.SpanId = s
		case 2:
			o.RunId = s
		case 3:
			o.FlowId = s
		case 4:
			o.StepId = s
		}
	}
	return true
}

// completionParts are the submessages of the last decoded CompleteTaskRequest.
type completionParts struct {
	arena    valueArena
	wrap     pb.CompleteTaskRequest_Response
	response pb.ComponentExecuteResponse
	runID    string
}

// decodeCompletion is the fast path for a CompleteTaskRequest with a response; an error
// or a component list (rare) takes the general path.
func (c *Codec) decodeCompletion(m *pb.CompleteTaskRequest, b []byte) bool {
	p := &c.completeParts
	p.arena.reset()
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		var ok bool
		switch tag {
		case 0xa:
			if m.TaskId, i, ok = readString(b, i); !ok {
				return false
			}
		case 0x12:
			var body []byte
			if body, i, ok = ReadBytes(b, i); !ok || m.Result != nil {
				return false
			}
			r := &p.response
			r.Reset()
			if len(body) > 0 {
				if body[0] != 0xa {
					return false
				}
				out, j, ok := ReadBytes(body, 1)
				if !ok || j != len(body) {
					return false
				}
				if r.Output, ok = c.decodeTopValue(&p.arena, out); !ok {
					return false
				}
			}
			p.wrap.Response = r
			m.Result = &p.wrap
		case 0x22:
			if p.runID, i, ok = readString(b, i); !ok {
				return false
			}
			m.RunId = &p.runID
		default:
			return false
		}
	}
	return true
}
