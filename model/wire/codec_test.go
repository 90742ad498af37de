package wire_test

import (
	"bytes"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
	"github.com/tasksim/tasksim/model/wire/wiretest"
)

var testPayloads = []int{0, 512, 16384}

func TestSampleValueSize(t *testing.T) {
	for _, n := range []int{0, 2, 10, 127, 128, 200, 512, 4096, 16384, 65536, 1 << 20} {
		v := wire.SampleValue(n)
		got := proto.Size(v)
		if diff := got - n; diff > 2 || diff < -8 {
			t.Errorf("SampleValue(%d) encodes to %d bytes", n, got)
		}
		if !proto.Equal(v, wire.SampleValue(n)) {
			t.Errorf("SampleValue(%d) is not deterministic", n)
		}
	}
}

func TestSampleMessages(t *testing.T) {
	m := wire.SampleMessages(512)
	for _, id := range []string{m.TaskAssignment.TaskId, m.TaskHeartbeatRequest.WorkerId, m.TaskHeartbeatRequest.GetRunId()} {
		if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[14] != '4' || id[18] != '-' || id[23] != '-' {
			t.Errorf("id %q is not a version-4 UUID string", id)
		}
	}
	if n := proto.Size(m.TaskAssignment.GetExecute().GetInput()); n != 512 {
		t.Errorf("assignment input is %d bytes, want 512", n)
	}
	if n := proto.Size(m.CompleteTaskRequest.GetResponse().GetOutput()); n != 512 {
		t.Errorf("completion output is %d bytes, want 512", n)
	}
	if len(m.All()) != 6 {
		t.Errorf("All() has %d messages, want 6", len(m.All()))
	}
	for _, msg := range m.All() {
		if !proto.Equal(msg, wire.SampleMessages(512).All()[indexOf(m.All(), msg)]) {
			t.Errorf("%s is not deterministic", wiretest.Describe(msg))
		}
	}
}

func indexOf(ms []proto.Message, m proto.Message) int {
	for i, x := range ms {
		if x == m {
			return i
		}
	}
	return -1
}

// The sim path must produce the bytes protobuf-go's deterministic mode produces: then the
// trace hash does not depend on map order, and does not change if one replaces the other.
func TestEncodeMatchesDeterministicProto(t *testing.T) {
	c := wire.NewCodec()
	for _, m := range wiretest.AllMessages(testPayloads...) {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatalf("%s: proto: %v", wiretest.Describe(m), err)
		}
		for range 5 { // map order differs between iterations; the bytes must not
			got, err := c.Encode(proto.Clone(m))
			if err != nil {
				t.Fatalf("%s: %v", wiretest.Describe(m), err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: encoding differs from deterministic proto\n got %x\nwant %x", wiretest.Describe(m), got, want)
			}
		}
	}
}

func TestEncodeRejectsOtherTypes(t *testing.T) {
	if _, err := wire.NewCodec().Encode(&stepflowpb.TaskContext{}); err == nil {
		t.Fatal("Encode(TaskContext) succeeded, want an error")
	}
}

// Every encoder paired with every decoder gives back a message equal to the original.
func TestRoundTripEveryVariant(t *testing.T) {
	encs, decs := wiretest.Encoders(), wiretest.BinaryDecoders()
	for _, m := range wiretest.AllMessages(testPayloads...) {
		for en, enc := range encs {
			b, err := enc(m)
			if err != nil {
				t.Fatalf("%s: encode %s: %v", wiretest.Describe(m), en, err)
			}
			if en == "protojson" {
				// JSON has no place for unknown fields.
				got, err := wiretest.ProtojsonDecode(m, b)
				if err != nil || !wiretest.EqualKnown(got, m) {
					t.Errorf("%s: protojson round trip: equal=%v err=%v", wiretest.Describe(m), wiretest.EqualKnown(got, m), err)
				}
				continue
			}
			for dn, dec := range decs {
				got, err := dec(m, b)
				if err != nil {
					t.Errorf("%s: encode %s, decode %s: %v", wiretest.Describe(m), en, dn, err)
					continue
				}
				if !proto.Equal(got, m) {
					t.Errorf("%s: encode %s, decode %s: message differs\n got %v\nwant %v", wiretest.Describe(m), en, dn, got, m)
				}
			}
		}
	}
}

