package model

import (
	"testing"
	"time"
)

type jsHarness struct {
	*otDriver
	q *JetStreamQueue
}

func newJSHarness(t *testing.T) *jsHarness {
	h := &jsHarness{q: NewJetStreamQueue(otQueue, 30*time.Second)}
	h.otDriver = newOTDriver(t, h.q.Fire)
	return h
}

func (h *jsHarness) recv(at time.Duration, m Message) {
	h.do(at, func(now time.Duration, out *Effects) { Deliver(h.q, now, m, out) })
}

func (h *jsHarness) publish(at time.Duration, task TaskID) {
	h.recv(at, Message{Type: MsgAssignment, From: otOrch, To: otQueue, Task: task, Step: StepID(task), Attempt: 1})
}

// connect subscribes worker w and sends fetches pull requests, as its read loop would.
func (h *jsHarness) connect(at time.Duration, w NodeID, fetches int) {
	h.recv(at, Message{Type: MsgPullTasks, From: w, To: otQueue, Worker: w})
	h.fetch(at, w, fetches)
}

// fetch sends n pull requests of one message each from worker w.
func (h *jsHarness) fetch(at time.Duration, w NodeID, n int) {
	for range n {
		h.recv(at, Message{Type: MsgFetch, From: w, To: otQueue, Worker: w})
	}
}

func (h *jsHarness) ack(at time.Duration, w NodeID, delivery uint32) {
	h.recv(at, Message{Type: MsgAck, From: w, To: otQueue, Delivery: delivery})
}

// jsDelivered is one delivery as the tests compare it.
type jsDelivered struct {
	when     time.Duration
	task     TaskID
	to       NodeID
	delivery uint32
	reason   uint8
}

func (h *jsHarness) deliveries() []jsDelivered {
	var r []jsDelivered
	evs := h.eventsOf(EvDelivered)
	sent := h.sentOf(MsgAssignment)
	if len(evs) != len(sent) {
		h.t.Fatalf("%d EvDelivered for %d assignments sent", len(evs), len(sent))
	}
	for i, m := range sent {
		if evs[i].Worker != m.To || evs[i].Task != m.Task || evs[i].When != m.When || m.From != otQueue {
			h.t.Fatalf("event %+v does not match delivery %+v", evs[i], m)
		}
		r = append(r, jsDelivered{m.When, m.Task, m.To, m.Delivery, evs[i].Reason})
	}
	return r
}

func jsExpect(t *testing.T, got, want []jsDelivered) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("deliveries\n got %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivery %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestJetStreamRedeliveryAfterAckWait(t *testing.T) {
	const a, b = otWorker, otWorker + 1
	tests := []struct {
		name string
		acks []struct {
			at       time.Duration
			delivery uint32
		}
		want []jsDelivered
	}{
		{
			name: "no ack: redelivered after 30s, then again",
			want: []jsDelivered{
				{1 * otSecond, 7, a, 1, DeliveryFirst},
				{31 * otSecond, 7, b, 2, DeliveryRedelivery},
			},
		},
		{
			name: "ack on receipt: delivered once",
			acks: []struct {
				at       time.Duration
				delivery uint32
			}{{1 * otSecond, 1}},
			want: []jsDelivered{{1 * otSecond, 7, a, 1, DeliveryFirst}},
		},
		{
			name: "ack just before the ack wait ends",
			acks: []struct {
				at       time.Duration
				delivery uint32
			}{{30*otSecond + 999*otMillisecond, 1}},
			want: []jsDelivered{{1 * otSecond, 7, a, 1, DeliveryFirst}},
		},
		{
			name: "late ack of the first delivery acks the redelivered message",
			acks: []struct {
				at       time.Duration
				delivery uint32
			}{{40 * otSecond, 1}},
			want: []jsDelivered{
				{1 * otSecond, 7, a, 1, DeliveryFirst},
				{31 * otSecond, 7, b, 2, DeliveryRedelivery},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newJSHarness(t)
			h.publish(0, 7)
			h.connect(1*otSecond, a, 1)
			h.connect(1*otSecond, b, 1)
			for _, ack := range tc.acks {
				h.ack(ack.at, a, ack.delivery)
			}
			h.advance(60*otSecond + 500*otMillisecond)
			got := h.deliveries()
			if len(tc.acks) == 0 {
				// b has no credit left after the redelivery: it waits, unacked, in the FIFO.
				h.fetch(62*otSecond, a, 1)
				got = h.deliveries()
				tc.want = append(tc.want, jsDelivered{62 * otSecond, 7, a, 3, DeliveryRedelivery})
				if h.q.Unacked() != 1 {
					t.Fatalf("unacked = %d", h.q.Unacked())
				}
			} else if h.q.Unacked() != 0 || h.q.QueueDepth(0) != 0 {
				t.Fatalf("after the ack: unacked %d, depth %d", h.q.Unacked(), h.q.QueueDepth(0))
			}
			jsExpect(t, got, tc.want)
		})
	}
}

