// Package wiretest holds what the tests of model/wire and the codec benchmark's share:
// the codecs by the bench's variant names and the messages they are checked on (every
// sample plus every oneof case, Value kind, empty field and unknown field).
package wiretest

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
)

// The codecs under test, by the bench's variant names. They are spelled out here rather
// than taken from reports/codecbench, which imports model/wire.

type EncodeFunc func(m proto.Message) ([]byte, error)

// DecodeFunc decodes b as a message of the same type as tmpl.
type DecodeFunc func(tmpl proto.Message, b []byte) (proto.Message, error)

type vtCodec interface {
	proto.Message
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
	UnmarshalVT([]byte) error
	UnmarshalVTUnsafe([]byte) error
}

// Encoders are the encoders by variant name: protojson too.
func Encoders() map[string]EncodeFunc {
	c := wire.NewCodec()
	var buf []byte
	return map[string]EncodeFunc{
		"proto": func(m proto.Message) ([]byte, error) { return proto.Marshal(m) },
		"proto-append": func(m proto.Message) ([]byte, error) {
			var err error
			buf, err = proto.MarshalOptions{Deterministic: true}.MarshalAppend(buf[:0], m)
			return buf, err
		},
		"vtproto": func(m proto.Message) ([]byte, error) {
			v := m.(vtCodec)
			b := make([]byte, v.SizeVT())
			n, err := v.MarshalToSizedBufferVT(b)
			return b[len(b)-n:], err
		},
		"protojson": func(m proto.Message) ([]byte, error) { return protojson.Marshal(m) },
		wire.SimVariant: func(m proto.Message) ([]byte, error) {
			b, err := c.Encode(m)
			// The Codec's buffer is reused; the tests hold results across calls.
			return append([]byte(nil), b...), err
		},
	}
}

// BinaryDecoders are the decoders of protobuf bytes; protojson is paired separately.
func BinaryDecoders() map[string]DecodeFunc {
	c := wire.NewCodec()
	return map[string]DecodeFunc{
		"proto": func(tmpl proto.Message, b []byte) (proto.Message, error) {
			m := tmpl.ProtoReflect().New().Interface()
			return m, proto.Unmarshal(b, m)
		},
		"vtproto": func(tmpl proto.Message, b []byte) (proto.Message, error) {
			m := tmpl.ProtoReflect().New().Interface()
			return m, m.(vtCodec).UnmarshalVT(b)
		},
		"vtproto-unsafe": func(tmpl proto.Message, b []byte) (proto.Message, error) {
			m := tmpl.ProtoReflect().New().Interface()
			return m, m.(vtCodec).UnmarshalVTUnsafe(b)
		},
		wire.SimVariant: func(tmpl proto.Message, b []byte) (proto.Message, error) {
			return WireDecode(c, tmpl, b)
		},
	}
}

func ProtojsonDecode(tmpl proto.Message, b []byte) (proto.Message, error) {
	m := tmpl.ProtoReflect().New().Interface()
	return m, protojson.Unmarshal(b, m)
}

// WireDecode calls the Codec's typed Decode for tmpl's type.
func WireDecode(c *wire.Codec, tmpl proto.Message, b []byte) (proto.Message, error) {
	var (
		m   proto.Message
		err error
	)
	switch tmpl.(type) {
	case *stepflowpb.PullTasksRequest:
		m, err = c.DecodePullTasksRequest(b)
	case *stepflowpb.TaskAssignment:
		m, err = c.DecodeTaskAssignment(b)
	case *stepflowpb.TaskHeartbeatRequest:
		m, err = c.DecodeTaskHeartbeatRequest(b)
	case *stepflowpb.TaskHeartbeatResponse:
		m, err = c.DecodeTaskHeartbeatResponse(b)
	case *stepflowpb.CompleteTaskRequest:
		m, err = c.DecodeCompleteTaskRequest(b)
	case *stepflowpb.CompleteTaskResponse:
		m, err = c.DecodeCompleteTaskResponse(b)
	default:
		return nil, fmt.Errorf("no wire decoder for %T", tmpl)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DiscardUnknown clears unknown fields throughout a (mutable) message. vtprotobuf drops
// unknown fields inside google.protobuf.Value/Struct/ListValue while protobuf-go keeps
// them, so cross-codec comparisons of arbitrary bytes are made without them.
func DiscardUnknown(m protoreflect.Message) {
	if m.GetUnknown() != nil {
		m.SetUnknown(nil)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					DiscardUnknown(mv.Message())
					return true
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				for i := 0; i < v.List().Len(); i++ {
					DiscardUnknown(v.List().Get(i).Message())
				}
			}
		case fd.Message() != nil:
			DiscardUnknown(v.Message())
		}
		return true
	})
}