func TestEncodeAllocatesNothing(t *testing.T) {
	c := wire.NewCodec()
	for _, m := range wiretest.AllMessages(testPayloads...) {
		if _, err := c.Encode(m); err != nil { // grows the buffer
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(50, func() { _, _ = c.Encode(m) }); n != 0 {
			t.Errorf("%s: %v allocs per encode, want 0", wiretest.Describe(m), n)
		}
	}
}

// In steady state decoding the sample messages allocates nothing: heartbeats by hand, the
// Value-carrying messages from the Codec's slabs, the rest by the generated code.
func TestDecodeAllocatesNothing(t *testing.T) {
	c := wire.NewCodec()
	for _, p := range []int{512, 16384} {
		for _, m := range wire.SampleMessages(p).All() {
			in, _ := proto.Marshal(m)
			if _, err := wiretest.WireDecode(c, m, in); err != nil { // grows the slabs
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(20, func() { _, _ = wiretest.WireDecode(c, m, in) }); n != 0 {
				t.Errorf("%s: %v allocs per decode, want 0", wiretest.Describe(m), n)
			}
			got, err := wiretest.WireDecode(c, m, in)
			if err != nil || !proto.Equal(got, m) {
				t.Fatalf("%s: decodes to a different message (err %v)", wiretest.Describe(m), err)
			}
		}
	}
}

// Decodes reuse the Codec's nodes: one decode must leave nothing behind in the next,
// whether the next is smaller, larger, or takes the general path.
func TestDecodeReusesCleanly(t *testing.T) {
	c := wire.NewCodec()
	var seq []proto.Message
	for _, p := range []int{16384, 512, 0, 16384} {
		seq = append(seq, wire.SampleMessages(p).TaskAssignment, wire.SampleMessages(p).CompleteTaskRequest)
	}
	seq = append(seq, wiretest.Variety()...)
	seq = append(seq, wire.SampleMessages(512).TaskAssignment, wire.SampleMessages(512).CompleteTaskRequest)
	for _, m := range seq {
		in, _ := proto.Marshal(m)
		got, err := wiretest.WireDecode(c, m, in)
		if err != nil {
			t.Fatalf("%s: %v", wiretest.Describe(m), err)
		}
		if !proto.Equal(got, m) {
			t.Fatalf("%s: decoded after others, differs:\n got %v\nwant %v", wiretest.Describe(m), got, m)
		}
	}
}

// A decoded message is the Codec's: the next decode of that type replaces it, and its
// strings alias the input. This pins the contract documented on Codec.
func TestDecodeAliasing(t *testing.T) {
	c := wire.NewCodec()
	in, _ := proto.Marshal(&stepflowpb.TaskHeartbeatRequest{TaskId: "aaaa"})
	m, err := c.DecodeTaskHeartbeatRequest(in)
	if err != nil {
		t.Fatal(err)
	}
	kept := m.TaskId
	copy(in[2:], "bbbb") // the task_id's bytes
	if kept != "bbbb" {
		t.Fatalf("decoded string did not alias its input: %q", kept)
	}
	other, _ := proto.Marshal(&stepflowpb.TaskHeartbeatRequest{WorkerId: "w"})
	m2, err := c.DecodeTaskHeartbeatRequest(other)
	if err != nil {
		t.Fatal(err)
	}
	if m2 != m || m2.TaskId != "" || m2.WorkerId != "w" {
		t.Fatalf("second decode did not reuse and reset the message: %v", m2)
	}
	if _, err := c.DecodeTaskAssignment([]byte{0x0a, 0x05}); err == nil {
		t.Fatal("truncated input decoded without error")
	}
}

func TestStats(t *testing.T) {
	c := wire.NewCodec()
	var (
		now   time.Duration
		reads int
	)
	// A fake clock: SetClock's 64 back-to-back pairs of reads see 10ns apart (the cost of
	// a read, which the Codec subtracts); afterwards each timed call sees 110ns between
	// its two reads, so 100ns are counted.
	c.SetClock(func() time.Duration {
		reads++
		switch {
		case reads <= 128:
			now += 10
		case reads%2 == 0:
			now += 110
		default:
			now += 1000
		}
		return now
	}, 2)
	m := wire.SampleMessages(512)
	var sent int
	for range 4 {
		b, err := c.EncodeTaskHeartbeatRequest(m.TaskHeartbeatRequest)
		if err != nil {
			t.Fatal(err)
		}
		sent += len(b)
		if _, err := c.DecodeTaskHeartbeatRequest(b); err != nil {
			t.Fatal(err)
		}
	}
	s := c.Stats()
	if s.Encoded != 4 || s.Decoded != 4 || s.EncodedBytes != int64(sent) || s.DecodedBytes != int64(sent) {
		t.Fatalf("counts: %+v, want 4 each way and %d bytes", s, sent)
	}
	if s.TimedEncodes != 2 || s.TimedDecodes != 2 {
		t.Fatalf("timed %d encodes and %d decodes, want 2 and 2 (every 2nd)", s.TimedEncodes, s.TimedDecodes)
	}
	if s.EncodeNsPerMessage() != 100 || s.DecodeNsPerMessage() != 100 || s.NsPerMessage() != 100 {
		t.Fatalf("ns per message: %v %v %v, want 100", s.EncodeNsPerMessage(), s.DecodeNsPerMessage(), s.NsPerMessage())
	}
	wantMB := float64(sent) / 400e-9 / 1e6 // 4 timed calls of sent/4 bytes, 100ns each
	if got := s.MBPerSecond(); math.Abs(got-wantMB) > 1e-6 {
		t.Fatalf("MB/s %v, want %v", got, wantMB)
	}
	if (wire.Stats{}).NsPerMessage() != 0 || (wire.Stats{}).MBPerSecond() != 0 {
		t.Fatal("empty stats should report 0")
	}
}

// The Codec reads unknown fields at an offset found by reflection; this pins that the
// offset was found (else it would silently take the slower path) and is right.
func TestUnknownFieldsReachable(t *testing.T) {
	for _, m := range []proto.Message{&stepflowpb.PullTasksRequest{}, &stepflowpb.TaskHeartbeatRequest{},
		&stepflowpb.TaskHeartbeatResponse{}, &stepflowpb.CompleteTaskResponse{},
		&stepflowpb.TaskAssignment{Task: &stepflowpb.TaskAssignment_Execute{Execute: &stepflowpb.ComponentExecuteRequest{}}},
		&stepflowpb.CompleteTaskRequest{Result: &stepflowpb.CompleteTaskRequest_Error{Error: &stepflowpb.TaskError{}}},
		&stepflowpb.CompleteTaskRequest{Result: &stepflowpb.CompleteTaskRequest_Response{Response: &stepflowpb.ComponentExecuteResponse{}}},
	} {
		// Field 1000, varint 1, on the message and on its nested stepflow message.
		raw := []byte{0xc0, 0x3e, 0x01}
		m.ProtoReflect().SetUnknown(raw)
		m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Message() != nil {
				v.Message().SetUnknown(raw)
			}
			return true
		})
		got, err := wire.NewCodec().Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if !bytes.Equal(got, want) || bytes.Count(got, raw) == 0 {
			t.Errorf("%T: unknown fields lost: got %x, want %x", m, got, want)
		}
	}
	if !wire.UnknownOffsetsFound() {
		t.Error("an unknownFields offset was not found; the Codec falls back to ProtoReflect")
	}
}
