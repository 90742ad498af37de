package wire

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/planetscale/vtprotobuf/protohelpers"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

// This file encodes the two messages that hold maps (TaskAssignment, through
// ComponentExecuteRequest.path_params, and CompleteTaskRequest, through the
// google.protobuf.Struct inside every Value). vtprotobuf's generated code ranges over the
// Go maps, so its bytes differ from run to run; the trace hash covers message bytes.
//
// It runs two passes in the same order. The size pass ranges over each map once,
// collecting its entries into a stack of sorted pairs, and records the size of every
// Value, Struct and ListValue in pre-order; the write pass appends forward, taking sizes
// and pairs from those stacks in the same order. So each map is ranged once and never
// looked up (the generated code ranges twice, in SizeVT and in the marshal), and nothing
// is allocated once the stacks have grown.
//
// Fields are written in protobuf-go's order (fields outside a oneof by number, then the
// oneof, then unknown fields), so the output is byte-identical to
// proto.MarshalOptions{Deterministic: true}, and switching between the two leaves trace
// hashes unchanged. Unknown fields inside Value/Struct/ListValue are not written, as
// vtprotobuf (which cannot reach them) does not write them either. Map-free submessages
// use the generated code.

type entry struct {
	pre uint64 // the key's first 8 bytes, big-endian: most comparisons end here
	k   string
	v   *structpb.Value
}

func keyPrefix(k string) uint64 {
	if len(k) >= 8 {
		// The compiler turns this into one load and a byte swap.
		return uint64(k[0])<<56 | uint64(k[1])<<48 | uint64(k[2])<<40 | uint64(k[3])<<32 |
			uint64(k[4])<<24 | uint64(k[5])<<16 | uint64(k[6])<<8 | uint64(k[7])
	}
	var p uint64
	for i := 0; i < len(k); i++ {
		p |= uint64(k[i]) << (56 - 8*i)
	}
	return p
}

func lessEntry(a, b *entry) bool {
	if a.pre != b.pre {
		return a.pre < b.pre
	}
	return a.k < b.k
}

