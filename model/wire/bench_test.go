package wire_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tasksim/tasksim/model/wire"
)

// The Codec's own cost without the codecbench harness around it; the comparison with
// the other codecs is reports/codecbench's BenchmarkCodec.
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

// BenchmarkCodecPayload shows that the cost of a task message grows linearly with its
// payload: ns/op and B/op at 64 KiB, 1 MiB and 16 MiB should each grow 16 times from one
// size to the next (MB/s stays flat). "sample" is making the payload Value, once per
// run and payload size in the simulator, which used to grow with the square of the size.
func BenchmarkCodecPayload(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"64KiB", 64 << 10}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}} {
		b.Run(size.name+"/sample", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size.bytes))
			for b.Loop() {
				wire.SampleValue(size.bytes)
			}
		})
		m := wire.SampleMessages(size.bytes)
		c := wire.NewCodec()
		in, err := c.EncodeCompleteTaskRequest(m.CompleteTaskRequest)
		if err != nil {
			b.Fatal(err)
		}
		in = append([]byte(nil), in...)
		b.Run(size.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := c.EncodeCompleteTaskRequest(m.CompleteTaskRequest); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := c.DecodeCompleteTaskRequest(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
