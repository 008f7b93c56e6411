package cpu

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// ranger is a unit of parallel work: run handles the items [lo, hi).
// Kernels keep one as a field built at Prepare time, so handing it to the
// pool allocates nothing.
type ranger interface{ run(lo, hi int) }

// pool is a set of persistent worker goroutines. One parallel call holds it
// at a time; a call that finds it busy (another Program running at the same
// moment, or a nested call from inside a worker) runs its chunks on its own
// goroutine instead of waiting, so the pool can never deadlock.
type pool struct {
	mu      sync.Mutex // held for the whole of one parallel call
	workers []chan struct{}
	done    chan any // one value per woken worker: nil or a recovered panic

	// The current job, written before the wake-ups and read by workers.
	r         ranger
	n, chunks int
	next      atomic.Int64 // next chunk to claim
}

var defaultPool pool

// split runs r over [0, n) cut into chunks contiguous ranges, claimed by
// the caller and chunks-1 workers.
func (p *pool) split(n, chunks int, r ranger) {
	if !p.mu.TryLock() {
		for i := 0; i < chunks; i++ {
			r.run(n*i/chunks, n*(i+1)/chunks)
		}
		return
	}
	defer p.mu.Unlock()
	helpers := chunks - 1
	p.grow(helpers)
	p.r, p.n, p.chunks = r, n, chunks
	p.next.Store(0)
	for _, w := range p.workers[:helpers] {
		w <- struct{}{}
	}
	var caught any
	func() {
		defer func() { caught = recover() }()
		p.work()
	}()
	for range helpers {
		if v := <-p.done; v != nil && caught == nil {
			caught = v
		}
	}
	p.r = nil
	if caught != nil {
		panic(fmt.Sprintf("cpu: parallel kernel panicked: %v", caught))
	}
}

// run runs r.run(i, i+1) for each chunk i in [0, chunks).
func (p *pool) run(chunks int, r ranger) { p.split(chunks, chunks, r) }

// work claims chunks of the current job until none are left.
func (p *pool) work() {
	for {
		i := int(p.next.Add(1) - 1)
		if i >= p.chunks {
			return
		}
		p.r.run(p.n*i/p.chunks, p.n*(i+1)/p.chunks)
	}
}

// grow starts workers until there are at least k. The caller holds mu, so
// no worker is busy and done is empty while it is replaced.
func (p *pool) grow(k int) {
	if len(p.workers) >= k {
		return
	}
	p.done = make(chan any, k)
	for len(p.workers) < k {
		w := make(chan struct{}, 1)
		p.workers = append(p.workers, w)
		go p.loop(w)
	}
}

// loop is a worker: each wake-up takes part in the current job.
func (p *pool) loop(wake chan struct{}) {
	for range wake {
		p.done <- p.safeWork()
	}
}

// safeWork runs work and returns a panic value instead of crashing the
// process from a worker goroutine; split re-panics on the caller.
func (p *pool) safeWork() (caught any) {
	defer func() { caught = recover() }()
	p.work()
	return nil
}
