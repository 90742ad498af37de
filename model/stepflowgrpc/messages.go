package stepflowgrpc

import pb "github.com/tasksim/tasksim/model/stepflowpb"

// The RPCs' request and response messages under the names the generated stubs use: the
// stubs are generated as if tasks.proto and orchestrator.proto were in this package (see
// ../proto/generate.sh), and these aliases make those names stepflowpb's types.
type (
	PullTasksRequest              = pb.PullTasksRequest
	TaskAssignment                = pb.TaskAssignment
	GetOrchestratorForRunRequest  = pb.GetOrchestratorForRunRequest
	GetOrchestratorForRunResponse = pb.GetOrchestratorForRunResponse
	CompleteTaskRequest           = pb.CompleteTaskRequest
	CompleteTaskResponse          = pb.CompleteTaskResponse
	TaskHeartbeatRequest          = pb.TaskHeartbeatRequest
	TaskHeartbeatResponse         = pb.TaskHeartbeatResponse
)
