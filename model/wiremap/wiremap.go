// Package wiremap is the one mapping between the model's messages and the stepflow.v1
// protobuf messages, both ways, shared by the simulator (which encodes what a participant
// sent and checks that decoding gives it back) and the live driver (which decodes what
// arrived on a socket and hands the participant the result).
//
// Only what the wire carries crosses it. A model.Message also holds its envelope (the
// sender's NodeID, RPC call numbers, which the connection tells) and its Truth (which
// attempt a heartbeat's sender really runs), ground truth for observers; the decoders
// never fill those, the encoders never read Truth, and Wire keeps only the wire's part
// of a message, so a test or a driver can compare exactly what a socket could have told.
//
// Foreign ids (a real SDK's worker UUID, a real orchestrator's task ids and run ids) map
// onto the model's small integers through IDSpaces; queue names and component ids
// through Names built from the scenario.
package wiremap

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
)

// Kinds of the UUIDs tasksim renders for its own ids (see UUIDs).
const (
	TaskKind   = '8'
	WorkerKind = '9'
)

// UnknownTask is the TaskID a task id that is not ours maps to. Orchestrators number
// their tasks from 1, so it is never tracked: the orchestrator answers it as any task it
// does not know (NOT_FOUND, or UNAVAILABLE while the run recovers).
const UnknownTask model.TaskID = 0

// UnknownRun is the RunID of a run_id that is not ours (or absent): never recovering.
// A message with this Run is encoded without run_id.
const UnknownRun = model.NoRun

// ErrNotServed marks a request that names something this side does not serve (a queue
// name no pool has). Drivers answer it NOT_FOUND.
var ErrNotServed = errors.New("not served here")

// ErrInvalid marks a request the protocol rejects (TaskHeartbeat without a worker_id,
// CompleteTask without a result). Drivers answer it INVALID_ARGUMENT.
var ErrInvalid = errors.New("invalid request")

// Mapper converts messages both ways. Its Encode methods fill messages it keeps and
// reuses, with strings that may alias its scratch buffers, unless Owned is set: then each
// call returns new messages with strings of their own, which a live driver can hand to
// another goroutine. A Mapper is not safe for concurrent use.
type Mapper struct {
	Pools      *Names // queue_name, indexed like the scenario's pools
	Components *Names // component_id, indexed like the scenario's components
	Workers    IDSpace
	Tasks      IDSpace
	Runs       IDSpace
	Steps      IDSpace
	// OrchestratorURL is TaskContext.orchestrator_service_url in every assignment.
	OrchestratorURL string
	// Owned makes every Encode return fresh messages (see Mapper).
	Owned bool
	// ValueSource, if set, supplies the input/output Values instead of the Mapper's own
	// cache (so that many Mappers share one set).
	ValueSource func(n int32) *structpb.Value
	// Inputs, if set, holds per component a literal input Value (nil: a generated one of
	// the assignment's payload size), from the scenario's `components[].input`.
	Inputs []*structpb.Value

	values map[int32]*structpb.Value
	infos  []*pb.ComponentInfo

	pull       pb.PullTasksRequest
	assignment pb.TaskAssignment
	execute    pb.ComponentExecuteRequest
	listReq    pb.ListComponentsRequest
	execBranch pb.TaskAssignment_Execute
	listBranch pb.TaskAssignment_ListComponents
	context    pb.TaskContext
	observ     pb.ObservabilityContext
	hb         pb.TaskHeartbeatRequest
	hbResp     pb.TaskHeartbeatResponse
	complete   pb.CompleteTaskRequest
	respBranch pb.CompleteTaskRequest_Response
	errBranch  pb.CompleteTaskRequest_Error
	listBr     pb.CompleteTaskRequest_ListComponents
	response   pb.ComponentExecuteResponse
	taskErr    pb.TaskError
	listRes    pb.ListComponentsResult
	compResp   pb.CompleteTaskResponse

	taskBuf, workerBuf, runBuf, stepBuf [36]byte
	runStr, stepStr                     string
}

