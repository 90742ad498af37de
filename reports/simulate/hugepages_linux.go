//go:build linux

package simulate

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// Transparent huge pages. A large run is bound by memory latency: at 100,000 workers its
// tables take about 1 GiB, touched all over, and with 4 KiB pages nearly every touch that
// misses the cache also misses the TLB. Where the kernel backs only memory that asks for
// it with huge pages (transparent_hugepage "madvise", the default of many distributions),
// the Go runtime does not ask, so a run asks for the Go heap: madvise(MADV_HUGEPAGE) on
// the mappings that hold it, at the start and again as the heap grows (a mapping the
// runtime adds later does not inherit the advice). It changes no result of a run, only
// how fast its memory is reached. GODEBUG=disablethp=1, Go's own switch against huge
// pages, turns it off.

// madvCollapse is MADV_COLLAPSE (Linux 6.1), which package syscall does not name.
const madvCollapse = 25

var thpWanted = sync.OnceValue(func() bool {
	if strings.Contains(os.Getenv("GODEBUG"), "disablethp=1") {
		return false
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	// "always" needs no advice and "never" ignores it.
	return err == nil && bytes.Contains(mode, []byte("[madvise]"))
})

// heapAdvisor advises the mappings that hold the Go heap.
type heapAdvisor struct {
	probe *[64]byte // an object in the Go heap, whose address finds its mappings
	// advised is the last range advised, so that a look that finds no new mapping
	// makes no system call.
	advised [2]uintptr
}

// newHeapAdvisor returns an advisor, or nil where advice would do nothing.
func newHeapAdvisor() *heapAdvisor {
	if !thpWanted() {
		return nil
	}
	// The advisor escapes, and its probe with it: both are in the heap, not on the stack
	// nor (as a package variable's could be) in the binary's data.
	return &heapAdvisor{probe: new([64]byte)}
}

// advise advises the Go heap's mappings, if they changed since the last time. Errors are
// ignored: advice is only advice.
func (a *heapAdvisor) advise() {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	start, end := heapRange(maps, uintptr(unsafe.Pointer(a.probe)))
	if start == end || [2]uintptr{start, end} == a.advised {
		return
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_HUGEPAGE); errno != 0 {
		return
	}
	// What the heap touched before this advice stays in small pages (a slice that grows
	// maps and fills its new array within one event), so the new part is collapsed into
	// huge pages now.
	lo, hi := start, end
	if old := a.advised; old[0] <= start && start < old[1] {
		lo = old[1]
	}
	if lo < hi {
		syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, madvCollapse)
	}
	a.advised = [2]uintptr{start, end}
}

// heapRange returns the span of anonymous, private, read-write mappings in maps (the text
// of /proc/self/maps) that are contiguous with the one holding addr: the Go heap grows
// by mapping the address space next to it. It returns start == end if no such mapping
// holds addr.
func heapRange(maps []byte, addr uintptr) (start, end uintptr) {
	inRun, holds := false, false
	for len(maps) > 0 {
		line := maps
		if i := bytes.IndexByte(maps, '\n'); i >= 0 {
			line, maps = maps[:i], maps[i+1:]
		} else {
			maps = nil
		}
		lo, hi, ok := anonymousReadWrite(line)
		if ok && inRun && lo == end {
			end = hi
		} else {
			if holds {
				return start, end
			}
			start, end, inRun = lo, hi, ok
		}
		if ok && lo <= addr && addr < hi {
			holds = true
		}
	}
	if !holds {
		return 0, 0
	}
	return start, end
}

// anonymousReadWrite parses one line of /proc/self/maps, "lo-hi perms offset dev inode
// [name]", and reports its range if it is an anonymous private read-write mapping.
func anonymousReadWrite(line []byte) (lo, hi uintptr, ok bool) {
	f := bytes.Fields(line)
	if len(f) != 5 || string(f[1]) != "rw-p" || string(f[4]) != "0" {
		return 0, 0, false
	}
	return mappingRange(f[0])
}

// mappingRange parses a mapping's range, "lo-hi" in hexadecimal, as /proc/self/maps and
// smaps write it.
func mappingRange(field []byte) (lo, hi uintptr, ok bool) {
	l, h, ok := bytes.Cut(field, []byte("-"))
	if !ok {
		return 0, 0, false
	}
	lo64, err1 := strconv.ParseUint(string(l), 16, 64)
	hi64, err2 := strconv.ParseUint(string(h), 16, 64)
	if err1 != nil || err2 != nil || hi64 <= lo64 {
		return 0, 0, false
	}
	return uintptr(lo64), uintptr(hi64), true
}
