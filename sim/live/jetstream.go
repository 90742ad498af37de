package live

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/tasksim/tasksim/model"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/live/natsqueue"
)

// queueNode is the NATS JetStream queue's NodeID in live mode: the real server stands
// where the simulator runs model.JetStreamQueue. Worker nodes count up from 1, so the
// largest NodeID never collides with one.
const queueNode model.NodeID = math.MaxInt32

// Restartable is a server a fault can stop and start again (natsqueue.Server).
type Restartable interface {
	Stop()
	Start() error
}

// NATSConfig says where a live run's JetStream queue is.
type NATSConfig struct {
	// URL is the server (or a comma-separated cluster) both sides connect to.
	URL string
	// Stream names the stream of a one-pool scenario (default Stepflow's STEPFLOW_TASKS);
	// with several pools each pool's stream is natsqueue.StreamFor(pool).
	Stream string
	// Consumer is the durable consumer the workers share (default stepflow-default).
	Consumer string
	// Replicas is the streams' replication factor when the orchestrator creates them
	// (default 1; 3 on a cluster, so that a node can die without losing the queue).
	Replicas int
}

// layouts is the stream and consumer of each pool of sc.
func (c NATSConfig) layouts(sc *sim.Config) []natsqueue.Layout {
	pools := make([]string, len(sc.Workers))
	for i, p := range sc.Workers {
		pools[i] = p.Pool
	}
	names := natsqueue.StreamNames(pools, c.Stream)
	consumer := c.Consumer
	if consumer == "" {
		consumer = natsqueue.DefaultConsumer
	}
	ls := make([]natsqueue.Layout, len(pools))
	for i := range pools {
		ls[i] = natsqueue.Layout{Stream: names[i], Consumer: consumer, AckWait: sc.Queue.AckWait, Replicas: c.Replicas}
	}
	return ls
}

// jsPublisher is the orchestrator's side of the JetStream queues: one goroutine per pool
// publishes that pool's assignments in the order the orchestrator made them, so the
// orchestrator's goroutine never waits on the server. A publish that fails (the server
// restarting) is retried until it is stored or the run ends.
type jsPublisher struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	layouts []natsqueue.Layout
	pools   []*publishQueue
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type publishQueue struct {
	mu      sync.Mutex
	pending []queued
	wake    chan struct{}
	// stall is the longest an assignment waited from the orchestrator's hand-off to the
	// stream's ack: how long dispatch stalled (a server restart, a cluster electing a
	// new stream leader).
	stall time.Duration
}

type queued struct {
	b  []byte
	at time.Time
}

func startPublisher(cfg NATSConfig, sc *sim.Config) (*jsPublisher, error) {
	nc, js, err := natsqueue.Connect(cfg.URL, "tasksim orchestrator")
	if err != nil {
		return nil, err
	}
	p := &jsPublisher{nc: nc, js: js, layouts: cfg.layouts(sc)}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for _, l := range p.layouts {
		// The streams exist before the first assignment, so workers can bind at once.
		pub, err := ensurePublisher(p.ctx, js, l)
		if err != nil {
			p.stop()
			return nil, err
		}
		q := &publishQueue{wake: make(chan struct{}, 1)}
		p.pools = append(p.pools, q)
		p.wg.Add(1)
		go p.run(pub, q)
	}
	return p, nil
}