// New returns a Mapper for tasksim's own ids (salted UUIDs for workers and tasks, decimal
// run and step ids) over the given queue names and component ids. Replace any IDSpace
// with an Interned table to speak to a foreign peer.
func New(pools, components []string, salt uint32, orchestratorURL string) *Mapper {
	m := &Mapper{
		Pools:           NewNames(pools),
		Components:      NewNames(components),
		Workers:         UUIDs{Kind: WorkerKind, Salt: salt},
		Tasks:           UUIDs{Kind: TaskKind, Salt: salt},
		Runs:            Decimal{},
		Steps:           Decimal{},
		OrchestratorURL: orchestratorURL,
		values:          map[int32]*structpb.Value{},
	}
	for _, c := range components {
		m.infos = append(m.infos, &pb.ComponentInfo{ComponentId: c, Path: c})
	}
	m.listRes.Components = m.infos
	m.execBranch.Execute = &m.execute
	m.listBranch.ListComponents = &m.listReq
	m.respBranch.Response = &m.response
	m.errBranch.Error = &m.taskErr
	m.listBr.ListComponents = &m.listRes
	m.taskErr.Message = "component failed"
	return m
}

// Value returns the shared input/output Value of about n encoded bytes. Values are
// read-only once made, so messages on several goroutines may share them.
func (mp *Mapper) Value(n int32) *structpb.Value {
	if mp.ValueSource != nil {
		return mp.ValueSource(n)
	}
	v, ok := mp.values[n]
	if !ok {
		v = wire.SampleValue(int(n))
		mp.values[n] = v
	}
	return v
}

// input is an assignment's input Value: the component's literal one, or a generated one.
func (mp *Mapper) input(m *model.Message) *structpb.Value {
	if c := int(m.Component); c >= 0 && c < len(mp.Inputs) && mp.Inputs[c] != nil {
		return mp.Inputs[c]
	}
	return mp.Value(m.PayloadBytes)
}

// SetPaths sets the path each component reports in a list_components result, where it
// differs from its component_id (format v1.1's components[].component_id).
func (mp *Mapper) SetPaths(paths []string) {
	for i, p := range paths {
		if i < len(mp.infos) {
			mp.infos[i].Path = p
		}
	}
}

func (mp *Mapper) own(s string) string {
	if mp.Owned {
		return strings.Clone(s)
	}
	return s
}

// PullTasks maps a MsgPullTasks.
func (mp *Mapper) PullTasks(m *model.Message) *pb.PullTasksRequest {
	r := &mp.pull
	if mp.Owned {
		r = &pb.PullTasksRequest{}
	}
	r.QueueName = mp.Pools.Name(m.Pool)
	r.WorkerId = mp.own(mp.Workers.Render(&mp.workerBuf, uint64(m.Worker)))
	return r
}

// Assignment maps a MsgAssignment.
func (mp *Mapper) Assignment(m *model.Message) *pb.TaskAssignment {
	a, ctx, e, obs := &mp.assignment, &mp.context, &mp.execute, &mp.observ
	execBranch, listBranch := &mp.execBranch, &mp.listBranch
	if mp.Owned {
		a, ctx, e, obs = &pb.TaskAssignment{}, &pb.TaskContext{}, &pb.ComponentExecuteRequest{}, &pb.ObservabilityContext{}
		execBranch = &pb.TaskAssignment_Execute{Execute: e}
		listBranch = &pb.TaskAssignment_ListComponents{ListComponents: &pb.ListComponentsRequest{}}
	}
	a.TaskId = mp.own(mp.Tasks.Render(&mp.taskBuf, uint64(m.Task)))
	mp.runStr = mp.own(mp.Runs.Render(&mp.runBuf, uint64(m.Run)))
	ctx.OrchestratorServiceUrl = mp.OrchestratorURL
	ctx.RootRunId = mp.runStr
	a.Context = ctx
	if m.Discovery {
		a.Task = listBranch
		a.HeartbeatIntervalSecs = 0
		return a
	}
	e.ComponentId = mp.Components.Name(m.Component)
	e.Input = mp.input(m)
	e.Attempt = m.Attempt
	mp.stepStr = mp.own(mp.Steps.Render(&mp.stepBuf, uint64(m.Step)))
	if mp.Owned {
		// Copies of their own, allocated only here: taking their addresses in the shared
		// branch too made every reusing call allocate them.
		run, step := mp.runStr, mp.stepStr
		obs.RunId, obs.StepId = &run, &step
	} else {
		obs.RunId, obs.StepId = &mp.runStr, &mp.stepStr
	}
	e.Observability = obs
	a.Task = execBranch
	a.HeartbeatIntervalSecs = m.HeartbeatSecs
	return a
}

// Heartbeat maps a MsgHeartbeat.
func (mp *Mapper) Heartbeat(m *model.Message) *pb.TaskHeartbeatRequest {
	r := &mp.hb
	if mp.Owned {
		r = &pb.TaskHeartbeatRequest{}
	}
	r.TaskId = mp.own(mp.Tasks.Render(&mp.taskBuf, uint64(m.Task)))
	r.WorkerId = mp.own(mp.Workers.Render(&mp.workerBuf, uint64(m.Worker)))
	r.RunId = mp.runID(m.Run)
	return r
}

