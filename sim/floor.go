package sim

import "github.com/tasksim/tasksim/sim/eventq"

// ReplayQueue replays a run's recorded queue operations (Options.QueueLog) on a bare
// queue of the kernel's own event type, and returns how many events it popped: the
// floor of the kernel's queue work, which BenchmarkFloor measures beside the whole run.
// handles is scratch space with room for every push of the log.
func ReplayQueue(ops []eventq.Op, handles []eventq.Handle) int {
	return eventq.Replay(eventq.New[event](1024), ops, handles)
}
