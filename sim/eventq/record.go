package eventq

// OpKind is what a recorded queue operation did.
type OpKind uint8

const (
	OpPush OpKind = iota + 1
	OpPop
	OpReset
	OpCancel
	OpPushAfter // PushAfter; Delay is its delay
)

// Op is one recorded operation. Push numbers the push that created the entry an
// OpReset or OpCancel names (0-based, in push order), so a replay can map it to its own
// handle.
type Op struct {
	Kind  OpKind
	Push  uint32
	At    int64
	Delay int64
}

// Log records a queue's operations, so that a benchmark can replay a real run's exact
// stream of pushes, pops, resets and cancels on a bare queue: the floor the simulator's
// queue work can reach, measured rather than assumed. Only operations that did something
// are recorded (a Reset or Cancel of a stale handle is not).
type Log struct {
	Ops    []Op
	pushes uint32
	// pushOf is, by slot, the push number of the entry living in it.
	pushOf []uint32
}

// Pushes is how many pushes the log holds.
func (l *Log) Pushes() int { return int(l.pushes) }

// Record makes q append every operation from now on to l (nil stops recording).
func (q *Queue[T]) Record(l *Log) { q.log = l }

func (l *Log) push(slot uint32, at, delay int64, after bool) {
	for int(slot) >= len(l.pushOf) {
		l.pushOf = append(l.pushOf, 0)
	}
	l.pushOf[slot] = l.pushes
	op := Op{Kind: OpPush, Push: l.pushes, At: at}
	if after {
		op.Kind, op.Delay = OpPushAfter, delay
	}
	l.Ops = append(l.Ops, op)
	l.pushes++
}

func (l *Log) op(k OpKind, slot uint32, at int64) {
	l.Ops = append(l.Ops, Op{Kind: k, Push: l.pushOf[slot], At: at})
}

// Replay runs ops on q (which should be empty) and returns how many entries it popped.
// handles must have room for every push of the log (Log.Pushes); it is scratch space,
// passed in so that a benchmark's timed loop allocates nothing.
func Replay[T any](q *Queue[T], ops []Op, handles []Handle) (pops int) {
	var zero T
	for _, op := range ops {
		switch op.Kind {
		case OpPush:
			handles[op.Push] = q.Push(op.At, zero)
		case OpPushAfter:
			handles[op.Push] = q.PushAfter(op.At, op.Delay, zero)
		case OpPop:
			q.Pop()
			pops++
		case OpReset:
			q.Reset(handles[op.Push], op.At)
		case OpCancel:
			q.Cancel(handles[op.Push])
		}
	}
	return pops
}
