package transcode

import (
	"math"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

func str(s string) *string   { return &s }
func f32(f float32) *float32 { return &f }

// everyValue is a Value holding every kind, including the edge numbers JSON mangles.
func everyValue() *structpb.Value {
	return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
		"null":        structpb.NewNullValue(),
		"true":        structpb.NewBoolValue(true),
		"false":       structpb.NewBoolValue(false),
		"zero":        structpb.NewNumberValue(0),
		"big":         structpb.NewNumberValue(1e21),
		"maxSafeInt":  structpb.NewNumberValue(1<<53 - 1),
		"negative":    structpb.NewNumberValue(-0.5),
		"tiny":        structpb.NewNumberValue(math.SmallestNonzeroFloat64),
		"ascii":       structpb.NewStringValue("hello"),
		"nonAscii":    structpb.NewStringValue("grüße, 世界, 🚀"),
		"empty":       structpb.NewStringValue(""),
		"list":        structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewNumberValue(1), structpb.NewStringValue("two"), structpb.NewNullValue()}}),
		"emptyList":   structpb.NewListValue(&structpb.ListValue{}),
		"emptyStruct": structpb.NewStructValue(&structpb.Struct{}),
		"nested":      structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"deeper": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStructValue(&structpb.Struct{})}})}}),
	}})
}

// sample is one message of the schema with a name for test output.
type sample struct {
	name string
	msg  proto.Message
}

// samples covers every message type with every field set, each oneof branch, optional
// fields absent, present-but-empty and present, the map, and every kind of Value.
func samples() []sample {
	obs := &pb.ObservabilityContext{TraceId: str("4bf92f3577b34da6a3ce929d0e0e4736"), SpanId: str("00f067aa0ba902b7"), RunId: str("run-1"), FlowId: str("flow-1"), StepId: str("step-1")}
	exec := &pb.ComponentExecuteRequest{
		ComponentId:   "/python/embed",
		Input:         everyValue(),
		Attempt:       3,
		Observability: obs,
		PathParams:    map[string]string{"z": "last", "a": "first", "ü": "ümlaut", "": "empty key"},
	}
	ctx := &pb.TaskContext{OrchestratorServiceUrl: "http://127.0.0.1:7837", RootRunId: "run-1"}
	info := &pb.ComponentInfo{ComponentId: "embed", Description: str("Embeds text"), InputSchema: str(`{"type":"object"}`), OutputSchema: str(""), Path: "/python/embed"}
	taskErr := &pb.TaskError{Code: pb.TaskErrorCode_TASK_ERROR_CODE_COMPONENT_FAILED, Message: "boom", Data: &structpb.Struct{Fields: map[string]*structpb.Value{"retry": structpb.NewBoolValue(false)}}}
	return []sample{
		{"PullTasksRequest", &pb.PullTasksRequest{QueueName: "python", WorkerId: "0b7e2c2a-9f0e-4a57-8f31-3c2d1e0f4a5b"}},
		{"TaskAssignment/execute", &pb.TaskAssignment{TaskId: "6f1c1d9e-2a3b-4c5d-8e9f-0a1b2c3d4e5f", Task: &pb.TaskAssignment_Execute{Execute: exec}, Context: ctx, HeartbeatIntervalSecs: 1}},
		{"TaskAssignment/list_components", &pb.TaskAssignment{TaskId: "t-2", Task: &pb.TaskAssignment_ListComponents{ListComponents: &pb.ListComponentsRequest{}}, Context: ctx}},
		{"TaskAssignment/empty", &pb.TaskAssignment{}},
		{"TaskContext", ctx},
		{"ComponentExecuteRequest", exec},
		{"ComponentExecuteRequest/optional-empty", &pb.ComponentExecuteRequest{ComponentId: "c", Observability: &pb.ObservabilityContext{TraceId: str(""), SpanId: str("")}}},
		{"ObservabilityContext/all", obs},
		{"ObservabilityContext/present-but-empty", &pb.ObservabilityContext{TraceId: str(""), SpanId: str(""), RunId: str(""), FlowId: str(""), StepId: str("")}},
		{"ObservabilityContext/absent", &pb.ObservabilityContext{}},
		{"ListComponentsRequest", &pb.ListComponentsRequest{}},
		{"ComponentInfo", info},
		{"ComponentInfo/absent", &pb.ComponentInfo{ComponentId: "x", Path: "/x"}},
		{"ListComponentsResult", &pb.ListComponentsResult{Components: []*pb.ComponentInfo{info, {ComponentId: "y", Path: "/y"}}}},
		{"ComponentExecuteResponse", &pb.ComponentExecuteResponse{Output: everyValue()}},
		{"TaskError", taskErr},
		{"TaskError/no-data", &pb.TaskError{Code: pb.TaskErrorCode_TASK_ERROR_CODE_WORKER_ERROR}},
		{"TaskError/empty-data", &pb.TaskError{Code: pb.TaskErrorCode_TASK_ERROR_CODE_TIMEOUT, Data: &structpb.Struct{}}},
		{"CompleteTaskRequest/response", &pb.CompleteTaskRequest{TaskId: "t", Result: &pb.CompleteTaskRequest_Response{Response: &pb.ComponentExecuteResponse{Output: everyValue()}}, RunId: str("run-1")}},
		{"CompleteTaskRequest/error", &pb.CompleteTaskRequest{TaskId: "t", Result: &pb.CompleteTaskRequest_Error{Error: taskErr}}},
		{"CompleteTaskRequest/list_components", &pb.CompleteTaskRequest{TaskId: "t", Result: &pb.CompleteTaskRequest_ListComponents{ListComponents: &pb.ListComponentsResult{Components: []*pb.ComponentInfo{info}}}, RunId: str("")}},
		{"CompleteTaskResponse", &pb.CompleteTaskResponse{}},
		{"TaskHeartbeatRequest", &pb.TaskHeartbeatRequest{TaskId: "t", WorkerId: "w", Progress: f32(0.25), StatusMessage: str("embedding"), RunId: str("run-1")}},
		{"TaskHeartbeatRequest/present-but-empty", &pb.TaskHeartbeatRequest{TaskId: "t", WorkerId: "w", Progress: f32(0), StatusMessage: str(""), RunId: str("")}},
		{"TaskHeartbeatRequest/absent", &pb.TaskHeartbeatRequest{TaskId: "t", WorkerId: "w"}},
		{"TaskHeartbeatResponse", &pb.TaskHeartbeatResponse{ShouldAbort: true, Status: pb.TaskStatus_TASK_STATUS_ALREADY_CLAIMED}},
		{"TaskHeartbeatResponse/in-progress", &pb.TaskHeartbeatResponse{Status: pb.TaskStatus_TASK_STATUS_IN_PROGRESS}},
		{"GetOrchestratorForRunRequest", &pb.GetOrchestratorForRunRequest{RunId: "run-1"}},
		{"GetOrchestratorForRunResponse", &pb.GetOrchestratorForRunResponse{OrchestratorServiceUrl: "http://127.0.0.1:7837"}},
	}
}
