package sim

import (
	"testing"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/model/wire"
)

// bridgeMessages are the messages `scale` sends, one of each type, with ids of the size
// its 10M-step run reaches.
func bridgeMessages() []model.Message {
	return []model.Message{
		{Type: model.MsgPullTasks, Worker: 54321, Pool: 0},
		{Type: model.MsgAssignment, Task: 7654321, Run: 7654321, Step: 1, Attempt: 1, Component: 0, PayloadBytes: 512, HeartbeatSecs: 1},
		{Type: model.MsgHeartbeat, Task: 7654321, Worker: 54321, Run: 7654321},
		{Type: model.MsgHeartbeatReply, Status: model.StatusInProgress},
		{Type: model.MsgComplete, Task: 7654321, Run: 7654321, Result: model.ResultResponse, PayloadBytes: 512},
		{Type: model.MsgComplete, Task: 7654321, Run: 7654321, Result: model.ResultError, ErrorCode: model.ErrComponentFailed},
		{Type: model.MsgCompleteReply},
	}
}

func benchName(m *model.Message) string {
	if m.Type == model.MsgComplete && m.Result == model.ResultError {
		return "CompleteError"
	}
	return m.Type.String()
}

// bridgeConfig is scale's shape: one pool, one component, 512-byte payloads.
func bridgeConfig() *Config {
	return &Config{
		Workers:    []PoolConfig{{Pool: "python"}},
		Components: []ComponentConfig{{Path: "/python/embed", Pool: "python"}},
	}
}

// BenchmarkWireBridge is the wire's cost per message as a run pays it: encode at the
// send, and at the delivery the check (decode and compare). "sampled" times one call in
// CodecTimedEvery with a clock, as `tasksim run` does for its perf figures (those calls
// take the full path: the Value walked); "plain" has no clock.
func BenchmarkWireBridge(b *testing.B) {
	start := time.Now()
	clock := func() time.Duration { return time.Since(start) }
	for _, mode := range []string{"plain", "sampled"} {
		for _, m := range bridgeMessages() {
			newBridge := func() *wireBridge {
				c := wire.NewCodec()
				if mode == "sampled" {
					c.SetClock(clock, CodecTimedEvery)
				}
				return newWireBridge(bridgeConfig(), c)
			}
			b.Run(mode+"/"+benchName(&m)+"/encode", func(b *testing.B) {
				br := newBridge()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := br.encode(&m); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(mode+"/"+benchName(&m)+"/check", func(b *testing.B) {
				br := newBridge()
				data, err := br.encode(&m)
				if err != nil {
					b.Fatal(err)
				}
				data = append([]byte(nil), data...)
				b.ReportAllocs()
				for b.Loop() {
					if err := br.check(&m, data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
