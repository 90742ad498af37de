//go:build !linux

package simulate

// Elsewhere than on Linux there is no advice to give (see hugepages_linux.go).
type heapAdvisor struct{}

func newHeapAdvisor() *heapAdvisor { return nil }

func (*heapAdvisor) advise() {}
