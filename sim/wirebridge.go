package sim

import (
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/model/wire"
	"github.com/tasksim/tasksim/model/wiremap"
)

// wireBridge puts model messages on the wire: every message is encoded to its protobuf
// bytes at the send, and on delivery those bytes are decoded and what the wire carries
// must equal what was sent. The common shapes (heartbeats and their answers, executes,
// completions) take wiremap.Direct, which writes and reads the bytes straight from and
// into a model.Message; the rest, and the calls the codec times for the perf figures,
// take the reference path: the shared mapping (model/wiremap) fills reused protobuf
// messages and the simulator's codec encodes them, and back. Both give the same bytes
// and the same decoded messages (wiremap's tests and fuzz targets hold them to it).
type wireBridge struct {
	codec  *wire.Codec
	mp     *wiremap.Mapper
	direct *wiremap.Direct
	got    model.Message // check's decoded message, kept to not zero a new one each time
	values []sizedValue
}

type sizedValue struct {
	n int32
	v *structpb.Value
}

// CodecTimedEvery is how many codec calls a run makes for each one it times for the perf
// figures. A timed call is a full encode or decode (the payload Value walked, sorted and
// rebuilt), several times the cost of the direct path the others take, so one in 64
// keeps the timing a small part of the wire's cost; a run of scale still times ~300k.
const CodecTimedEvery = 64

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
	b.direct = wiremap.NewDirect(b.mp, codec)
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

// encode renders m as protobuf bytes; the slice is valid until the next encode. The
// common shapes take the direct path, the rest (and the calls the codec times) the
// reference one; both give the same bytes.
func (b *wireBridge) encode(m *model.Message) ([]byte, error) {
	if data, ok := b.direct.Encode(m); ok {
		return data, nil
	}
	return b.mp.Encode(b.codec, m)
}

// check decodes bytes that were encoded from m and verifies that what the wire carries
// equals m: the simulator's participants act on m, so a codec that lost or changed a
// field would make the run a lie.
func (b *wireBridge) check(m *model.Message, data []byte) error {
	got := &b.got
	if !b.direct.Decode(m.Type, data, got) {
		var err error
		if *got, err = b.mp.Decode(b.codec, m.Type, data); err != nil {
			return err
		}
	}
	if !wiremap.SameOnWire(got, m) {
		return fmt.Errorf("wire round trip of %v changed it: sent %+v, decoded %+v", m.Type, wiremap.Wire(*m), wiremap.Wire(*got))
	}
	return nil
}

// decode decodes data, of type t, to what the wire carries: on the direct path where it
// takes the bytes, else on the reference path, which decides every error.
func (b *wireBridge) decode(t model.MsgType, data []byte) (model.Message, error) {
	var got model.Message
	if b.direct.Decode(t, data, &got) {
		return got, nil
	}
	return b.mp.Decode(b.codec, t, data)
}
