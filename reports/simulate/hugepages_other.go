//go:build !linux

package simulate

// adviseEvery: see hugepages_linux.go; elsewhere there is no advice to give.
const adviseEvery = 1 << 16

type heapAdvisor struct{}

func newHeapAdvisor() *heapAdvisor { return nil }

func (*heapAdvisor) advise() {}
