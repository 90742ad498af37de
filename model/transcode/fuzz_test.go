package transcode

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

// fuzzDecode checks that any bytes either decode (and then survive a JSON round trip)
// or give an error; never a panic.
func fuzzDecode(f *testing.F, typeName string) {
	for _, s := range samples() {
		if string(s.msg.ProtoReflect().Descriptor().FullName()) == "stepflow.v1."+typeName {
			b, _ := proto.Marshal(s.msg)
			f.Add(b)
		}
	}
	f.Add([]byte{0x0a, 0x05, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		js, err := Decode(typeName, data, JSON)
		if err != nil {
			return
		}
		bin, err := Encode(typeName, js, JSON)
		if err != nil {
			t.Fatalf("decoded JSON does not encode back: %v\n%s", err, js)
		}
		// Unknown fields do not survive JSON, so compare what JSON shows of both.
		again, err := Decode(typeName, bin, JSON)
		if err != nil {
			t.Fatalf("re-encoded bytes do not decode: %v", err)
		}
		if string(again) != string(js) {
			t.Fatalf("JSON round trip changed the message:\n got %s\nwant %s", again, js)
		}
	})
}

func FuzzDecodePullTasksRequest(f *testing.F)      { fuzzDecode(f, "PullTasksRequest") }
func FuzzDecodeTaskAssignment(f *testing.F)        { fuzzDecode(f, "TaskAssignment") }
func FuzzDecodeTaskHeartbeatRequest(f *testing.F)  { fuzzDecode(f, "TaskHeartbeatRequest") }
func FuzzDecodeTaskHeartbeatResponse(f *testing.F) { fuzzDecode(f, "TaskHeartbeatResponse") }
func FuzzDecodeCompleteTaskRequest(f *testing.F)   { fuzzDecode(f, "CompleteTaskRequest") }
func FuzzDecodeCompleteTaskResponse(f *testing.F)  { fuzzDecode(f, "CompleteTaskResponse") }
func FuzzDecodeGetOrchestratorForRunRequest(f *testing.F) {
	fuzzDecode(f, "GetOrchestratorForRunRequest")
}
func FuzzDecodeGetOrchestratorForRunResponse(f *testing.F) {
	fuzzDecode(f, "GetOrchestratorForRunResponse")
}
