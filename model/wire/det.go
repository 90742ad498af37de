package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/planetscale/vtprotobuf/protohelpers"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

// This file is vtprotobuf's MarshalToSizedBufferVT for the two messages that hold maps
// (ComponentExecuteRequest.path_params, and google.protobuf.Struct inside every Value),
// with one change: map entries are written in sorted key order. The generated code ranges
// over the Go map, so its bytes differ from run to run, and the trace hash covers message
// bytes. Fields are also written in protobuf-go's order (fields outside a oneof by number,
// then the oneof, then unknown fields; the generated code puts a oneof among the others),
// so the output is byte-identical to proto.MarshalOptions{Deterministic: true} and a
// switch between the two leaves trace hashes unchanged. Map-free submessages use the
// generated code.
//
// Like the generated code, it writes backwards from the end of a buffer sized by SizeVT,
// so nested lengths come from what was written and no submessage is sized twice. It
// skips unknown fields inside Value/Struct/ListValue because vtprotobuf's SizeVT and
// Unmarshal for those well-known types ignore them too; the sizes must agree.

// encoder holds the scratch of the sorted-map writer. keys is a stack: each Struct
// pushes its keys above its parent's, sorts its own range, and pops them when done, so
// one slice serves any nesting depth without allocating once it has grown.
type encoder struct {
	keys []string
}

func putString(b []byte, i int, tag byte, s string) int {
	i -= len(s)
	copy(b[i:], s)
	i = protohelpers.EncodeVarint(b, i, uint64(len(s)))
	i--
	b[i] = tag
	return i
}

// putLen writes the length prefix and tag of a submessage already written at b[i:end].
func putLen(b []byte, i, end int, tag byte) int {
	i = protohelpers.EncodeVarint(b, i, uint64(end-i))
	i--
	b[i] = tag
	return i
}

func putUnknown(b []byte, i int, raw []byte) int {
	i -= len(raw)
	copy(b[i:], raw)
	return i
}

// vtSized is what the generated code offers for a map-free message.
type vtSized interface {
	MarshalToSizedBufferVT([]byte) (int, error)
}

func putVT(b []byte, i int, tag byte, m vtSized) (int, error) {
	n, err := m.MarshalToSizedBufferVT(b[:i])
	if err != nil {
		return 0, err
	}
	i -= n
	i = protohelpers.EncodeVarint(b, i, uint64(n))
	i--
	b[i] = tag
	return i, nil
}

func (e *encoder) taskAssignment(b []byte, i int, m *pb.TaskAssignment) (int, error) {
	var err error
	i = putUnknown(b, i, m.ProtoReflect().GetUnknown())
	switch t := m.Task.(type) {
	case *pb.TaskAssignment_ListComponents:
		if t.ListComponents != nil {
			if i, err = putVT(b, i, 0x1a, t.ListComponents); err != nil {
				return 0, err
			}
		}
	case *pb.TaskAssignment_Execute:
		if t.Execute != nil {
			end := i
			i = e.execute(b, i, t.Execute)
			i = putLen(b, i, end, 0x12)
		}
	}
	if m.HeartbeatIntervalSecs != 0 {
		i = protohelpers.EncodeVarint(b, i, uint64(m.HeartbeatIntervalSecs))
		i--
		b[i] = 0x28
	}
	if m.Context != nil {
		if i, err = putVT(b, i, 0x22, m.Context); err != nil {
			return 0, err
		}
	}
	if len(m.TaskId) > 0 {
		i = putString(b, i, 0xa, m.TaskId)
	}
	return i, nil
}

func (e *encoder) execute(b []byte, i int, m *pb.ComponentExecuteRequest) int {
	i = putUnknown(b, i, m.ProtoReflect().GetUnknown())
	if len(m.PathParams) > 0 {
		base := len(e.keys)
		for k := range m.PathParams {
			e.keys = append(e.keys, k)
		}
		slices.Sort(e.keys[base:])
		for j := len(e.keys) - 1; j >= base; j-- {
			k := e.keys[j]
			end := i
			i = putString(b, i, 0x12, m.PathParams[k])
			i = putString(b, i, 0xa, k)
			i = putLen(b, i, end, 0x2a)
		}
		clear(e.keys[base:])
		e.keys = e.keys[:base]
	}
	if m.Observability != nil {
		// ObservabilityContext has no map; the generated code is already deterministic
		// and cannot fail.
		i, _ = putVT(b, i, 0x22, m.Observability)
	}
	if m.Attempt != 0 {
		i = protohelpers.EncodeVarint(b, i, uint64(m.Attempt))
		i--
		b[i] = 0x18
	}
	if m.Input != nil {
		end := i
		i = e.value(b, i, m.Input)
		i = putLen(b, i, end, 0x12)
	}
	if len(m.ComponentId) > 0 {
		i = putString(b, i, 0xa, m.ComponentId)
	}
	return i
}