// HeartbeatReply maps an OK MsgHeartbeatReply (a reply with another Code is an RPC
// status, not a message).
func (mp *Mapper) HeartbeatReply(m *model.Message) *pb.TaskHeartbeatResponse {
	r := &mp.hbResp
	if mp.Owned {
		r = &pb.TaskHeartbeatResponse{}
	}
	r.ShouldAbort = m.ShouldAbort
	r.Status = pb.TaskStatus(m.Status)
	return r
}

// Complete maps a MsgComplete.
func (mp *Mapper) Complete(m *model.Message) *pb.CompleteTaskRequest {
	c := &mp.complete
	errBranch, respBranch, listBr := &mp.errBranch, &mp.respBranch, &mp.listBr
	if mp.Owned {
		c = &pb.CompleteTaskRequest{}
		errBranch = &pb.CompleteTaskRequest_Error{Error: &pb.TaskError{Message: mp.taskErr.Message}}
		respBranch = &pb.CompleteTaskRequest_Response{Response: &pb.ComponentExecuteResponse{}}
		listBr = &pb.CompleteTaskRequest_ListComponents{ListComponents: &pb.ListComponentsResult{Components: mp.infos}}
	}
	c.TaskId = mp.own(mp.Tasks.Render(&mp.taskBuf, uint64(m.Task)))
	c.RunId = mp.runID(m.Run)
	switch m.Result {
	case model.ResultError:
		errBranch.Error.Code = pb.TaskErrorCode(m.ErrorCode)
		c.Result = errBranch
	case model.ResultListComponents:
		c.Result = listBr
	default:
		respBranch.Response.Output = mp.Value(m.PayloadBytes)
		c.Result = respBranch
	}
	return c
}

// CompleteReply maps an OK MsgCompleteReply.
func (mp *Mapper) CompleteReply(*model.Message) *pb.CompleteTaskResponse {
	if mp.Owned {
		return &pb.CompleteTaskResponse{}
	}
	return &mp.compResp
}

// The decoders below return only what the wire carries (see Wire); the driver adds From,
// To and Call, which the connection itself tells.

// FromPullTasks maps a PullTasksRequest. A queue name no pool serves is ErrNotServed;
// an empty worker_id is allowed (the stream is then its own worker) and gives Worker -1.
func (mp *Mapper) FromPullTasks(r *pb.PullTasksRequest) (model.Message, error) {
	pool, ok := mp.Pools.Index(r.GetQueueName())
	if !ok {
		return model.Message{}, fmt.Errorf("queue %q: %w", r.GetQueueName(), ErrNotServed)
	}
	m := model.Message{Type: model.MsgPullTasks, Pool: pool, Worker: -1}
	if r.GetWorkerId() != "" {
		m.Worker = mp.WorkerID(r.GetWorkerId())
	}
	return m, nil
}

// FromAssignment maps a TaskAssignment as a worker reads it. Task, run and step ids go
// through the Tasks, Runs and Steps spaces (Interned ones learn foreign ids); a
// component id not in the table gives Component -1, which the worker fails as the SDKs
// do. The input is not read: the worker's component is the driver's.
func (mp *Mapper) FromAssignment(a *pb.TaskAssignment) model.Message {
	m := model.Message{Type: model.MsgAssignment, Task: mp.task(a.GetTaskId()),
		Run: mp.run(a.GetContext().GetRootRunId()), HeartbeatSecs: a.GetHeartbeatIntervalSecs()}
	if a.GetListComponents() != nil {
		m.Discovery = true
		m.Component = -1
		return m
	}
	e := a.GetExecute()
	m.Attempt = e.GetAttempt()
	m.Component = -1
	if c, ok := mp.Components.Index(e.GetComponentId()); ok {
		m.Component = c
	}
	if s := e.GetObservability().GetStepId(); s != "" {
		m.Step = model.StepID(mp.id(mp.Steps, s))
	}
	return m
}

// FromHeartbeat maps a TaskHeartbeatRequest; an empty worker_id is ErrInvalid.
func (mp *Mapper) FromHeartbeat(r *pb.TaskHeartbeatRequest) (model.Message, error) {
	if r.GetWorkerId() == "" {
		return model.Message{}, fmt.Errorf("TaskHeartbeat without worker_id: %w", ErrInvalid)
	}
	return model.Message{Type: model.MsgHeartbeat, Task: mp.ownTask(r.GetTaskId()),
		Worker: mp.WorkerID(r.GetWorkerId()), Run: mp.ownRun(r.RunId)}, nil
}

