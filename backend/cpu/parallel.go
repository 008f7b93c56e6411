package cpu

import (
	"runtime"
	"sync"
)

// grain is the least work (in elements or multiply-adds) worth a goroutine.
const grain = 1 << 15

// parallelFor splits [0, n) into contiguous chunks, one per core, when the
// total work (n*cost) is large enough to pay for the goroutines.
func parallelFor(n, cost int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p == 1 || n < 2 || n*cost < 2*grain {
		f(0, n)
		return
	}
	chunks := min(p, n, n*cost/grain)
	var wg sync.WaitGroup
	for c := 0; c < chunks; c++ {
		lo, hi := n*c/chunks, n*(c+1)/chunks
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}
