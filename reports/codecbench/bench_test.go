package codecbench

import "testing"

// BenchmarkCodec runs the whole suite: go test -bench=Codec -count=5 ./reports/codecbench/
// Names look like BenchmarkCodec/TaskHeartbeatRequest/encode/vtproto and
// BenchmarkCodec/TaskAssignment/16KiB/decode/wire.
func BenchmarkCodec(b *testing.B) {
	cases, err := Cases(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		b.Run(c.Name(), c.Bench)
	}
}
