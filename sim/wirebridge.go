package sim

import (
	"fmt"
	"strconv"
	"unsafe"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
)

// wireBridge puts model messages on the wire: it fills reused protobuf messages from a
// model.Message, encodes them with the simulator's codec, and on delivery decodes the
// bytes and checks that every field the wire carries arrived intact. Ids are rendered
// into scratch buffers and handed to protobuf as strings that alias them, valid only
// until the encode returns: this keeps a heartbeat's encode free of allocations.
type wireBridge struct {
	codec *wire.Codec

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

	pools          []string
	components     []string // component paths, indexed like Config.Components
	componentIndex map[string]int32
	infos          []*pb.ComponentInfo // per pool: what list_components answers
	values         map[int32]*structpb.Value
}

const orchestratorURL = "http://127.0.0.1:7837"

func newWireBridge(cfg *Config, codec *wire.Codec) *wireBridge {
	b := &wireBridge{codec: codec, values: map[int32]*structpb.Value{}, componentIndex: map[string]int32{}}
	for _, p := range cfg.Workers {
		b.pools = append(b.pools, p.Pool)
	}
	b.infos = make([]*pb.ComponentInfo, 0, len(cfg.Components))
	for i, c := range cfg.Components {
		b.components = append(b.components, c.Path)
		b.componentIndex[c.Path] = int32(i)
		b.infos = append(b.infos, &pb.ComponentInfo{ComponentId: c.Path, Path: c.Path})
	}
	b.listRes.Components = b.infos
	b.context.OrchestratorServiceUrl = orchestratorURL
	b.execBranch.Execute = &b.execute
	b.listBranch.ListComponents = &b.listReq
	b.respBranch.Response = &b.response
	b.errBranch.Error = &b.taskErr
	b.listBr.ListComponents = &b.listRes
	b.taskErr.Message = "component failed"
	return b
}

// value returns the shared input/output Value of about n encoded bytes.
func (b *wireBridge) value(n int32) *structpb.Value {
	v, ok := b.values[n]
	if !ok {
		v = wire.SampleValue(int(n))
		b.values[n] = v
	}
	return v
}

// uuid renders id as a version-4-shaped UUID whose last 48 bits are id; kind sets the
// variant nibble so task ids and worker ids never look alike.
func uuid(buf *[36]byte, kind byte, id uint64) string {
	const hex = "0123456789abcdef"
	copy(buf[:], "00000000-0000-4000-8000-000000000000")
	buf[19] = kind
	for i := 35; i >= 24; i-- {
		buf[i] = hex[id&0xf]
		id >>= 4
	}
	return unsafe.String(&buf[0], len(buf))
}

func parseUUID(s string, kind byte) (uint64, bool) {
	if len(s) != 36 || s[19] != kind {
		return 0, false
	}
	v, err := strconv.ParseUint(s[24:], 16, 64)
	return v, err == nil
}

func decimal(buf *[36]byte, v uint64) string {
	n := strconv.AppendUint(buf[:0], v, 10)
	return unsafe.String(&buf[0], len(n))
}

const (
	taskKind   = '8'
	workerKind = '9'
)

// encode renders m as protobuf bytes; the slice is valid until the next encode.
func (b *wireBridge) encode(m *model.Message) ([]byte, error) {
	switch m.Type {
	case model.MsgPullTasks:
		b.pull.QueueName = b.pools[m.Pool]
		b.pull.WorkerId = uuid(&b.workerBuf, workerKind, uint64(m.Worker))
		return b.codec.EncodePullTasksRequest(&b.pull)
	case model.MsgAssignment:
		a := &b.assignment
		a.TaskId = uuid(&b.taskBuf, taskKind, uint64(m.Task))
		b.runStr = decimal(&b.runBuf, uint64(m.Run))
		b.context.RootRunId = b.runStr
		a.Context = &b.context
		if m.Discovery {
			a.Task = &b.listBranch
			a.HeartbeatIntervalSecs = 0
		} else {
			e := &b.execute
			e.ComponentId = b.components[m.Component]
			e.Input = b.value(m.PayloadBytes)
			e.Attempt = m.Attempt
			b.stepStr = decimal(&b.stepBuf, uint64(m.Step))
			b.observ.RunId = &b.runStr
			b.observ.StepId = &b.stepStr
			e.Observability = &b.observ
			a.Task = &b.execBranch
			a.HeartbeatIntervalSecs = m.HeartbeatSecs
		}
		return b.codec.EncodeTaskAssignment(a)
	case model.MsgHeartbeat:
		b.hb.TaskId = uuid(&b.taskBuf, taskKind, uint64(m.Task))
		b.hb.WorkerId = uuid(&b.workerBuf, workerKind, uint64(m.Worker))
		b.runStr = decimal(&b.runBuf, uint64(m.Run))
		b.hb.RunId = &b.runStr
		return b.codec.EncodeTaskHeartbeatRequest(&b.hb)
	case model.MsgHeartbeatReply:
		b.hbResp.ShouldAbort = m.ShouldAbort
		b.hbResp.Status = pb.TaskStatus(m.Status)
		return b.codec.EncodeTaskHeartbeatResponse(&b.hbResp)
	case model.MsgComplete:
		c := &b.complete
		c.TaskId = uuid(&b.taskBuf, taskKind, uint64(m.Task))
		b.runStr = decimal(&b.runBuf, uint64(m.Run))
		c.RunId = &b.runStr
		switch m.Result {
		case model.ResultError:
			b.taskErr.Code = pb.TaskErrorCode(m.ErrorCode)
			c.Result = &b.errBranch
		case model.ResultListComponents:
			c.Result = &b.listBr
		default:
			b.response.Output = b.value(m.PayloadBytes)
			c.Result = &b.respBranch
		}
		return b.codec.EncodeCompleteTaskRequest(c)
	case model.MsgCompleteReply:
		return b.codec.EncodeCompleteTaskResponse(&b.compResp)
	}
	return nil, fmt.Errorf("message type %v has no protobuf form", m.Type)
}