func TestJetStreamAckCancelsAckWait(t *testing.T) {
	h := newJSHarness(t)
	h.publish(0, 7)
	h.connect(1*otSecond, otWorker, 1)
	if got, want := h.ops, []TimerOp{{ID: 1, At: 31 * otSecond}}; len(got) != 1 || got[0] != want[0] {
		t.Fatalf("timer ops %+v, want %+v", got, want)
	}
	h.ops = nil
	h.ack(2*otSecond, otWorker, 1)
	if got, want := h.ops, []TimerOp{{ID: 1, Cancel: true}}; len(got) != 1 || got[0] != want[0] {
		t.Fatalf("timer ops %+v, want %+v", got, want)
	}
	h.ack(3*otSecond, otWorker, 1) // a duplicate ack is harmless
	h.advance(100 * otSecond)
	if len(h.fired) != 0 || len(h.deliveries()) != 1 {
		t.Fatalf("fired %v after an ack", h.fired)
	}
}

// FIFO per pool, one pull request per delivery, round robin over workers, a redelivery ahead of
// the queued messages.
func TestJetStreamFIFOAndCredit(t *testing.T) {
	const a, b = otWorker, otWorker + 1
	h := newJSHarness(t)
	for task := TaskID(1); task <= 4; task++ {
		h.publish(0, task)
	}
	h.connect(1*otSecond, a, 1)
	h.connect(1*otSecond, b, 2)
	if h.q.QueueDepth(0) != 1 || h.q.ConnectedWorkers(0) != 2 {
		t.Fatalf("depth %d, workers %d", h.q.QueueDepth(0), h.q.ConnectedWorkers(0))
	}
	h.ack(2*otSecond, a, 1)
	h.ack(2*otSecond, b, 2)
	// Delivery 3 (task 3, to b) is not acked: at 31s it goes back ahead of task 4.
	h.advance(31 * otSecond)
	h.fetch(32*otSecond, a, 2)
	jsExpect(t, h.deliveries(), []jsDelivered{
		{1 * otSecond, 1, a, 1, DeliveryFirst},
		{1 * otSecond, 2, b, 2, DeliveryFirst},
		{1 * otSecond, 3, b, 3, DeliveryFirst},
		{32 * otSecond, 3, a, 4, DeliveryRedelivery},
		{32 * otSecond, 4, a, 5, DeliveryFirst},
	})
}

// A pull request from a worker the queue does not know (it never subscribed, or its
// connection broke) delivers nothing.
func TestJetStreamFetchNeedsSubscription(t *testing.T) {
	h := newJSHarness(t)
	h.publish(0, 1)
	h.fetch(1*otSecond, otWorker, 1)
	h.connect(2*otSecond, otWorker+1, 1)
	h.do(3*otSecond, func(now time.Duration, out *Effects) { h.q.Disconnect(now, otWorker+1, out) })
	h.publish(4*otSecond, 2)
	h.fetch(5*otSecond, otWorker+1, 1)
	jsExpect(t, h.deliveries(), []jsDelivered{{2 * otSecond, 1, otWorker + 1, 1, DeliveryFirst}})
	if h.q.QueueDepth(0) != 1 {
		t.Fatalf("depth %d, want 1", h.q.QueueDepth(0))
	}
}