// FromHeartbeatReply maps a TaskHeartbeatResponse.
func (mp *Mapper) FromHeartbeatReply(r *pb.TaskHeartbeatResponse) model.Message {
	return model.Message{Type: model.MsgHeartbeatReply, Status: model.TaskStatus(r.GetStatus()), ShouldAbort: r.GetShouldAbort()}
}

// FromComplete maps a CompleteTaskRequest; one without a result is ErrInvalid.
func (mp *Mapper) FromComplete(r *pb.CompleteTaskRequest) (model.Message, error) {
	m := model.Message{Type: model.MsgComplete, Task: mp.ownTask(r.GetTaskId()), Run: mp.ownRun(r.RunId)}
	switch res := r.GetResult().(type) {
	case *pb.CompleteTaskRequest_Response:
		m.Result = model.ResultResponse
	case *pb.CompleteTaskRequest_Error:
		m.Result = model.ResultError
		m.ErrorCode = model.ErrorCode(res.Error.GetCode())
	case *pb.CompleteTaskRequest_ListComponents:
		m.Result = model.ResultListComponents
		m.Discovery = true
	default:
		return model.Message{}, fmt.Errorf("CompleteTask without a result: %w", ErrInvalid)
	}
	return m, nil
}

// ForeignWorker is the NodeID of a worker_id that a UUIDs space did not render.
const ForeignWorker model.NodeID = -2

// WorkerID maps a worker_id to the NodeID the orchestrator knows the worker by: an
// Interned space learns it, a UUIDs space parses its own (ForeignWorker otherwise).
func (mp *Mapper) WorkerID(s string) model.NodeID {
	if t, ok := mp.Workers.(*Interned); ok {
		return model.NodeID(t.Intern(s))
	}
	v, ok := mp.Workers.Parse(s)
	if !ok || v > 1<<31-1 {
		return ForeignWorker
	}
	return model.NodeID(v)
}

// task maps a task id on the worker side, learning foreign ones.
func (mp *Mapper) task(s string) model.TaskID { return model.TaskID(mp.id(mp.Tasks, s)) }

// runID renders a request's optional run_id: absent for UnknownRun (a sender that sends
// none, as the rust SDK).
func (mp *Mapper) runID(run model.RunID) *string {
	if run == UnknownRun {
		return nil
	}
	mp.runStr = mp.own(mp.Runs.Render(&mp.runBuf, uint64(run)))
	if mp.Owned {
		s := mp.runStr
		return &s
	}
	return &mp.runStr
}

func (mp *Mapper) run(s string) model.RunID {
	if s == "" {
		return UnknownRun
	}
	return model.RunID(mp.id(mp.Runs, s))
}

// id parses s in space, interning it when the space is a table.
func (mp *Mapper) id(space IDSpace, s string) uint64 {
	if t, ok := space.(*Interned); ok {
		return t.Intern(s)
	}
	v, _ := space.Parse(s)
	return v
}

// ownTask maps a task id on the orchestrator side: only ids it issued are tasks.
func (mp *Mapper) ownTask(s string) model.TaskID {
	v, ok := mp.Tasks.Parse(s)
	if !ok {
		return UnknownTask
	}
	return model.TaskID(v)
}

func (mp *Mapper) ownRun(s *string) model.RunID {
	if s == nil {
		return UnknownRun
	}
	v, ok := mp.Runs.Parse(*s)
	if !ok || v >= uint64(UnknownRun) {
		return UnknownRun
	}
	return model.RunID(v)
}

// Wire returns the part of m the wire carries for its type, everything else zero (its
// envelope and its Truth among them): what a peer that decoded m's bytes can know, of
// what the model reads. The input and output Values are not compared (their content
// stands in for a workload's).
func Wire(m model.Message) model.Message {
	w := model.Message{Type: m.Type}
	switch m.Type {
	case model.MsgPullTasks:
		w.Worker, w.Pool = m.Worker, m.Pool
	case model.MsgAssignment:
		w.Task, w.Run, w.Discovery, w.Component = m.Task, m.Run, m.Discovery, m.Component
		if !m.Discovery {
			w.Step, w.Attempt, w.HeartbeatSecs = m.Step, m.Attempt, m.HeartbeatSecs
		} else {
			w.Component = -1
		}
	case model.MsgHeartbeat:
		w.Task, w.Worker, w.Run = m.Task, m.Worker, m.Run
	case model.MsgHeartbeatReply:
		if m.Code == model.CodeOK {
			w.Status, w.ShouldAbort = m.Status, m.ShouldAbort
		}
		w.Code = m.Code
	case model.MsgComplete:
		w.Task, w.Run, w.Result = m.Task, m.Run, m.Result
		switch m.Result {
		case model.ResultError:
			w.ErrorCode = m.ErrorCode
		case model.ResultListComponents:
			w.Discovery = true
		}
	case model.MsgCompleteReply:
		w.Code = m.Code
	}
	return w
}

