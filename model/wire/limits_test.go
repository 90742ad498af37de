package wire_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
)

// deepAssignment is a TaskAssignment whose input is `levels` lists nested in Values, built
// in memory: 2 + 2*levels messages, as protobuf-go counts them.
func deepAssignment(levels int) *pb.TaskAssignment {
	v := structpb.NewListValue(&structpb.ListValue{})
	for range levels - 1 {
		v = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{v}})
	}
	return &pb.TaskAssignment{Task: &pb.TaskAssignment_Execute{Execute: &pb.ComponentExecuteRequest{Input: v}}}
}

// The encoder refuses exactly what protobuf-go would refuse to decode, instead of
// recursing as deep as the Value goes.
func TestEncodeRefusesWhatNoDecoderAccepts(t *testing.T) {
	c := wire.NewCodec()
	b, err := c.EncodeTaskAssignment(deepAssignment(4999)) // 10,000 messages
	if err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if err := proto.Unmarshal(b, &pb.TaskAssignment{}); err != nil {
		t.Fatalf("protobuf-go refuses what the encoder wrote at the limit: %v", err)
	}
	for _, levels := range []int{5000, 100_000} {
		_, err := c.EncodeTaskAssignment(deepAssignment(levels))
		want := "wire: encode TaskAssignment: messages nested deeper than 10000 levels (protobuf-go's recursion limit)"
		if err == nil || err.Error() != want {
			t.Fatalf("%d levels: %v; want %q", levels, err, want)
		}
	}
	// The refusal leaves the Codec as good as new.
	m := wire.SampleMessages(512).TaskAssignment
	got, err := c.EncodeTaskAssignment(m)
	if want, _ := (proto.MarshalOptions{Deterministic: true}).Marshal(m); err != nil || string(got) != string(want) {
		t.Fatalf("encode after a refusal: %v", err)
	}
	deepOut := &pb.CompleteTaskRequest{Result: &pb.CompleteTaskRequest_Response{Response: &pb.ComponentExecuteResponse{
		Output: deepAssignment(5000).GetExecute().Input}}}
	if _, err := c.EncodeCompleteTaskRequest(deepOut); err == nil || !strings.Contains(err.Error(), "deeper than 10000") {
		t.Fatalf("CompleteTaskRequest 10,002 deep: %v", err)
	}
}

// A deeply nested Value on the wire is refused by the decoder with protobuf-go's error,
// without the fast path recursing into it.
func TestDecodeRefusesDeepNesting(t *testing.T) {
	// Built as bytes: proto.Marshal itself has no depth limit and overflows the stack.
	b := nestedAssignmentBytes(1_000_000)
	_, err := wire.NewCodec().DecodeTaskAssignment(b)
	if err == nil || !strings.Contains(err.Error(), "exceeded maximum recursion depth") {
		t.Fatalf("got %v", err)
	}
}

// nestedAssignmentBytes is deepAssignment(levels) encoded, built from the inside out.
func nestedAssignmentBytes(levels int) []byte {
	buf := make([]byte, 12*levels+32)
	i, end := len(buf), len(buf)
	var v [binary.MaxVarintLen64]byte
	put := func(tag byte) {
		w := binary.PutUvarint(v[:], uint64(end-i))
		i -= w
		copy(buf[i:], v[:w])
		i--
		buf[i] = tag
	}
	i--
	buf[i] = 0 // the innermost Value: an empty list
	i--
	buf[i] = 0x32
	for range levels - 1 {
		put(0x0a) // ListValue.values
		put(0x32) // Value.list_value
	}
	put(0x12) // ComponentExecuteRequest.input
	put(0x12) // TaskAssignment.execute
	return buf[i:]
}
