package wire

import (
	"reflect"
	"unsafe"

	"google.golang.org/protobuf/proto"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

// Every message may carry unknown fields (from a newer Stepflow) that must be re-encoded.
// The generated code reads its unexported unknownFields slice directly; from outside the
// package, ProtoReflect().GetUnknown() costs ~7ns, a quarter of a heartbeat's encode. So
// the Codec reads the slice at its offset, found once by reflection and checked to be
// a []byte, and falls back to GetUnknown if the generated code ever changes shape.

// unknownOffset is the offset of T's unknownFields, or 0 if it has none (0 is never
// valid: the message state comes first).
func unknownOffset[T any]() uintptr {
	f, ok := reflect.TypeFor[T]().FieldByName("unknownFields")
	if !ok || f.Type != reflect.TypeFor[[]byte]() || f.Offset == 0 {
		return 0
	}
	return f.Offset
}

var (
	offPullTasks     = unknownOffset[pb.PullTasksRequest]()
	offAssignment    = unknownOffset[pb.TaskAssignment]()
	offExecute       = unknownOffset[pb.ComponentExecuteRequest]()
	offHeartbeat     = unknownOffset[pb.TaskHeartbeatRequest]()
	offHeartbeatResp = unknownOffset[pb.TaskHeartbeatResponse]()
	offComplete      = unknownOffset[pb.CompleteTaskRequest]()
	offCompleteResp  = unknownOffset[pb.CompleteTaskResponse]()
	offResponse      = unknownOffset[pb.ComponentExecuteResponse]()
	offTaskError     = unknownOffset[pb.TaskError]()
)

// unknown returns m's unknown fields; off is unknownOffset[T]().
func unknown[T any, M interface {
	*T
	proto.Message
}](m M, off uintptr) []byte {
	if off == 0 {
		return m.ProtoReflect().GetUnknown()
	}
	return *(*[]byte)(unsafe.Add(unsafe.Pointer(m), off))
}

// unknownOffsetsFound reports whether every offset was found, for a test to notice the
// generated code changing shape (the Codec stays correct then, only slower).
func unknownOffsetsFound() bool {
	for _, off := range []uintptr{offPullTasks, offAssignment, offExecute, offHeartbeat, offHeartbeatResp,
		offComplete, offCompleteResp, offResponse, offTaskError} {
		if off == 0 {
			return false
		}
	}
	return true
}
