package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countRanger records how often each item was visited.
type countRanger struct{ hits []atomic.Int32 }

func (c *countRanger) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		c.hits[i].Add(1)
	}
}

func (c *countRanger) check(t *testing.T) {
	t.Helper()
	for i := range c.hits {
		if h := c.hits[i].Load(); h != 1 {
			t.Fatalf("item %d visited %d times, want 1", i, h)
		}
	}
}

func TestPoolCoversEachItemOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, tc := range []struct{ n, cost int }{
		{0, 1}, {1, 1 << 20}, {2, 1 << 20}, {3, 1 << 20}, {7, 1 << 16}, {1000, 1 << 10}, {5, 1},
	} {
		c := &countRanger{hits: make([]atomic.Int32, tc.n)}
		parallelRun(tc.n, tc.cost, c)
		c.check(t)
	}
	for chunks := 0; chunks <= 4; chunks++ {
		c := &countRanger{hits: make([]atomic.Int32, chunks)}
		parallelChunks(chunks, c)
		c.check(t)
	}
}

func TestPoolConcurrentAndNestedCalls(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 50; it++ {
				outer := &countRanger{hits: make([]atomic.Int32, 64)}
				parallelFor(64, 1<<12, func(lo, hi int) {
					// A nested call finds the pool busy and runs inline.
					inner := &countRanger{hits: make([]atomic.Int32, 32)}
					parallelRun(32, 1<<12, inner)
					inner.check(t)
					outer.run(lo, hi)
				})
				outer.check(t)
			}
		}()
	}
	wg.Wait()
}

type panicRanger struct{}

func (panicRanger) run(lo, hi int) {
	if lo > 0 {
		panic("boom")
	}
}

func TestPoolPanicReachesCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer func() {
		if recover() == nil {
			t.Fatal("panic in a worker did not reach the caller")
		}
	}()
	parallelChunks(2, panicRanger{})
}

func TestPoolZeroAllocs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	c := &countRanger{hits: make([]atomic.Int32, 2)}
	parallelChunks(2, c) // start the workers
	if n := testing.AllocsPerRun(100, func() { parallelChunks(2, c) }); n != 0 {
		t.Fatalf("parallelChunks allocates %v times per call, want 0", n)
	}
}

func BenchmarkPoolDispatch(b *testing.B) {
	c := &countRanger{hits: make([]atomic.Int32, runtime.GOMAXPROCS(0))}
	b.ReportAllocs()
	for b.Loop() {
		parallelChunks(len(c.hits), c)
	}
}

// TestPoolParkedAndSpinningWorkers hands jobs both to workers still
// spinning after the last job and to workers that have parked.
func TestPoolParkedAndSpinningWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for i := 0; i < 40; i++ {
		if i%3 == 0 {
			time.Sleep(3 * spinFor) // let the workers park
		}
		c := &countRanger{hits: make([]atomic.Int32, 3)}
		parallelChunks(3, c)
		c.check(t)
	}
}
