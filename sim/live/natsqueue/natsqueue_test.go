package natsqueue

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func startEmbedded(t *testing.T) *Server {
	t.Helper()
	s, err := StartServer(ServerConfig{Name: "test", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func connect(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, js, err := Connect(url, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return js
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkLayout reads the stream and consumer back from the server and checks Stepflow's
// layout field by field.
func checkLayout(t *testing.T, ctx context.Context, js jetstream.JetStream, l Layout) {
	t.Helper()
	s, err := js.Stream(ctx, l.Stream)
	if err != nil {
		t.Fatalf("stream %s: %v", l.Stream, err)
	}
	si, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := si.Config.Subjects; len(got) != 1 || got[0] != l.Stream+".tasks" {
		t.Errorf("stream subjects = %v, want [%s.tasks]", got, l.Stream)
	}
	if si.Config.Retention != jetstream.WorkQueuePolicy {
		t.Errorf("stream retention = %v, want WorkQueue", si.Config.Retention)
	}
	c, err := s.Consumer(ctx, l.Consumer)
	if err != nil {
		t.Fatalf("consumer %s: %v", l.Consumer, err)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cc := ci.Config
	if cc.Durable != l.Consumer || cc.FilterSubject != l.Stream+".tasks" ||
		cc.DeliverPolicy != jetstream.DeliverAllPolicy || cc.AckPolicy != jetstream.AckExplicitPolicy ||
		cc.AckWait != l.AckWait {
		t.Errorf("consumer config = durable %q filter %q deliver %v ack %v wait %v; want %q %q all explicit %v",
			cc.Durable, cc.FilterSubject, cc.DeliverPolicy, cc.AckPolicy, cc.AckWait,
			l.Consumer, l.Stream+".tasks", l.AckWait)
	}
}

// roundTrip publishes n messages and has one consumer ack each on receipt; it returns how
// many distinct ones arrived.
func roundTrip(t *testing.T, ctx context.Context, js jetstream.JetStream, l Layout, n int) int {
	t.Helper()
	p, err := NewPublisher(ctx, js, l)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConsumer(ctx, js, l)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := p.Publish(ctx, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for len(seen) < n {
		d, err := c.Fetch(ctx, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil {
			break
		}
		seen[string(d.Data)] = true
		if err := d.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return len(seen)
}

func TestEmbeddedLayoutAndRoundTrip(t *testing.T) {
	s := startEmbedded(t)
	js := connect(t, s.URL())
	ctx := testCtx(t)
	l := Layout{Stream: StreamFor("python"), Consumer: DefaultConsumer, AckWait: 30 * time.Second}
	if got := roundTrip(t, ctx, js, l, 50); got != 50 {
		t.Fatalf("%d of 50 assignments arrived", got)
	}
	checkLayout(t, ctx, js, l)
	g, err := ReadGauges(ctx, js, l)
	if err != nil {
		t.Fatal(err)
	}
	// WorkQueue retention: every acked message is gone.
	if g != (Gauges{}) {
		t.Errorf("after acking everything: %+v, want all zero", g)
	}
}

func TestStreamNames(t *testing.T) {
	for queue, want := range map[string]string{
		"default": "STEPFLOW_TASKS", "": "STEPFLOW_TASKS", "python": "PYTHON_TASKS",
		"gpu.large": "GPU_LARGE_TASKS", "rust-1": "RUST-1_TASKS",
	} {
		if got := StreamFor(queue); got != want {
			t.Errorf("StreamFor(%q) = %q, want %q", queue, got, want)
		}
	}
}

// A message fetched and not acknowledged within the ack wait is delivered again, to any
// worker of the consumer: the hazard Stepflow's documentation warns about.
func TestUnackedMessageIsRedeliveredAfterAckWait(t *testing.T) {
	s := startEmbedded(t)
	js := connect(t, s.URL())
	ctx := testCtx(t)
	const ackWait = 500 * time.Millisecond
	l := Layout{Stream: "SLOW_TASKS", AckWait: ackWait}
	p, err := NewPublisher(ctx, js, l)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := NewConsumer(ctx, js, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, []byte("task-1")); err != nil {
		t.Fatal(err)
	}
	// The server starts the ack wait when it delivers, which is after this instant: the
	// redelivery can come no sooner than ackWait after it.
	fetchedAt := time.Now()
	first, err := slow.Fetch(ctx, 2*time.Second)
	if err != nil || first == nil {
		t.Fatalf("first fetch: %v %v", first, err)
	}
	if first.Redelivered() {
		t.Fatalf("first delivery marked redelivered (%d)", first.NumDelivered)
	}
	// A second worker of the same consumer gets nothing while the ack wait runs ...
	other, err := NewConsumer(ctx, js, l)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := other.Fetch(ctx, ackWait/5); err != nil || d != nil {
		t.Fatalf("fetch during the ack wait: %v %v, want nothing", d, err)
	}
	// ... and the same assignment after it.
	second, err := other.Fetch(ctx, 10*time.Second)
	if err != nil || second == nil {
		t.Fatalf("second fetch: %v %v", second, err)
	}
	if elapsed := time.Since(fetchedAt); elapsed < ackWait {
		t.Errorf("redelivered %v after the first delivery, before the ack wait %v", elapsed, ackWait)
	}
	if second.StreamSeq != first.StreamSeq || second.NumDelivered != 2 || string(second.Data) != "task-1" {
		t.Errorf("redelivery = seq %d delivered %d %q, want seq %d delivered 2 task-1",
			second.StreamSeq, second.NumDelivered, second.Data, first.StreamSeq)
	}
	g, err := ReadGauges(ctx, js, l)
	if err != nil {
		t.Fatal(err)
	}
	if g.AckPending != 1 || g.Pending != 0 {
		t.Errorf("gauges before any ack = %+v, want 1 ack-pending, 0 pending", g)
	}
	// The late ack of the first worker is the one that removes it.
	if err := first.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := other.Fetch(ctx, 2*ackWait); err != nil || d != nil {
		t.Errorf("after the ack: %v %v, want nothing more", d, err)
	}
}

// An embedded server stopped and started on the same store keeps its stream, its
// consumer and the messages not yet acknowledged, on the same URL.
func TestEmbeddedRestartKeepsTheQueue(t *testing.T) {
	s := startEmbedded(t)
	url := s.URL()
	js := connect(t, url)
	ctx := testCtx(t)
	l := Layout{Stream: "RESTART_TASKS"}
	p, err := NewPublisher(ctx, js, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewConsumer(ctx, js, l); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := p.Publish(ctx, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	s.Stop()
	if s.Running() {
		t.Fatal("still running after Stop")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if s.URL() != url {
		t.Fatalf("URL after restart %s, want %s", s.URL(), url)
	}
	// The old connection reconnects by itself; the counts are read through it.
	deadline := time.Now().Add(20 * time.Second)
	var g Gauges
	for time.Now().Before(deadline) {
		if g, err = ReadGauges(ctx, js, l); err == nil && g.Pending == 10 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if g.Pending != 10 {
		t.Fatalf("after restart: %+v (%v), want 10 pending", g, err)
	}
	checkLayout(t, ctx, js, l.withDefaults())
}

// Against Debian's nats-server (installed by .ci/run), started here with -js on loopback:
// the layout as the server reports it, and a run that loses nothing.
func TestExternalServerLayout(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("TASKSIM_REQUIRE_NATS") != "" {
			t.Fatal("nats-server not found and TASKSIM_REQUIRE_NATS is set")
		}
		t.Skip("nats-server not installed (apt-get install nats-server)")
	}
	ns, err := StartExternal(bin, t.TempDir(), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	js := connect(t, ns.URL)
	ctx := testCtx(t)
	l := Layout{Stream: DefaultStream, Consumer: DefaultConsumer, AckWait: DefaultAckWait}
	if got := roundTrip(t, ctx, js, l, 100); got != 100 {
		t.Fatalf("%d of 100 assignments arrived", got)
	}
	checkLayout(t, ctx, js, l)
}
