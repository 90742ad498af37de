package wire_test

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
)

// A frozen Value encodes to exactly the bytes of a full encode and decodes to an equal
// message; the Codec's timed calls take the full path, and Stats says which reused.
func TestFrozenValueSameBytes(t *testing.T) {
	for _, payload := range testPayloads {
		m := wire.SampleMessages(payload)
		plain := wire.NewCodec()
		wantA, err := plain.EncodeTaskAssignment(m.TaskAssignment)
		if err != nil {
			t.Fatal(err)
		}
		wantA = bytes.Clone(wantA)
		wantC, err := plain.EncodeCompleteTaskRequest(m.CompleteTaskRequest)
		if err != nil {
			t.Fatal(err)
		}
		wantC = bytes.Clone(wantC)

		c := wire.NewCodec()
		in := m.TaskAssignment.GetExecute().Input
		out := m.CompleteTaskRequest.GetResponse().Output
		for _, v := range []*structpb.Value{in, out, in} {
			if ok, err := c.FreezeValue(v); !ok || err != nil {
				t.Fatalf("payload %d: FreezeValue = %v %v", payload, ok, err)
			}
		}
		for round := range 2 {
			gotA, err := c.EncodeTaskAssignment(m.TaskAssignment)
			if err != nil || !bytes.Equal(gotA, wantA) {
				t.Fatalf("payload %d round %d: frozen assignment encodes differently (%v)", payload, round, err)
			}
			da, err := c.DecodeTaskAssignment(gotA)
			if err != nil || !proto.Equal(da, m.TaskAssignment) {
				t.Fatalf("payload %d: frozen assignment decodes to %v (%v)", payload, da, err)
			}
			gotC, err := c.EncodeCompleteTaskRequest(m.CompleteTaskRequest)
			if err != nil || !bytes.Equal(gotC, wantC) {
				t.Fatalf("payload %d round %d: frozen completion encodes differently (%v)", payload, round, err)
			}
			dc, err := c.DecodeCompleteTaskRequest(gotC)
			if err != nil || !proto.Equal(dc, m.CompleteTaskRequest) {
				t.Fatalf("payload %d: frozen completion decodes to %v (%v)", payload, dc, err)
			}
		}
		if s := c.Stats(); s.ReusedEncodes != 4 || s.ReusedDecodes != 4 {
			t.Fatalf("payload %d: reused %d encodes, %d decodes, want 4 and 4", payload, s.ReusedEncodes, s.ReusedDecodes)
		}
		if s := plain.Stats(); s.ReusedEncodes != 0 {
			t.Fatalf("a codec without frozen Values reused %d encodes", s.ReusedEncodes)
		}
	}
}

// An equal Value that is not the frozen one, or bytes that differ from the frozen ones,
// take the full path.
func TestFrozenValueOnlyByIdentityAndBytes(t *testing.T) {
	m := wire.SampleMessages(512)
	c := wire.NewCodec()
	if ok, err := c.FreezeValue(wire.SampleValue(512)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	b, err := c.EncodeTaskAssignment(m.TaskAssignment) // an equal Value, another pointer
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DecodeTaskAssignment(b); err != nil {
		t.Fatal(err)
	}
	// Same bytes: the decode recognises them even though the encode walked the Value.
	if s := c.Stats(); s.ReusedEncodes != 0 || s.ReusedDecodes != 1 {
		t.Fatalf("reused %d encodes, %d decodes; want 0 and 1", s.ReusedEncodes, s.ReusedDecodes)
	}
	other := proto.Clone(m.TaskAssignment).(*stepflowpb.TaskAssignment)
	other.GetExecute().Input = structpb.NewStringValue("not the frozen one")
	b, err = c.EncodeTaskAssignment(other)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DecodeTaskAssignment(b)
	if err != nil || !proto.Equal(d, other) {
		t.Fatalf("decoded %v (%v)", d, err)
	}
	if s := c.Stats(); s.ReusedDecodes != 1 {
		t.Fatalf("other bytes were taken for the frozen Value: %d reused decodes", s.ReusedDecodes)
	}
}

// Timed calls (SetClock) never reuse, so the perf figures are those of full encodes.
func TestFrozenValueTimedCallsAreFull(t *testing.T) {
	m := wire.SampleMessages(512)
	c := wire.NewCodec()
	var now time.Duration
	c.SetClock(func() time.Duration { now += 10; return now }, 2)
	if ok, err := c.FreezeValue(m.TaskAssignment.GetExecute().Input); !ok || err != nil {
		t.Fatal(ok, err)
	}
	for range 4 {
		b, err := c.EncodeTaskAssignment(m.TaskAssignment)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.DecodeTaskAssignment(b); err != nil {
			t.Fatal(err)
		}
	}
	s := c.Stats()
	if s.TimedEncodes != 2 || s.ReusedEncodes != 2 || s.TimedDecodes != 2 || s.ReusedDecodes != 2 {
		t.Fatalf("timed %d/%d, reused %d/%d (encodes/decodes); want 2 each", s.TimedEncodes, s.TimedDecodes, s.ReusedEncodes, s.ReusedDecodes)
	}
}
