package gateway

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// noLeaks checks, once the test and its other cleanups are done (so call
// it first), that the goroutines the test started have ended and that the
// heap is back near where it began: a hostile client leaves nothing
// behind.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	heapBefore := liveHeap()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			t.Errorf("%d goroutines left behind (%d before, %d after):\n%s", n-before, before, n, firstStacks(stacks, 10))
		}
		const slack = 16 << 20
		var heap uint64
		for time.Now().Before(deadline.Add(5 * time.Second)) {
			if heap = liveHeap(); heap < heapBefore+slack {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("the heap grew from %d to %d bytes and stayed", heapBefore, heap)
	})
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func firstStacks(all string, n int) string {
	parts := strings.Split(all, "\n\n")
	if len(parts) > n {
		parts = parts[:n]
	}
	return strings.Join(parts, "\n\n")
}