// sortEntries sorts by key. Structs are small (a handful of fields), where an insertion
// sort on prefixes beats slices.SortFunc, whose comparison calls were a quarter of the
// encode; large ones take the general sort.
func sortEntries(es []entry) {
	if len(es) > 24 {
		slices.SortFunc(es, func(a, b entry) int {
			if a.pre != b.pre {
				return cmp.Compare(a.pre, b.pre)
			}
			return cmp.Compare(a.k, b.k)
		})
		return
	}
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && lessEntry(&es[j], &es[j-1]); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

type param struct{ k, v string }

// encoder holds the scratch of the two passes; see the comment above.
type encoder struct {
	sizes  []int
	pairs  []entry
	params []param
	si, pi int // read positions of the write pass
	// tooDeep is set by the size pass on a message nested deeper than maxDepth, which it
	// then stops descending into: such a message is refused, not encoded.
	tooDeep bool

	// frozen are the Values FreezeValue took; reuse says whether this call may copy their
	// bytes (untimed calls), reused whether it did.
	frozen        []frozenValue
	reuse, reused bool
}

// maxDepth is protobuf-go's recursion limit: the encoder refuses what no decoder would
// accept, and recursion on a hostile Value stops there instead of at the stack's end.
// Depth counts messages as protobuf-go does, the outermost one and map entries included.
const maxDepth = protowire.DefaultRecursionLimit

func errTooDeep(msg string) error {
	return fmt.Errorf("wire: encode %s: messages nested deeper than %d levels (protobuf-go's recursion limit)", msg, maxDepth)
}

func (e *encoder) reset() {
	e.sizes = e.sizes[:0]
	// Drop the references so the scratch does not keep the last message alive.
	clear(e.pairs)
	e.pairs = e.pairs[:0]
	clear(e.params)
	e.params = e.params[:0]
	e.si, e.pi = 0, 0
	e.tooDeep = false
	e.reused = false
}

func sov(x int) int { return protohelpers.SizeOfVarint(uint64(x)) }

// SizeVarint is the encoded size of x as a varint.
func SizeVarint(x uint64) int { return protohelpers.SizeOfVarint(x) }

// LenField is the encoded size of a length-delimited field of n bytes with a 1-byte tag.
// LenField and the Append functions are shared by every hand-written encoder of these
// messages (wiremap's Direct too).
func LenField(n int) int {
	if uint(n) < 0x80 {
		return n + 2
	}
	return 1 + sov(n) + n
}

// AppendVarint appends v as a varint.
func AppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendString appends a length-delimited string field with a 1-byte tag.
func AppendString(b []byte, tag byte, s string) []byte {
	b = append(b, tag)
	if len(s) < 0x80 {
		b = append(b, byte(len(s)))
	} else {
		b = AppendVarint(b, uint64(len(s)))
	}
	return append(b, s...)
}

// AppendLen appends a 1-byte tag and the length n of the field body that follows.
func AppendLen(b []byte, tag byte, n int) []byte {
	b = append(b, tag)
	if n < 0x80 {
		return append(b, byte(n))
	}
	return AppendVarint(b, uint64(n))
}

// vtSized is the generated code of a map-free message.
type vtSized interface {
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
}

// appendVT appends m, whose size is n, with the generated code (it writes backwards into
// exactly n bytes, which the size pass reserved in b's capacity).
func appendVT(b []byte, m vtSized, n int) ([]byte, error) {
	end := len(b) + n
	if _, err := m.MarshalToSizedBufferVT(b[len(b):end]); err != nil {
		return nil, err
	}
	return b[:end], nil
}

func (e *encoder) push() int {
	e.sizes = append(e.sizes, 0)
	return len(e.sizes) - 1
}

func (e *encoder) pop() int {
	n := e.sizes[e.si]
	e.si++
	return n
}

// sizeValue returns the size of v's body and records it (and its children's) in pre-order;
// depth is v's, counted as maxDepth counts.
func (e *encoder) sizeValue(v *structpb.Value, depth int) int {
	if depth > maxDepth {
		e.tooDeep = true
		return 0
	}
	slot := e.push()
	var n int
	switch k := v.Kind.(type) {
	case *structpb.Value_NullValue:
		n = 1 + sov(int(k.NullValue))
	case *structpb.Value_NumberValue:
		n = 9
	case *structpb.Value_StringValue:
		n = LenField(len(k.StringValue))
	case *structpb.Value_BoolValue:
		n = 2
	case *structpb.Value_StructValue:
		if k.StructValue != nil {
			n = LenField(e.sizeStruct(k.StructValue, depth+1))
		}
	case *structpb.Value_ListValue:
		if k.ListValue != nil {
			n = LenField(e.sizeList(k.ListValue, depth+1))
		}
	}
	e.sizes[slot] = n
	return n
}

func (e *encoder) sizeStruct(s *structpb.Struct, depth int) int {
	if depth > maxDepth {
		e.tooDeep = true
		return 0
	}
	slot := e.push()
	start := len(e.pairs)
	for k, v := range s.Fields {
		e.pairs = append(e.pairs, entry{keyPrefix(k), k, v})
	}
	end := len(e.pairs)
	sortEntries(e.pairs[start:end])
	n := 0
	for i := start; i < end; i++ {
		// Index afresh each time: a nested Struct may grow (and so move) e.pairs.
		p := e.pairs[i]
		vn := 0
		if p.v != nil {
			vn = e.sizeValue(p.v, depth+2) // inside its map entry
		}
		n += LenField(LenField(len(p.k)) + LenField(vn))
	}
	e.sizes[slot] = n
	return n
}

func (e *encoder) sizeList(l *structpb.ListValue, depth int) int {
	if depth > maxDepth {
		e.tooDeep = true
		return 0
	}
	slot := e.push()
	n := 0
	for _, v := range l.Values {
		vn := 0
		if v != nil {
			vn = e.sizeValue(v, depth+1)
		}
		n += LenField(vn)
	}
	e.sizes[slot] = n
	return n
}

// appendValue appends v as field tag; its size is the next one recorded.
func (e *encoder) appendValue(b []byte, tag byte, v *structpb.Value) []byte {
	b = AppendLen(b, tag, e.pop())
	switch k := v.Kind.(type) {
	case *structpb.Value_NullValue:
		b = append(b, 0x8)
		b = AppendVarint(b, uint64(k.NullValue))
	case *structpb.Value_NumberValue:
		b = append(b, 0x11)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(k.NumberValue))
	case *structpb.Value_StringValue:
		b = AppendString(b, 0x1a, k.StringValue)
	case *structpb.Value_BoolValue:
		if k.BoolValue {
			b = append(b, 0x20, 1)
		} else {
			b = append(b, 0x20, 0)
		}
	case *structpb.Value_StructValue:
		if k.StructValue != nil {
			b = e.appendStruct(b, 0x2a, k.StructValue)
		}
	case *structpb.Value_ListValue:
		if k.ListValue != nil {
			b = AppendLen(b, 0x32, e.pop())
			for _, v := range k.ListValue.Values {
				if v != nil {
					b = e.appendValue(b, 0xa, v)
				} else {
					b = append(b, 0xa, 0)
				}
			}
		}
	}
	return b
}

