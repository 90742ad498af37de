package sim

import (
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/model/wire"
	"github.com/tasksim/tasksim/model/wiremap"
)

// wireBridge puts model messages on the wire: the shared mapping (model/wiremap) fills
// reused protobuf messages from a model.Message, the simulator's codec encodes them, and
// on delivery the bytes are decoded and mapped back, and what the wire carries must equal
// what was sent. Ids are rendered into scratch buffers and handed to protobuf as strings
// that alias them, valid only until the encode returns: this keeps a heartbeat's encode
// free of allocations.
type wireBridge struct {
	codec  *wire.Codec
	mp     *wiremap.Mapper
	values []sizedValue
}

type sizedValue struct {
	n int32
	v *structpb.Value
}

// orchestratorURL is what simulated assignments name as the orchestrator's address: the
// live default, so that the bytes look like what `tasksim serve` sends.
const orchestratorURL = "http://127.0.0.1:7837"

func newWireBridge(cfg *Config, codec *wire.Codec) *wireBridge {
	var pools, paths []string
	for _, p := range cfg.Workers {
		pools = append(pools, p.Pool)
	}
	for _, c := range cfg.Components {
		paths = append(paths, c.Path)
	}
	b := &wireBridge{codec: codec, mp: wiremap.New(pools, ComponentIDs(cfg), 0, orchestratorURL)}
	b.mp.SetPaths(paths)
	b.mp.ValueSource = b.value
	b.mp.Inputs = ComponentInputs(cfg)
	for _, in := range b.mp.Inputs {
		if in != nil {
			// A literal input goes in every assignment of its component: encode it once.
			_, _ = b.codec.FreezeValue(in)
		}
	}
	return b
}

// value is the shared input/output Value of about n encoded bytes, frozen in the codec:
// it never changes, so the codec encodes it once and recognises its bytes on decode.
func (b *wireBridge) value(n int32) *structpb.Value {
	for _, v := range b.values {
		if v.n == n {
			return v.v
		}
	}
	v := wire.SampleValue(int(n))
	// A Value the codec does not take (its table is full) is encoded in full each time.
	_, _ = b.codec.FreezeValue(v)
	b.values = append(b.values, sizedValue{n, v})
	return v
}

// encode renders m as protobuf bytes; the slice is valid until the next encode.
func (b *wireBridge) encode(m *model.Message) ([]byte, error) {
	switch m.Type {
	case model.MsgPullTasks:
		return b.codec.EncodePullTasksRequest(b.mp.PullTasks(m))
	case model.MsgAssignment:
		return b.codec.EncodeTaskAssignment(b.mp.Assignment(m))
	case model.MsgHeartbeat:
		return b.codec.EncodeTaskHeartbeatRequest(b.mp.Heartbeat(m))
	case model.MsgHeartbeatReply:
		return b.codec.EncodeTaskHeartbeatResponse(b.mp.HeartbeatReply(m))
	case model.MsgComplete:
		return b.codec.EncodeCompleteTaskRequest(b.mp.Complete(m))
	case model.MsgCompleteReply:
		return b.codec.EncodeCompleteTaskResponse(b.mp.CompleteReply(m))
	}
	return nil, fmt.Errorf("message type %v has no protobuf form", m.Type)
}

// check decodes bytes that were encoded from m and verifies that what the wire carries
// equals m: the simulator's participants act on m, so a codec that lost or changed a
// field would make the run a lie.
func (b *wireBridge) check(m *model.Message, data []byte) error {
	got, err := b.decode(m.Type, data)
	if err != nil {
		return err
	}
	if want := wiremap.Wire(*m); wiremap.Wire(got) != want {
		return fmt.Errorf("wire round trip of %v changed it: sent %+v, decoded %+v", m.Type, want, wiremap.Wire(got))
	}
	return nil
}

func (b *wireBridge) decode(t model.MsgType, data []byte) (model.Message, error) {
	switch t {
	case model.MsgPullTasks:
		d, err := b.codec.DecodePullTasksRequest(data)
		if err != nil {
			return model.Message{}, err
		}
		return b.mp.FromPullTasks(d)
	case model.MsgAssignment:
		d, err := b.codec.DecodeTaskAssignment(data)
		if err != nil {
			return model.Message{}, err
		}
		return b.mp.FromAssignment(d), nil
	case model.MsgHeartbeat:
		d, err := b.codec.DecodeTaskHeartbeatRequest(data)
		if err != nil {
			return model.Message{}, err
		}
		return b.mp.FromHeartbeat(d)
	case model.MsgHeartbeatReply:
		d, err := b.codec.DecodeTaskHeartbeatResponse(data)
		if err != nil {
			return model.Message{}, err
		}
		return b.mp.FromHeartbeatReply(d), nil
	case model.MsgComplete:
		d, err := b.codec.DecodeCompleteTaskRequest(data)
		if err != nil {
			return model.Message{}, err
		}
		return b.mp.FromComplete(d)
	case model.MsgCompleteReply:
		if _, err := b.codec.DecodeCompleteTaskResponse(data); err != nil {
			return model.Message{}, err
		}
		return model.Message{Type: model.MsgCompleteReply}, nil
	}
	return model.Message{}, fmt.Errorf("message type %v has no protobuf form", t)
}