func (e *encoder) value(b []byte, i int, v *structpb.Value) int {
	switch k := v.Kind.(type) {
	case *structpb.Value_NullValue:
		i = protohelpers.EncodeVarint(b, i, uint64(k.NullValue))
		i--
		b[i] = 0x8
	case *structpb.Value_NumberValue:
		i -= 8
		binary.LittleEndian.PutUint64(b[i:], math.Float64bits(k.NumberValue))
		i--
		b[i] = 0x11
	case *structpb.Value_StringValue:
		i = putString(b, i, 0x1a, k.StringValue)
	case *structpb.Value_BoolValue:
		i--
		if k.BoolValue {
			b[i] = 1
		} else {
			b[i] = 0
		}
		i--
		b[i] = 0x20
	case *structpb.Value_StructValue:
		if k.StructValue != nil {
			end := i
			i = e.structFields(b, i, k.StructValue)
			i = putLen(b, i, end, 0x2a)
		}
	case *structpb.Value_ListValue:
		if k.ListValue != nil {
			end := i
			i = e.list(b, i, k.ListValue)
			i = putLen(b, i, end, 0x32)
		}
	}
	return i
}

func (e *encoder) list(b []byte, i int, l *structpb.ListValue) int {
	for j := len(l.Values) - 1; j >= 0; j-- {
		end := i
		if v := l.Values[j]; v != nil {
			i = e.value(b, i, v)
		}
		i = putLen(b, i, end, 0xa)
	}
	return i
}

func (e *encoder) structFields(b []byte, i int, s *structpb.Struct) int {
	if len(s.Fields) == 0 {
		return i
	}
	base := len(e.keys)
	for k := range s.Fields {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys[base:])
	top := len(e.keys)
	for j := top - 1; j >= base; j-- {
		// Index e.keys afresh each time: a nested Struct may grow (and so move) the slice.
		k := e.keys[j]
		end := i
		if v := s.Fields[k]; v != nil {
			vend := i
			i = e.value(b, i, v)
			i = putLen(b, i, vend, 0x12)
		} else {
			// A nil Value is written as an empty one, as the generated code does.
			i = putLen(b, i, i, 0x12)
		}
		i = putString(b, i, 0xa, k)
		i = putLen(b, i, end, 0xa)
	}
	clear(e.keys[base:top])
	e.keys = e.keys[:base]
	return i
}

func (e *encoder) completeTaskRequest(b []byte, i int, m *pb.CompleteTaskRequest) (int, error) {
	var err error
	i = putUnknown(b, i, m.ProtoReflect().GetUnknown())
	switch r := m.Result.(type) {
	case *pb.CompleteTaskRequest_ListComponents:
		if r.ListComponents != nil {
			if i, err = putVT(b, i, 0x2a, r.ListComponents); err != nil {
				return 0, err
			}
		}
	case *pb.CompleteTaskRequest_Error:
		if r.Error != nil {
			end := i
			i = e.taskError(b, i, r.Error)
			i = putLen(b, i, end, 0x1a)
		}
	case *pb.CompleteTaskRequest_Response:
		if r.Response != nil {
			end := i
			i = putUnknown(b, i, r.Response.ProtoReflect().GetUnknown())
			if r.Response.Output != nil {
				vend := i
				i = e.value(b, i, r.Response.Output)
				i = putLen(b, i, vend, 0xa)
			}
			i = putLen(b, i, end, 0x12)
		}
	}
	if m.RunId != nil {
		i = putString(b, i, 0x22, *m.RunId)
	}
	if len(m.TaskId) > 0 {
		i = putString(b, i, 0xa, m.TaskId)
	}
	return i, nil
}

func (e *encoder) taskError(b []byte, i int, m *pb.TaskError) int {
	i = putUnknown(b, i, m.ProtoReflect().GetUnknown())
	if m.Data != nil {
		end := i
		i = e.structFields(b, i, m.Data)
		i = putLen(b, i, end, 0x1a)
	}
	if len(m.Message) > 0 {
		i = putString(b, i, 0x12, m.Message)
	}
	if m.Code != 0 {
		i = protohelpers.EncodeVarint(b, i, uint64(m.Code))
		i--
		b[i] = 0x8
	}
	return i
}

// errSize reports a disagreement between SizeVT and what was written; it would mean the
// sorted writer drifted from the generated code it mirrors.
func errSize(msg string, size, wrote int) error {
	return fmt.Errorf("wire: encode %s: SizeVT said %d bytes, wrote %d", msg, size, wrote)
}
