package cpu

import "runtime"

// grain is the least work (in elements or multiply-adds) worth a core.
const grain = 1 << 15

// parallelFor splits [0, n) into contiguous chunks, at most one per core,
// when the total work (n*cost) is large enough to pay for waking workers, and
// runs f on them with the persistent worker pool. f must be safe to call
// concurrently on disjoint ranges. It returns when every chunk is done.
func parallelFor(n, cost int, f func(lo, hi int)) {
	parallelRun(n, cost, rangeFunc(f))
}

// rangeFunc adapts a closure to ranger.
type rangeFunc func(lo, hi int)

func (f rangeFunc) run(lo, hi int) { f(lo, hi) }

// parallelRun is parallelFor over a ranger, which kernels can allocate once
// at Prepare time so that a parallel call allocates nothing.
func parallelRun(n, cost int, r ranger) {
	chunks := chunksFor(n, cost)
	if chunks <= 1 {
		r.run(0, n) // also for n == 0, as callers may rely on one call
		return
	}
	defaultPool.split(n, chunks, r)
}

// chunksFor is how many chunks parallelRun would use for n items of the
// given cost each: one per core, fewer when the work is small.
func chunksFor(n, cost int) int {
	p := runtime.GOMAXPROCS(0)
	if p == 1 || n < 2 || n*cost < 2*grain {
		return 1
	}
	return max(1, min(p, n, n*cost/grain))
}

// parallelChunks runs r.run(i, i+1) for every i in [0, chunks) with one
// chunk per core, for callers that have already split the work (chunk i
// may own per-worker scratch i). chunks must not exceed GOMAXPROCS.
func parallelChunks(chunks int, r ranger) {
	if chunks <= 1 {
		if chunks == 1 {
			r.run(0, 1)
		}
		return
	}
	defaultPool.run(chunks, r)
}
