package cpu

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ranger is a unit of parallel work: run handles the items [lo, hi).
// Kernels keep one as a field built at Prepare time, so handing it to the
// pool allocates nothing.
type ranger interface{ run(lo, hi int) }

// pool is a set of persistent worker goroutines. One parallel call holds it
// at a time; a call that finds it busy (another Program running at the same
// moment, or a nested call from inside a worker) runs its chunks on its own
// goroutine instead of waiting, so the pool can never deadlock.
//
// Waking a parked goroutine costs tens of microseconds on a virtual machine
// (and the woken goroutine may wait in the waker's run queue), so workers
// spin for a short while after each job and the caller spins briefly for
// their results before either side parks: back-to-back kernels then hand
// work over in well under a microsecond. A spinning worker yields its P
// every few hundred polls: qdot's matrix-vector products start a goroutine
// per share, and one waiting behind a spinner for its P made 2-thread
// decode up to twice as slow.
type pool struct {
	mu      sync.Mutex // held for the whole of one parallel call
	workers []*worker
	done    chan any // one value per helper: nil or a recovered panic

	// The current job, written before the hand-over and read by workers.
	r         ranger
	n, chunks int
	next      atomic.Int64 // next chunk to claim
}

// worker states.
const (
	parked   = iota // blocked on wake
	spinning        // polling state for a job
	assigned        // given the current job
)

type worker struct {
	state atomic.Int32
	wake  chan struct{}
}

// spinFor is how long an idle worker, or a caller waiting for helpers,
// polls before it parks.
const spinFor = 50 * time.Microsecond

var defaultPool pool

// split runs r over [0, n) cut into chunks contiguous ranges, claimed by
// the caller and up to GOMAXPROCS-1 workers; more chunks than cores balance
// the load when a core is slowed by other work.
func (p *pool) split(n, chunks int, r ranger) {
	if !p.mu.TryLock() {
		for i := 0; i < chunks; i++ {
			r.run(n*i/chunks, n*(i+1)/chunks)
		}
		return
	}
	defer p.mu.Unlock()
	helpers := min(chunks, runtime.GOMAXPROCS(0)) - 1
	p.grow(helpers)
	p.r, p.n, p.chunks = r, n, chunks
	p.next.Store(0)
	for _, w := range p.workers[:helpers] {
		// A spinning worker takes the job itself; a parked one is woken.
		if !w.state.CompareAndSwap(spinning, assigned) {
			w.state.Store(assigned)
			w.wake <- struct{}{}
		}
	}
	var caught any
	func() {
		defer func() { caught = recover() }()
		p.work()
	}()
	for start := time.Now(); len(p.done) < helpers && time.Since(start) < spinFor; {
		runtime.Gosched()
	}
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
		// A new worker starts out spinning: wake is sent only to a worker
		// that has committed to parking, so no stale token is left behind.
		w := &worker{wake: make(chan struct{}, 1)}
		w.state.Store(spinning)
		p.workers = append(p.workers, w)
		go p.loop(w)
	}
}

// loop is a worker: it waits for a job (spinning, then parked), takes part
// in it, reports, and goes back to spinning.
func (p *pool) loop(w *worker) {
	for {
		if !p.await(w) {
			<-w.wake
		}
		w.state.Store(spinning) // from here on a caller may hand it the next job
		p.done <- p.safeWork()
	}
}

// await polls for a job for spinFor and reports whether one came; if not,
// the worker is marked parked and must block on wake.
func (p *pool) await(w *worker) bool {
	for start, i := time.Now(), 0; ; i++ {
		if w.state.Load() == assigned {
			return true
		}
		if i%256 == 255 {
			if time.Since(start) >= spinFor {
				break
			}
			// Yield the P to any runnable goroutine (the quantised
			// matmuls start one per share): spinning would delay it.
			runtime.Gosched()
		}
	}
	// Parking races with a caller's CompareAndSwap: exactly one wins.
	return !w.state.CompareAndSwap(spinning, parked)
}

// safeWork runs work and returns a panic value instead of crashing the
// process from a worker goroutine; split re-panics on the caller.
func (p *pool) safeWork() (caught any) {
	defer func() { caught = recover() }()
	p.work()
	return nil
}
