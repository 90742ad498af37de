package wire

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

// SampleValue returns a deterministic google.protobuf.Value whose encoding is about
// payloadBytes long (exactly, for the sizes of interest): an order-like struct with
// strings, numbers, a bool, a nested struct, a list of tags and a list of line items,
// padded with a string field. A Value this small that no struct fits is a string.
// It stands in for a component's input or output, the part of a task message that
// grows with the workload.
func SampleValue(payloadBytes int) *structpb.Value {
	s := &structpb.Struct{Fields: map[string]*structpb.Value{
		"order_id": structpb.NewStringValue(sampleUUID(101)),
		"customer": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"name":  structpb.NewStringValue("Ada Lovelace"),
			"tier":  structpb.NewStringValue("gold"),
			"score": structpb.NewNumberValue(97.5),
		}}),
		"amount":   structpb.NewNumberValue(1234.56),
		"currency": structpb.NewStringValue("EUR"),
		"dry_run":  structpb.NewBoolValue(false),
		"tags": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
			structpb.NewStringValue("priority"), structpb.NewStringValue("eu"), structpb.NewNullValue(),
		}}),
	}}
	v := structpb.NewStructValue(s)
	if proto.Size(v) > payloadBytes {
		return sampleString(payloadBytes)
	}
	// Add line items while they fit. The size is kept as a sum rather than asked of
	// proto.Size after each item, which walked the whole Value every time and made a
	// 1 MiB payload take minutes (the cost grew with the square of the size).
	others := proto.Size(s) // the struct's entries but items
	items := &structpb.ListValue{}
	s.Fields["items"] = structpb.NewListValue(items)
	sizeWith := func(listBody int) int {
		itemsValue := LenField(listBody)                       // Value.list_value
		entry := LenField(len("items")) + LenField(itemsValue) // the Struct's map entry
		return LenField(others + LenField(entry))              // Value.struct_value
	}
	for n, listBody := 0, 0; ; n++ {
		item := sampleItem(n)
		listBody += LenField(proto.Size(item))
		if sizeWith(listBody) > payloadBytes {
			break
		}
		items.Values = append(items.Values, item)
	}
	// Pad to the size: shrink the pad by however much it overshoots (the length prefix
	// can take a byte more or less) until it fits.
	for pad := payloadBytes - proto.Size(v); pad >= 0; {
		s.Fields["pad"] = structpb.NewStringValue(sampleText(pad))
		over := proto.Size(v) - payloadBytes
		if over <= 0 {
			break
		}
		pad -= over
		if pad < 0 {
			delete(s.Fields, "pad")
		}
	}
	return v
}

// sampleString is a string Value of about n encoded bytes: tag, length, text.
func sampleString(n int) *structpb.Value {
	l := max(n-2, 0)
	if l >= 128 {
		l--
	}
	return structpb.NewStringValue(sampleText(l))
}

var sampleWords = [...]string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
	"hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"}

// sampleText is n bytes of words, deterministic and compressible like real text.
func sampleText(n int) string {
	b := make([]byte, 0, n+10)
	for i := 0; len(b) < n; i++ {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, sampleWords[(i*7)%len(sampleWords)]...)
	}
	return string(b[:n])
}

func sampleItem(n int) *structpb.Value {
	return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
		"sku":   structpb.NewStringValue(fmt.Sprintf("SKU-%06d", 100000+n*37)),
		"qty":   structpb.NewNumberValue(float64(n%7 + 1)),
		"price": structpb.NewNumberValue(float64(n*131%10000) / 100),
		"note":  structpb.NewStringValue(sampleWords[n%len(sampleWords)] + " " + sampleWords[(n*3+1)%len(sampleWords)]),
	}})
}

// sampleUUID is a fixed, well-formed version-4 UUID string for n, so that ids have the
// length and shape they have on Stepflow's wire.
func sampleUUID(n uint64) string {
	x := n*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	y := x*0xbf58476d1ce4e5b9 + n
	return fmt.Sprintf("%08x-%04x-4%03x-%x%03x-%012x",
		uint32(x>>32), uint16(x>>16), uint16(x)&0xfff, 8+(y>>62), uint16(y>>32)&0xfff, y&0xffffffffffff)
}

// Messages holds one filled instance of each of the six task messages.
type Messages struct {
	PullTasksRequest      *pb.PullTasksRequest
	TaskAssignment        *pb.TaskAssignment
	TaskHeartbeatRequest  *pb.TaskHeartbeatRequest
	TaskHeartbeatResponse *pb.TaskHeartbeatResponse
	CompleteTaskRequest   *pb.CompleteTaskRequest
	CompleteTaskResponse  *pb.CompleteTaskResponse
}

// All returns the six messages in protocol order (pull, assign, heartbeat, answer,
// complete, answer).
func (m Messages) All() []proto.Message {
	return []proto.Message{m.PullTasksRequest, m.TaskAssignment, m.TaskHeartbeatRequest,
		m.TaskHeartbeatResponse, m.CompleteTaskRequest, m.CompleteTaskResponse}
}

// SampleMessages returns realistic instances of the six task messages, deterministic:
// UUID-format ids, an execute assignment on attempt 2 whose input is SampleValue(payload),
// with trace ids and path_params, a heartbeat with every optional field set, and a
// completion whose output is SampleValue(payload).
func SampleMessages(payload int) Messages {
	taskID, workerID, runID := sampleUUID(1), sampleUUID(2), sampleUUID(3)
	str := func(s string) *string { return &s }
	progress := float32(0.42)
	return Messages{
		PullTasksRequest: &pb.PullTasksRequest{QueueName: "default", WorkerId: workerID},
		TaskAssignment: &pb.TaskAssignment{
			TaskId: taskID,
			Task: &pb.TaskAssignment_Execute{Execute: &pb.ComponentExecuteRequest{
				ComponentId: "/python/process_order",
				Input:       SampleValue(payload),
				Attempt:     2,
				Observability: &pb.ObservabilityContext{
					TraceId: str("4bf92f3577b34da6a3ce929d0e0e4736"),
					SpanId:  str("00f067aa0ba902b7"),
					RunId:   str(runID),
					FlowId:  str("order-pipeline"),
					StepId:  str("process_order"),
				},
				PathParams: map[string]string{"tenant": "acme", "region": "eu-west-1", "version": "v3"},
			}},
			Context: &pb.TaskContext{
				OrchestratorServiceUrl: "http://orchestrator-0.stepflow.svc:7837",
				RootRunId:              runID,
			},
			HeartbeatIntervalSecs: 1,
		},
		TaskHeartbeatRequest: &pb.TaskHeartbeatRequest{
			TaskId:        taskID,
			WorkerId:      workerID,
			Progress:      &progress,
			StatusMessage: str("processing item 17 of 40"),
			RunId:         str(runID),
		},
		TaskHeartbeatResponse: &pb.TaskHeartbeatResponse{Status: pb.TaskStatus_TASK_STATUS_IN_PROGRESS},
		CompleteTaskRequest: &pb.CompleteTaskRequest{
			TaskId: taskID,
			Result: &pb.CompleteTaskRequest_Response{Response: &pb.ComponentExecuteResponse{
				Output: SampleValue(payload),
			}},
			RunId: str(runID),
		},
		CompleteTaskResponse: &pb.CompleteTaskResponse{},
	}
}
