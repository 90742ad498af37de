//go:build linux

package simulate

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
	"unsafe"
)

func TestHeapRangeIsTheRunHoldingTheHeap(t *testing.T) {
	maps := `00400000-00600000 r-xp 00000000 08:01 1234   /usr/bin/tasksim
02718000-04762000 rw-p 00000000 00:00 0
379dc000-379fd000 rw-p 00000000 00:00 0                                  [heap]
c000000000-c000400000 rw-p 00000000 00:00 0
c000400000-c004000000 rw-p 00000000 00:00 0
c004000000-c008000000 rw-p 00000000 00:00 0
c008000000-c010000000 ---p 00000000 00:00 0
c010000000-c014000000 rw-p 00000000 00:00 0
7f0c3f800000-7f0c40000000 rw-p 00000000 00:00 0
7f0c40000000-7f0c40021000 rw-p 00001000 08:01 99     /lib/x.so
7ffc1c6d2000-7ffc1c6f3000 rw-p 00000000 00:00 0                          [stack]`
	for _, c := range []struct {
		addr, start, end uintptr
	}{
		{0xc000000000, 0xc000000000, 0xc008000000}, // the first of a run
		{0xc004123456, 0xc000000000, 0xc008000000}, // the last of a run
		{0xc010000000, 0xc010000000, 0xc014000000}, // past a reserved gap: a run of its own
		{0x02718000, 0x02718000, 0x04762000},       // anonymous, before a named mapping
		{0x379dc000, 0, 0},                         // the C heap: named
		{0xc008000000, 0, 0},                       // reserved, not read-write
		{0x7f0c40000000, 0, 0},                     // a file's mapping
		{0x7ffc1c6d2000, 0, 0},                     // the stack: named
		{0x10, 0, 0},                               // in no mapping
	} {
		start, end := heapRange([]byte(maps), c.addr)
		if start != c.start || end != c.end {
			t.Errorf("heapRange(%#x) = %#x-%#x, want %#x-%#x", c.addr, start, end, c.start, c.end)
		}
	}
	// The last line need not end in a newline, and may hold the address.
	if start, end := heapRange([]byte("c000000000-c000400000 rw-p 00000000 00:00 0"), 0xc000000001); start != 0xc000000000 || end != 0xc000400000 {
		t.Errorf("last line: %#x-%#x", start, end)
	}
}

// advise marks the mapping that holds a heap object for huge pages (VmFlags "hg" in
// /proc/self/smaps), whatever the system's setting: the flag is recorded even where
// the kernel would not act on it.
func TestAdviseMarksTheHeap(t *testing.T) {
	a := newHeapAdvisor()
	if a == nil {
		a = &heapAdvisor{probe: new([64]byte)} // the advice is recorded whatever the setting
	}
	big := make([]byte, 64<<20)
	addr := uintptr(unsafe.Pointer(&big[len(big)/2]))
	a.advise()
	if a.advised == [2]uintptr{} {
		t.Skip("madvise(MADV_HUGEPAGE) refused: a kernel without transparent huge pages")
	}
	if !(a.advised[0] <= addr && addr < a.advised[1]) {
		t.Fatalf("advised %#x-%#x, which does not hold %#x", a.advised[0], a.advised[1], addr)
	}
	if flags := vmFlags(t, addr); !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("VmFlags of the mapping holding the heap object: %q, want hg among them", flags)
	}
	// A second look at unchanged mappings advises nothing new.
	before := a.advised
	a.advise()
	if a.advised != before {
		t.Errorf("advised %#x-%#x after %#x-%#x with no new mapping", a.advised[0], a.advised[1], before[0], before[1])
	}
	big[0] = 1 // keeps big alive through the checks
}

// vmFlags returns the VmFlags line of the mapping of /proc/self/smaps that holds addr.
func vmFlags(t *testing.T, addr uintptr) string {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	holds := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		// A mapping's header is "lo-hi perms offset dev inode [name]"; its details are
		// "Key: value" lines.
		if f := bytes.Fields(line); len(f) >= 5 && !bytes.HasSuffix(f[0], []byte(":")) {
			if lo, hi, ok := mappingRange(f[0]); ok {
				holds = lo <= addr && addr < hi
				continue
			}
		}
		if flags, ok := bytes.CutPrefix(line, []byte("VmFlags:")); ok && holds {
			return strings.TrimSpace(string(flags))
		}
	}
	t.Fatalf("no mapping in /proc/self/smaps holds %#x", addr)
	return ""
}