// ensurePublisher creates the stream, retrying for a while: a cluster that has just
// started answers JetStream requests only once it has elected its meta leader.
func ensurePublisher(ctx context.Context, js jetstream.JetStream, l natsqueue.Layout) (*natsqueue.Publisher, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		attempt, cancel := context.WithTimeout(ctx, 3*time.Second)
		pub, err := natsqueue.NewPublisher(attempt, js, l)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return pub, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// publish queues one assignment of pool for publishing; it never blocks.
func (p *jsPublisher) publish(pool int32, a *pb.TaskAssignment) {
	if pool < 0 || int(pool) >= len(p.pools) {
		return
	}
	b, err := proto.Marshal(a)
	if err != nil {
		return // a message the model built always encodes
	}
	q := p.pools[pool]
	q.mu.Lock()
	q.pending = append(q.pending, queued{b: b, at: time.Now()})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (p *jsPublisher) run(pub *natsqueue.Publisher, q *publishQueue) {
	defer p.wg.Done()
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		q.mu.Unlock()
		for _, e := range batch {
			for {
				if _, err := pub.Publish(p.ctx, e.b); err == nil {
					waited := time.Since(e.at)
					q.mu.Lock()
					q.stall = max(q.stall, waited)
					q.mu.Unlock()
					break
				}
				select {
				case <-p.ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
		select {
		case <-q.wake:
		case <-p.ctx.Done():
			return
		}
	}
}

// gauges reads each pool's stream and consumer counts from the server.
func (p *jsPublisher) gauges() []sim.JetStreamStats {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []sim.JetStreamStats
	for i, l := range p.layouts {
		q := p.pools[i]
		q.mu.Lock()
		stall := q.stall
		q.mu.Unlock()
		st := sim.JetStreamStats{Stream: l.Stream, Consumer: l.Consumer, DispatchStall: stall.Seconds()}
		if g, err := natsqueue.ReadGauges(ctx, p.js, l); err == nil {
			st.Pending, st.AckPending, st.Redelivered = int64(g.Pending), int64(g.AckPending), int64(g.Redelivered)
		}
		out = append(out, st)
	}
	return out
}

func (p *jsPublisher) stop() {
	p.cancel()
	p.wg.Wait()
	p.nc.Close()
}

// jsWorker is one worker process's side of its pool's JetStream queue: its own NATS
// connection, the shared durable consumer, and a goroutine that fetches one message
// each time the worker asks to read (Effects.Recv), as Stepflow's NATS workers fetch
// only with a free slot.
type jsWorker struct {
	wp     *workerProc
	layout natsqueue.Layout
	reads  chan struct{}
	// deliveries, by the model's delivery number, are the messages fetched and not yet
	// acknowledged (touched on the worker goroutine only).
	deliveries   map[uint32]*natsqueue.Delivery
	nextDelivery uint32
}

// subscribe binds the worker to its pool's consumer (the model's MsgPullTasks to the
// queue) and starts its fetch loop. The stream may not exist yet (a foreign
// orchestrator creates it on its first publish): like Stepflow's workers, it retries.
func (wp *workerProc) subscribe(cfg NATSConfig) {
	jw := &jsWorker{wp: wp, layout: cfg.layouts(wp.ws.cfg.Scenario)[wp.slot.pool],
		reads: make(chan struct{}, 1), deliveries: map[uint32]*natsqueue.Delivery{}}
	wp.js = jw
	go jw.fetchLoop(wp.ctx, cfg.URL)
}

// fetchLoop owns the worker's NATS connection: it connects (retrying while the server
// is away), binds the consumer, then fetches one message per read. A crash cancels ctx,
// which closes the connection; what the worker had not acknowledged is redelivered
// after the ack wait, as for any NATS client that goes away.
func (jw *jsWorker) fetchLoop(ctx context.Context, url string) {
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
			return true
		}
	}
	var nc *nats.Conn
	var js jetstream.JetStream
	for nc == nil {
		var err error
		if nc, js, err = natsqueue.Connect(url, fmt.Sprintf("tasksim worker %d", jw.wp.node)); err != nil && !wait() {
			return
		}
	}
	defer nc.Close()
	var c *natsqueue.Consumer
	for c == nil {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		c, err = natsqueue.NewConsumer(attempt, js, jw.layout)
		cancel()
		if err != nil && !wait() {
			return
		}
	}
	wp := jw.wp
	for {
		select {
		case <-jw.reads:
		case <-ctx.Done():
			return
		}
		for {
			// A partitioned worker reaches no server: it fetches nothing until the heal.
			if cut, _, _ := wp.linkState(); cut {
				select {
				case <-ctx.Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			d, err := c.Fetch(ctx, time.Second)
			if ctx.Err() != nil {
				return
			}
			if err != nil || d == nil {
				if err != nil {
					time.Sleep(50 * time.Millisecond)
				}
				continue
			}
			var a pb.TaskAssignment
			if err := proto.Unmarshal(d.Data, &a); err != nil {
				// Not an assignment: ack it so the queue does not hand it out forever.
				_ = d.Ack(ctx)
				continue
			}
			wp.fromNet(func() { jw.deliver(&a, d) })
			break
		}
	}
}

// deliver hands a fetched assignment to the worker (on the worker goroutine), and tells
// the observer what the queue did: a first delivery or a redelivery after the ack wait.
func (jw *jsWorker) deliver(a *pb.TaskAssignment, d *natsqueue.Delivery) {
	wp := jw.wp
	m := wp.mp.FromAssignment(a)
	jw.nextDelivery++
	m.From, m.To, m.Delivery = queueNode, wp.node, jw.nextDelivery
	jw.deliveries[m.Delivery] = d
	now := wp.p.now()
	if ob := wp.ws.cfg.Observer; ob != nil {
		reason := model.DeliveryFirst
		if d.Redelivered() {
			reason = model.DeliveryRedelivery
		}
		ob.Observe(now, &model.Event{Kind: model.EvDelivered, Reason: reason, Node: queueNode, Worker: wp.node,
			Step: m.Step, Run: m.Run, Task: m.Task, Attempt: m.Attempt, Component: m.Component})
	}
	wp.out.Reset()
	model.Deliver(wp.w, now, m, &wp.out)
	wp.apply(now)
}

// read asks the fetch loop for one more message.
func (jw *jsWorker) read() {
	select {
	case jw.reads <- struct{}{}:
	default:
	}
}

// ack acknowledges a delivery the worker is done with (the model's MsgAck). A reset
// partition loses the ack (the message comes back after the ack wait); a black hole
// holds it until the heal.
func (jw *jsWorker) ack(m model.Message, cut, blackhole bool) {
	d := jw.deliveries[m.Delivery]
	if d == nil {
		return
	}
	delete(jw.deliveries, m.Delivery)
	if cut && !blackhole {
		return
	}
	ctx := jw.wp.ctx
	jw.wp.later(cut && blackhole, func() {
		// An ack that does not reach the server leaves the message to be redelivered,
		// which is what the queue would do to a real worker too.
		go func() { _ = d.Ack(ctx) }()
	})
}