// check decodes bytes that were encoded from m and verifies that what the wire carries
// equals m: the simulator's participants act on m, so a codec that lost or changed a
// field would make the run a lie.
func (b *wireBridge) check(m *model.Message, data []byte) error {
	bad := func(field string) error {
		return fmt.Errorf("wire round trip of %v changed %s", m.Type, field)
	}
	switch m.Type {
	case model.MsgPullTasks:
		d, err := b.codec.DecodePullTasksRequest(data)
		if err != nil {
			return err
		}
		if w, ok := parseUUID(d.WorkerId, workerKind); !ok || w != uint64(m.Worker) {
			return bad("worker_id")
		}
		if d.QueueName != b.pools[m.Pool] {
			return bad("queue_name")
		}
	case model.MsgAssignment:
		d, err := b.codec.DecodeTaskAssignment(data)
		if err != nil {
			return err
		}
		if t, ok := parseUUID(d.TaskId, taskKind); !ok || t != uint64(m.Task) {
			return bad("task_id")
		}
		if m.Discovery != (d.GetListComponents() != nil) {
			return bad("task (oneof)")
		}
		if !m.Discovery {
			e := d.GetExecute()
			if e.GetAttempt() != m.Attempt || d.HeartbeatIntervalSecs != m.HeartbeatSecs {
				return bad("attempt or heartbeat_interval_secs")
			}
			if c, ok := b.componentIndex[e.GetComponentId()]; !ok || c != m.Component {
				return bad("component_id")
			}
			if st, err := strconv.ParseUint(e.GetObservability().GetStepId(), 10, 32); err != nil || st != uint64(m.Step) {
				return bad("observability.step_id")
			}
		}
	case model.MsgHeartbeat:
		d, err := b.codec.DecodeTaskHeartbeatRequest(data)
		if err != nil {
			return err
		}
		if t, ok := parseUUID(d.TaskId, taskKind); !ok || t != uint64(m.Task) {
			return bad("task_id")
		}
		if w, ok := parseUUID(d.WorkerId, workerKind); !ok || w != uint64(m.Worker) {
			return bad("worker_id")
		}
	case model.MsgHeartbeatReply:
		d, err := b.codec.DecodeTaskHeartbeatResponse(data)
		if err != nil {
			return err
		}
		if d.ShouldAbort != m.ShouldAbort || model.TaskStatus(d.Status) != m.Status {
			return bad("should_abort or status")
		}
	case model.MsgComplete:
		d, err := b.codec.DecodeCompleteTaskRequest(data)
		if err != nil {
			return err
		}
		if t, ok := parseUUID(d.TaskId, taskKind); !ok || t != uint64(m.Task) {
			return bad("task_id")
		}
		switch m.Result {
		case model.ResultError:
			if model.ErrorCode(d.GetError().GetCode()) != m.ErrorCode {
				return bad("error.code")
			}
		case model.ResultListComponents:
			if d.GetListComponents() == nil {
				return bad("result (oneof)")
			}
		default:
			if d.GetResponse() == nil {
				return bad("result (oneof)")
			}
		}
	case model.MsgCompleteReply:
		if _, err := b.codec.DecodeCompleteTaskResponse(data); err != nil {
			return err
		}
	}
	return nil
}