// Encode maps m and encodes it with c: the reference path, which every message type on
// the wire takes (Direct takes the common shapes faster, to the same bytes). The slice
// is c's, valid until its next Encode.
func (mp *Mapper) Encode(c *wire.Codec, m *model.Message) ([]byte, error) {
	switch m.Type {
	case model.MsgPullTasks:
		return c.EncodePullTasksRequest(mp.PullTasks(m))
	case model.MsgAssignment:
		return c.EncodeTaskAssignment(mp.Assignment(m))
	case model.MsgHeartbeat:
		return c.EncodeTaskHeartbeatRequest(mp.Heartbeat(m))
	case model.MsgHeartbeatReply:
		return c.EncodeTaskHeartbeatResponse(mp.HeartbeatReply(m))
	case model.MsgComplete:
		return c.EncodeCompleteTaskRequest(mp.Complete(m))
	case model.MsgCompleteReply:
		return c.EncodeCompleteTaskResponse(mp.CompleteReply(m))
	}
	return nil, fmt.Errorf("message type %v has no protobuf form", m.Type)
}

// Decode decodes b, a message of type t, with c and maps it: the reference path (see
// Encode), which also decides every error.
func (mp *Mapper) Decode(c *wire.Codec, t model.MsgType, b []byte) (model.Message, error) {
	switch t {
	case model.MsgPullTasks:
		d, err := c.DecodePullTasksRequest(b)
		if err != nil {
			return model.Message{}, err
		}
		return mp.FromPullTasks(d)
	case model.MsgAssignment:
		d, err := c.DecodeTaskAssignment(b)
		if err != nil {
			return model.Message{}, err
		}
		return mp.FromAssignment(d), nil
	case model.MsgHeartbeat:
		d, err := c.DecodeTaskHeartbeatRequest(b)
		if err != nil {
			return model.Message{}, err
		}
		return mp.FromHeartbeat(d)
	case model.MsgHeartbeatReply:
		d, err := c.DecodeTaskHeartbeatResponse(b)
		if err != nil {
			return model.Message{}, err
		}
		return mp.FromHeartbeatReply(d), nil
	case model.MsgComplete:
		d, err := c.DecodeCompleteTaskRequest(b)
		if err != nil {
			return model.Message{}, err
		}
		return mp.FromComplete(d)
	case model.MsgCompleteReply:
		if _, err := c.DecodeCompleteTaskResponse(b); err != nil {
			return model.Message{}, err
		}
		return model.Message{Type: model.MsgCompleteReply}, nil
	}
	return model.Message{}, fmt.Errorf("message type %v has no protobuf form", t)
}

// SameOnWire reports whether a and b carry the same on the wire, Wire(*a) == Wire(*b),
// without building either: the simulator asks it of every message it delivers.
func SameOnWire(a, b *model.Message) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case model.MsgPullTasks:
		return a.Worker == b.Worker && a.Pool == b.Pool
	case model.MsgAssignment:
		if a.Task != b.Task || a.Run != b.Run || a.Discovery != b.Discovery {
			return false
		}
		return a.Discovery || a.Component == b.Component && a.Step == b.Step && a.Attempt == b.Attempt &&
			a.HeartbeatSecs == b.HeartbeatSecs
	case model.MsgHeartbeat:
		return a.Task == b.Task && a.Worker == b.Worker && a.Run == b.Run
	case model.MsgHeartbeatReply:
		return a.Code == b.Code && (a.Code != model.CodeOK || a.Status == b.Status && a.ShouldAbort == b.ShouldAbort)
	case model.MsgComplete:
		return a.Task == b.Task && a.Run == b.Run && a.Result == b.Result &&
			(a.Result != model.ResultError || a.ErrorCode == b.ErrorCode)
	case model.MsgCompleteReply:
		return a.Code == b.Code
	}
	return true
}