// EqualKnown is proto.Equal over known fields only; see DiscardUnknown.
func EqualKnown(a, b proto.Message) bool {
	a, b = proto.Clone(a), proto.Clone(b)
	DiscardUnknown(a.ProtoReflect())
	DiscardUnknown(b.ProtoReflect())
	return proto.Equal(a, b)
}

// Variety returns messages beyond SampleMessages that exercise every oneof case, every
// Value kind, empty and unset fields, and unknown fields.
func Variety() []proto.Message {
	str := func(s string) *string { return &s }
	withUnknown := &stepflowpb.TaskHeartbeatRequest{TaskId: "t"}
	// Field 99, varint 7: a field a newer Stepflow might add.
	withUnknown.ProtoReflect().SetUnknown(protoreflect.RawFields{0x98, 0x06, 0x07})
	allKinds, err := structpb.NewValue(map[string]any{
		"null": nil, "t": true, "f": false, "n": -1.5, "big": 1e300, "s": "ünïcödé",
		"empty_list": []any{}, "empty_struct": map[string]any{},
		"nested": []any{[]any{1.0, "x"}, map[string]any{"k": []any{nil}}},
	})
	if err != nil {
		panic(err)
	}
	return []proto.Message{
		&stepflowpb.PullTasksRequest{},
		&stepflowpb.TaskAssignment{},
		&stepflowpb.TaskAssignment{TaskId: "discovery",
			Task:    &stepflowpb.TaskAssignment_ListComponents{ListComponents: &stepflowpb.ListComponentsRequest{}},
			Context: &stepflowpb.TaskContext{}},
		&stepflowpb.TaskAssignment{TaskId: "kinds", Task: &stepflowpb.TaskAssignment_Execute{
			Execute: &stepflowpb.ComponentExecuteRequest{Input: allKinds, Observability: &stepflowpb.ObservabilityContext{},
				PathParams: map[string]string{"": "", "a": "", "b": "2", "aa": "x"}}}},
		&stepflowpb.TaskHeartbeatRequest{},
		withUnknown,
		// Ids that are not UUIDs, and a status too long for a one-byte length.
		&stepflowpb.TaskHeartbeatRequest{TaskId: "short", WorkerId: strings.Repeat("w", 37), RunId: str(strings.Repeat("r", 35)),
			StatusMessage: str(strings.Repeat("long status ", 20))},
		&stepflowpb.TaskHeartbeatResponse{ShouldAbort: true, Status: stepflowpb.TaskStatus_TASK_STATUS_ALREADY_CLAIMED},
		&stepflowpb.TaskHeartbeatResponse{Status: 42}, // an enum value from the future
		&stepflowpb.CompleteTaskRequest{TaskId: "err", Result: &stepflowpb.CompleteTaskRequest_Error{
			Error: &stepflowpb.TaskError{Code: stepflowpb.TaskErrorCode_TASK_ERROR_CODE_COMPONENT_FAILED,
				Message: "boom", Data: allKinds.GetStructValue()}}, RunId: str("")},
		&stepflowpb.CompleteTaskRequest{TaskId: "list", Result: &stepflowpb.CompleteTaskRequest_ListComponents{
			ListComponents: &stepflowpb.ListComponentsResult{Components: []*stepflowpb.ComponentInfo{
				{ComponentId: "a", Path: "/a", Description: str("d"), InputSchema: str("{}")}, {}}}}},
		&stepflowpb.CompleteTaskRequest{TaskId: "null-output", Result: &stepflowpb.CompleteTaskRequest_Response{
			Response: &stepflowpb.ComponentExecuteResponse{Output: structpb.NewNullValue()}}},
		&stepflowpb.CompleteTaskRequest{},
	}
}

// AllMessages is every sample at the given payloads plus the Variety.
func AllMessages(payloads ...int) []proto.Message {
	var ms []proto.Message
	for _, p := range payloads {
		ms = append(ms, wire.SampleMessages(p).All()...)
	}
	return append(ms, Variety()...)
}

// Describe names a message by its type and encoded size, for test failures.
func Describe(m proto.Message) string {
	return fmt.Sprintf("%s(%d B)", m.ProtoReflect().Descriptor().Name(), proto.Size(m))
}
