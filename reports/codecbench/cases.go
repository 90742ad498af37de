// Package codecbench measures what encoding and decoding the Stepflow v1 task messages
// costs, for each codec a Go orchestrator or worker could use, beside the simulator's own
// (model/wire) and a plain memmove of the same bytes as the floor. The suite is data, a
// list of Cases, run both by `go test -bench` (see BenchmarkCodec) and by
// `tasksim bench codec` through Run. Reports keep every sample so that Compare can gate
// CI on a statistically significant slowdown, as benchstat would judge it.
package codecbench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
)

// Op is the direction of a measurement.
type Op string

const (
	Encode Op = "encode"
	Decode Op = "decode"
)

// The variants, as codec.json names them.
const (
	// VariantProto is proto.Marshal / proto.Unmarshal into a new message.
	VariantProto = "proto"
	// VariantProtoAppend is proto.MarshalOptions{Deterministic: true}.MarshalAppend into a
	// reused buffer: protobuf-go's way of doing what the simulator needs (stable bytes
	// for messages with maps, no new buffer per message).
	VariantProtoAppend = "proto-append"
	// VariantVTProto is vtprotobuf's generated code: SizeVT then MarshalToSizedBufferVT
	// into a reused buffer; UnmarshalVT into a message from its pool.
	VariantVTProto = "vtproto"
	// VariantVTProtoUnsafe is UnmarshalVTUnsafe into a pooled message: strings alias the
	// input instead of being copied. Decode only.
	VariantVTProtoUnsafe = "vtproto-unsafe"
	// VariantProtojson is protojson.Marshal / Unmarshal: what a user might pick instead.
	VariantProtojson = "protojson"
	// VariantMemmove copies the encoded bytes: no codec can beat it.
	VariantMemmove = "memmove"
	// VariantWire is the simulator's Codec (model/wire), its sim path.
	VariantWire = wire.SimVariant
)

// Variants lists every variant in the order tables and plots show them.
var Variants = []string{VariantProto, VariantProtoAppend, VariantVTProto, VariantVTProtoUnsafe,
	VariantProtojson, VariantWire, VariantMemmove}

// Case is one measurement: a message, its payload size, a direction and a variant.
type Case struct {
	Message      string // full name, e.g. stepflow.v1.TaskHeartbeatRequest
	PayloadBytes int    // size of the Value the message carries; 0 for messages without one
	Op           Op
	Variant      string
	SimPath      bool // the variant the simulator runs
	// WireBytes is the message's protobuf size: MB/s is counted on it for every variant
	// (protojson included), so that MB/s compares messages per second across variants.
	WireBytes int

	setup func() (*state, error)
}

// state is a case ready to run: op does n encodes or decodes (the loop is inside it so
// that measuring a 20ns codec does not also measure a call per iteration); last returns
// the most recent result ([]byte or proto.Message), for the tests to check.
type state struct {
	op   func(n int) error
	last func() any
}

// Name is the case's name below BenchmarkCodec, e.g. TaskHeartbeatRequest/encode/vtproto
// or TaskAssignment/16KiB/decode/wire.
func (c Case) Name() string {
	short := c.Message[strings.LastIndexByte(c.Message, '.')+1:]
	if c.PayloadBytes > 0 {
		return fmt.Sprintf("%s/%s/%s/%s", short, FormatSize(c.PayloadBytes), c.Op, c.Variant)
	}
	return fmt.Sprintf("%s/%s/%s", short, c.Op, c.Variant)
}

// Bench runs the case as a Go benchmark.
func (c Case) Bench(b *testing.B) {
	s, err := c.setup()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(c.WireBytes))
	b.ResetTimer()
	if err := s.op(b.N); err != nil {
		b.Fatal(err)
	}
}

// vtMessage is what vtprotobuf generates for a message with the pool feature.
type vtMessage[T any] interface {
	*T
	proto.Message
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
	UnmarshalVT([]byte) error
	UnmarshalVTUnsafe([]byte) error
	ReturnToVTPool()
}

// messageSpec binds one message type to its generated pool and to the Codec's typed
// methods, so that every case calls the code a user of that variant would.
type messageSpec[T any, P vtMessage[T]] struct {
	msg      P
	payload  int
	fromPool func() P
	encode   func(*wire.Codec, P) ([]byte, error)
	decode   func(*wire.Codec, []byte) (P, error)
}

