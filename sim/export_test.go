package sim

// QueueStateAfter runs cfg and reports what its jetstream queue still tracks at the end:
// delivery numbers remembered and messages held (tests of the queue's memory).
func QueueStateAfter(cfg *Config) (deliveries, messages int, err error) {
	w, err := newWorld(cfg, Options{})
	if err != nil {
		return 0, 0, err
	}
	if err := w.loop(); err != nil {
		return 0, 0, err
	}
	return w.queue.TrackedDeliveries(), w.queue.HeldMessages(), nil
}
