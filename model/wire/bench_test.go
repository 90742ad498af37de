package wire_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tasksim/tasksim/model/wire"
)

// The Codec's own cost without the codecbench harness around it; the comparison with
// the other codecs is model/codecbench's BenchmarkCodec.
func BenchmarkCodecHeartbeat(b *testing.B) {
	m := wire.SampleMessages(0)
	c := wire.NewCodec()
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.EncodeTaskHeartbeatRequest(m.TaskHeartbeatRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
	in, _ := proto.Marshal(m.TaskHeartbeatRequest)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.DecodeTaskHeartbeatRequest(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-response", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.EncodeTaskHeartbeatResponse(m.TaskHeartbeatResponse); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto-encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := proto.Marshal(m.TaskHeartbeatRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
}