func (e *encoder) appendStruct(b []byte, tag byte, s *structpb.Struct) []byte {
	b = AppendLen(b, tag, e.pop())
	start, end := e.pi, e.pi+len(s.Fields)
	e.pi = end
	for i := start; i < end; i++ {
		p := e.pairs[i]
		if p.v == nil {
			// A nil Value is written as an empty one, as the generated code does.
			b = AppendLen(b, 0xa, LenField(len(p.k))+2)
			b = AppendString(b, 0xa, p.k)
			b = append(b, 0x12, 0)
			continue
		}
		vn := e.sizes[e.si] // appendValue pops it
		b = AppendLen(b, 0xa, LenField(len(p.k))+LenField(vn))
		b = AppendString(b, 0xa, p.k)
		b = e.appendValue(b, 0x12, p.v)
	}
	return b
}

// sizeTaskAssignment is the size pass over m; it also records the execute request's size.
func (e *encoder) sizeTaskAssignment(m *pb.TaskAssignment) int {
	n := 0
	if l := len(m.TaskId); l > 0 {
		n += LenField(l)
	}
	if m.Context != nil {
		n += LenField(m.Context.SizeVT())
	}
	if m.HeartbeatIntervalSecs != 0 {
		n += 1 + sov(int(m.HeartbeatIntervalSecs))
	}
	switch t := m.Task.(type) {
	case *pb.TaskAssignment_Execute:
		if t.Execute != nil {
			n += LenField(e.sizeExecute(t.Execute))
		}
	case *pb.TaskAssignment_ListComponents:
		if t.ListComponents != nil {
			n += LenField(t.ListComponents.SizeVT())
		}
	}
	return n + len(unknown(m, offAssignment))
}

func (e *encoder) sizeExecute(m *pb.ComponentExecuteRequest) int {
	slot := e.push()
	n := 0
	if l := len(m.ComponentId); l > 0 {
		n += LenField(l)
	}
	if m.Input != nil {
		n += LenField(e.sizeTopValue(m.Input))
	}
	if m.Attempt != 0 {
		n += 1 + sov(int(m.Attempt))
	}
	if m.Observability != nil {
		n += LenField(m.Observability.SizeVT())
	}
	for k, v := range m.PathParams {
		e.params = append(e.params, param{k, v})
		n += LenField(LenField(len(k)) + LenField(len(v)))
	}
	slices.SortFunc(e.params, func(a, b param) int { return cmp.Compare(a.k, b.k) })
	n += len(unknown(m, offExecute))
	e.sizes[slot] = n
	return n
}

func (e *encoder) appendTaskAssignment(b []byte, m *pb.TaskAssignment) ([]byte, error) {
	var err error
	if len(m.TaskId) > 0 {
		b = AppendString(b, 0xa, m.TaskId)
	}
	if m.Context != nil {
		n := m.Context.SizeVT()
		if b, err = appendVT(AppendLen(b, 0x22, n), m.Context, n); err != nil {
			return nil, err
		}
	}
	if m.HeartbeatIntervalSecs != 0 {
		b = AppendVarint(append(b, 0x28), uint64(m.HeartbeatIntervalSecs))
	}
	switch t := m.Task.(type) {
	case *pb.TaskAssignment_Execute:
		if t.Execute != nil {
			if b, err = e.appendExecute(b, t.Execute); err != nil {
				return nil, err
			}
		}
	case *pb.TaskAssignment_ListComponents:
		if t.ListComponents != nil {
			n := t.ListComponents.SizeVT()
			if b, err = appendVT(AppendLen(b, 0x1a, n), t.ListComponents, n); err != nil {
				return nil, err
			}
		}
	}
	return append(b, unknown(m, offAssignment)...), nil
}

