package wire_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
)

// Decoders differ in what they accept: protobuf-go checks UTF-8 and treats a known
// field with the wrong wire type as unknown, vtprotobuf does neither, hyperpb has its own
// rules. So a fuzz input may decode in some variants and fail in others. What must hold:
// no variant panics; the sim path accepts whatever protobuf-go accepts; every variant that decodes it yields the same message (known fields;
// see discardUnknown); and what the sim path decodes, it re-encodes and decodes again to
// an equal message, as does what protobuf-go decodes.
func fuzzDecode(f *testing.F, tmpl proto.Message) {
	for _, m := range allMessages(0, 512) {
		if m.ProtoReflect().Descriptor() != tmpl.ProtoReflect().Descriptor() {
			continue
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	decs := binaryDecoders()
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string]proto.Message{}
		// proto first: whether it accepts the input decides whether hyperpb may see it.
		for _, name := range []string{"proto", "vtproto", "vtproto-unsafe", wire.SimVariant, "hyperpb"} {
			dec := decs[name]
			if name == "hyperpb" && got["proto"] == nil {
				// hyperpb v0.1.3 reads past the end of some malformed input and dies with
				// SIGSEGV, which no recover catches (see the corpus entry 278940a9a6c45949
				// of FuzzDecodeTaskHeartbeatRequest). Only well-formed input reaches it.
				continue
			}
			// Each decoder gets its own copy: the unsafe ones alias their input.
			m, err := dec(tmpl, append([]byte(nil), data...))
			if err == nil {
				got[name] = m
			}
		}
		if got["proto"] != nil && got[wire.SimVariant] == nil {
			t.Fatalf("proto decodes what the sim path rejects")
		}
		ref, refName := got["proto"], "proto"
		if ref == nil {
			ref, refName = got[wire.SimVariant], wire.SimVariant
		}
		for name, m := range got {
			if name == "hyperpb" {
				continue
			}
			if !equalKnown(ref, m) {
				if name == "vtproto" || name == "vtproto-unsafe" {
					// vtprotobuf v0.6.0 parses a map entry with extra or repeated fields
					// differently from protobuf-go (corpus 26cd9f47385ab313). It is a bench
					// variant only: the sim path never lets it decide such input.
					t.Logf("%s and %s decode differently (known vtprotobuf map-entry difference):\n%s %v\n%s %v", name, refName, name, m, refName, ref)
					continue
				}
				t.Errorf("%s and %s decode differently:\n%s %v\n%s %v", name, refName, name, m, refName, ref)
			}
		}
		if h := got["hyperpb"]; h != nil {
			checkHyperpb(t, tmpl, ref, h)
		}
		if m := got[wire.SimVariant]; m != nil {
			roundTrip(t, m)
		}
		if m := got["proto"]; m != nil {
			roundTrip(t, m)
		}
	})
}

// checkHyperpb compares hyperpb's decode with protobuf-go's and logs, rather than fails,
// a difference. hyperpb is a bench variant only, never on a decoding path, and v0.1.3
// diverges on input protobuf-go accepts: a oneof whose case changes within one message
// yields a field of the wrong message type (corpus FuzzDecodeCompleteTaskRequest/
// b400c202565cb6f1), and a Struct map key is read from the wrong bytes (corpus
// FuzzDecodeTaskAssignment/b2fa7271047dd1ba). The fuzz targets keep those inputs so that
// every other variant is held to them.
func checkHyperpb(t *testing.T, tmpl, ref, h proto.Message) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Logf("hyperpb yields an inconsistent message: %v", r)
		}
	}()
	// hyperpb messages are read-only: copy into the generated type to compare.
	g := tmpl.ProtoReflect().New().Interface()
	proto.Merge(g, h)
	if !equalKnown(ref, g) {
		t.Logf("hyperpb and proto decode differently:\nhyperpb %v\nproto   %v", g, ref)
	}
}

// roundTrip encodes m on the sim path and decodes it with a second Codec (the first owns
// m): the result must equal m in its known fields (the sim path, like vtprotobuf, drops
// unknown fields inside a Value; TestRoundTripEveryVariant checks top-level ones).
func roundTrip(t *testing.T, m proto.Message) {
	t.Helper()
	b, err := wire.NewCodec().Encode(m)
	if err != nil {
		t.Fatalf("re-encode %T: %v", m, err)
	}
	back, err := wireDecode(wire.NewCodec(), m, b)
	if err != nil {
		t.Fatalf("decode of re-encoded %T: %v", m, err)
	}
	if !equalKnown(m, back) {
		t.Fatalf("re-encoded message differs:\n got %v\nwant %v", back, m)
	}
}

func FuzzDecodePullTasksRequest(f *testing.F) { fuzzDecode(f, &stepflowpb.PullTasksRequest{}) }
func FuzzDecodeTaskAssignment(f *testing.F)   { fuzzDecode(f, &stepflowpb.TaskAssignment{}) }
func FuzzDecodeTaskHeartbeatRequest(f *testing.F) {
	fuzzDecode(f, &stepflowpb.TaskHeartbeatRequest{})
}
func FuzzDecodeTaskHeartbeatResponse(f *testing.F) {
	fuzzDecode(f, &stepflowpb.TaskHeartbeatResponse{})
}
func FuzzDecodeCompleteTaskRequest(f *testing.F) { fuzzDecode(f, &stepflowpb.CompleteTaskRequest{}) }
func FuzzDecodeCompleteTaskResponse(f *testing.F) {
	fuzzDecode(f, &stepflowpb.CompleteTaskResponse{})
}