// Cases returns the suite for the given payload sizes (512 and 16384 if none): every
// variant of encoding and decoding TaskAssignment and CompleteTaskRequest at each payload
// size, and TaskHeartbeatRequest and TaskHeartbeatResponse.
func Cases(payloads []int) ([]Case, error) {
	if len(payloads) == 0 {
		payloads = DefaultPayloads
	}
	var cs []Case
	for _, p := range payloads {
		if p <= 0 {
			return nil, fmt.Errorf("codecbench: payload size %d: must be positive", p)
		}
	}
	small := wire.SampleMessages(0)
	add := func(more []Case, err error) error {
		cs = append(cs, more...)
		return err
	}
	for _, p := range payloads {
		m := wire.SampleMessages(p)
		if err := add(messageCases(messageSpec[pb.TaskAssignment, *pb.TaskAssignment]{m.TaskAssignment, p,
			pb.TaskAssignmentFromVTPool, (*wire.Codec).EncodeTaskAssignment, (*wire.Codec).DecodeTaskAssignment})); err != nil {
			return nil, err
		}
	}
	if err := add(messageCases(messageSpec[pb.TaskHeartbeatRequest, *pb.TaskHeartbeatRequest]{small.TaskHeartbeatRequest, 0,
		pb.TaskHeartbeatRequestFromVTPool, (*wire.Codec).EncodeTaskHeartbeatRequest, (*wire.Codec).DecodeTaskHeartbeatRequest})); err != nil {
		return nil, err
	}
	if err := add(messageCases(messageSpec[pb.TaskHeartbeatResponse, *pb.TaskHeartbeatResponse]{small.TaskHeartbeatResponse, 0,
		pb.TaskHeartbeatResponseFromVTPool, (*wire.Codec).EncodeTaskHeartbeatResponse, (*wire.Codec).DecodeTaskHeartbeatResponse})); err != nil {
		return nil, err
	}
	for _, p := range payloads {
		m := wire.SampleMessages(p)
		if err := add(messageCases(messageSpec[pb.CompleteTaskRequest, *pb.CompleteTaskRequest]{m.CompleteTaskRequest, p,
			pb.CompleteTaskRequestFromVTPool, (*wire.Codec).EncodeCompleteTaskRequest, (*wire.Codec).DecodeCompleteTaskRequest})); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// DefaultPayloads are the Value sizes measured when none are given: a typical small
// component input and a large one.
var DefaultPayloads = []int{512, 16 << 10}

func messageCases[T any, P vtMessage[T]](s messageSpec[T, P]) ([]Case, error) {
	name := string(s.msg.ProtoReflect().Descriptor().FullName())
	wireBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(s.msg)
	if err != nil {
		return nil, fmt.Errorf("codecbench: encode sample %s: %w", name, err)
	}
	jsonBytes, err := protojson.Marshal(s.msg)
	if err != nil {
		return nil, fmt.Errorf("codecbench: encode sample %s as JSON: %w", name, err)
	}
	mk := func(op Op, variant string, setup func() (*state, error)) Case {
		return Case{Message: name, PayloadBytes: s.payload, Op: op, Variant: variant,
			SimPath: variant == VariantWire, WireBytes: len(wireBytes), setup: setup}
	}
	memmove := func() (*state, error) {
		dst := make([]byte, len(wireBytes))
		return &state{
			op: func(n int) error {
				for range n {
					copy(dst, wireBytes)
				}
				return nil
			},
			last: func() any { return dst },
		}, nil
	}
	return []Case{
		mk(Encode, VariantProto, func() (*state, error) {
			var out []byte
			return &state{
				op: func(n int) (err error) {
					for range n {
						if out, err = proto.Marshal(s.msg); err != nil {
							return err
						}
					}
					return nil
				},
				last: func() any { return out },
			}, nil
		}),
		mk(Encode, VariantProtoAppend, func() (*state, error) {
			var buf []byte
			opts := proto.MarshalOptions{Deterministic: true}
			return &state{
				op: func(n int) (err error) {
					for range n {
						if buf, err = opts.MarshalAppend(buf[:0], s.msg); err != nil {
							return err
						}
					}
					return nil
				},
				last: func() any { return buf },
			}, nil
		}),
		mk(Encode, VariantVTProto, func() (*state, error) {
			var buf, out []byte
			return &state{
				op: func(n int) error {
					for range n {
						size := s.msg.SizeVT()
						if cap(buf) < size {
							buf = make([]byte, size)
						}
						w, err := s.msg.MarshalToSizedBufferVT(buf[:size])
						if err != nil {
							return err
						}
						out = buf[size-w : size]
					}
					return nil
				},
				last: func() any { return out },
			}, nil
		}),
		mk(Encode, VariantProtojson, func() (*state, error) {
			var out []byte
			return &state{
				op: func(n int) (err error) {
					for range n {
						if out, err = protojson.Marshal(s.msg); err != nil {
							return err
						}
					}
					return nil
				},
				last: func() any { return out },
			}, nil
		}),
		mk(Encode, VariantWire, func() (*state, error) {
			c := wire.NewCodec()
			var out []byte
			return &state{
				op: func(n int) (err error) {
					for range n {
						if out, err = s.encode(c, s.msg); err != nil {
							return err
						}
					}
					return nil
				},
				last: func() any { return out },
			}, nil
		}),
		mk(Encode, VariantMemmove, memmove),

		mk(Decode, VariantProto, func() (*state, error) {
			var m P
			return &state{
				op: func(n int) error {
					for range n {
						m = new(T)
						if err := proto.Unmarshal(wireBytes, m); err != nil {
							return err
						}
					}
					return nil
				},
				last: func() any { return m },
			}, nil
		}),
		mk(Decode, VariantVTProto, func() (*state, error) {
			var m P
			return &state{
				op: func(n int) error {
					for range n {
						m.ReturnToVTPool() // the previous result; kept until now for the tests
						m = s.fromPool()
						if err := m.UnmarshalVT(wireBytes); err != nil {
							return err
						}
					}
					return nil
				},
				last: func() any { return m },
			}, nil
		}),
		mk(Decode, VariantVTProtoUnsafe, func() (*state, error) {
			var m P
			return &state{
				op: func(n int) error {
					for range n {
						m.ReturnToVTPool()
						m = s.fromPool()
						if err := m.UnmarshalVTUnsafe(wireBytes); err != nil {
							return err
						}
					}
					return nil
				},
				last: func() any { return m },
			}, nil
		}),
		mk(Decode, VariantProtojson, func() (*state, error) {
			var m P
			return &state{
				op: func(n int) error {
					for range n {
						m = new(T)
						if err := protojson.Unmarshal(jsonBytes, m); err != nil {
							return err
						}
					}
					return nil
				},
				last: func() any { return m },
			}, nil
		}),
		mk(Decode, VariantWire, func() (*state, error) {
			c := wire.NewCodec()
			var m P
			return &state{
				op: func(n int) (err error) {
					for range n {
						if m, err = s.decode(c, wireBytes); err != nil {
							return err
						}
					}
					return nil
				},
				last: func() any { return m },
			}, nil
		}),
		mk(Decode, VariantMemmove, memmove),
	}, nil
}

// FormatSize writes a byte count the way --payload takes it: 512B, 16KiB, 1MiB.
func FormatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	default:
		return strconv.Itoa(n) + "B"
	}
}

// ParseSizes parses a comma-separated list of sizes such as "512B,16KiB" (units B, KiB,
// MiB, KB, MB; a bare number is bytes), for the --payload flag.
func ParseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := parseSize(f)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("codecbench: no sizes in %q", s)
	}
	return out, nil
}

func parseSize(s string) (int, error) {
	units := []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1000 * 1000}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}}
	num, mult := s, 1
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			num, mult = s[:len(s)-len(u.suffix)], u.mult
			break
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("codecbench: size %q: want a positive number with an optional unit (B, KiB, MiB)", s)
	}
	return n * mult, nil
}

// rowKey identifies a measurement across reports.
type rowKey struct {
	message string
	payload int
	op      Op
	variant string
}

func variantIndex(v string) int {
	if i := slices.Index(Variants, v); i >= 0 {
		return i
	}
	return len(Variants)
}