func (e *encoder) appendExecute(b []byte, m *pb.ComponentExecuteRequest) ([]byte, error) {
	var err error
	b = AppendLen(b, 0x12, e.pop())
	if len(m.ComponentId) > 0 {
		b = AppendString(b, 0xa, m.ComponentId)
	}
	if m.Input != nil {
		b = e.appendTopValue(b, 0x12, m.Input)
	}
	if m.Attempt != 0 {
		b = AppendVarint(append(b, 0x18), uint64(m.Attempt))
	}
	if m.Observability != nil {
		n := m.Observability.SizeVT()
		if b, err = appendVT(AppendLen(b, 0x22, n), m.Observability, n); err != nil {
			return nil, err
		}
	}
	for _, p := range e.params {
		b = AppendLen(b, 0x2a, LenField(len(p.k))+LenField(len(p.v)))
		b = AppendString(b, 0xa, p.k)
		b = AppendString(b, 0x12, p.v)
	}
	return append(b, unknown(m, offExecute)...), nil
}

// sizeCompleteTaskRequest is the size pass over m.
func (e *encoder) sizeCompleteTaskRequest(m *pb.CompleteTaskRequest) int {
	n := 0
	if l := len(m.TaskId); l > 0 {
		n += LenField(l)
	}
	if m.RunId != nil {
		n += LenField(len(*m.RunId))
	}
	switch r := m.Result.(type) {
	case *pb.CompleteTaskRequest_Response:
		if r.Response != nil {
			slot := e.push()
			rn := 0
			if r.Response.Output != nil {
				rn = LenField(e.sizeTopValue(r.Response.Output))
			}
			rn += len(unknown(r.Response, offResponse))
			e.sizes[slot] = rn
			n += LenField(rn)
		}
	case *pb.CompleteTaskRequest_Error:
		if r.Error != nil {
			slot := e.push()
			en := 0
			if r.Error.Code != 0 {
				en += 1 + sov(int(r.Error.Code))
			}
			if l := len(r.Error.Message); l > 0 {
				en += LenField(l)
			}
			if r.Error.Data != nil {
				en += LenField(e.sizeStruct(r.Error.Data, 3))
			}
			en += len(unknown(r.Error, offTaskError))
			e.sizes[slot] = en
			n += LenField(en)
		}
	case *pb.CompleteTaskRequest_ListComponents:
		if r.ListComponents != nil {
			n += LenField(r.ListComponents.SizeVT())
		}
	}
	return n + len(unknown(m, offComplete))
}

func (e *encoder) appendCompleteTaskRequest(b []byte, m *pb.CompleteTaskRequest) ([]byte, error) {
	var err error
	if len(m.TaskId) > 0 {
		b = AppendString(b, 0xa, m.TaskId)
	}
	if m.RunId != nil {
		b = AppendString(b, 0x22, *m.RunId)
	}
	switch r := m.Result.(type) {
	case *pb.CompleteTaskRequest_Response:
		if r.Response != nil {
			b = AppendLen(b, 0x12, e.pop())
			if r.Response.Output != nil {
				b = e.appendTopValue(b, 0xa, r.Response.Output)
			}
			b = append(b, unknown(r.Response, offResponse)...)
		}
	case *pb.CompleteTaskRequest_Error:
		if r.Error != nil {
			b = AppendLen(b, 0x1a, e.pop())
			if r.Error.Code != 0 {
				b = AppendVarint(append(b, 0x8), uint64(r.Error.Code))
			}
			if len(r.Error.Message) > 0 {
				b = AppendString(b, 0x12, r.Error.Message)
			}
			if r.Error.Data != nil {
				b = e.appendStruct(b, 0x1a, r.Error.Data)
			}
			b = append(b, unknown(r.Error, offTaskError)...)
		}
	case *pb.CompleteTaskRequest_ListComponents:
		if r.ListComponents != nil {
			n := r.ListComponents.SizeVT()
			if b, err = appendVT(AppendLen(b, 0x2a, n), r.ListComponents, n); err != nil {
				return nil, err
			}
		}
	}
	return append(b, unknown(m, offComplete)...), nil
}
