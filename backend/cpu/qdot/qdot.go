package qdot

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// MatVec computes dst[r] = Σ_c W[r,c]·x[c] for r < rows, where w holds the
// rows×cols weight matrix W in format t, row after row (a GGUF tensor with
// ne0 = cols, ne1 = rows), and x has cols elements. cols must be a
// multiple of t's block size, len(w) must be exactly rows rows of
// RowBytes(t, cols), and len(dst) must be rows. Errors wrap ErrType or
// ErrShape. x is quantised to 8-bit blocks first (see the package doc).
func MatVec(t Type, dst []float32, w []byte, rows, cols int, x []float32) error {
	return MatMul(t, dst, w, rows, cols, x, 1)
}

// MatMul computes dst[i*rows+r] = Σ_c W[r,c]·x[i*cols+c] for n activation
// rows x (n×cols, row-major): dst = x·Wᵀ (n×rows), which is ggml's
// mul_mat(W, x). W is as in MatVec. Each activation row is quantised once;
// each weight row is read once and dotted with all n activation rows.
func MatMul(t Type, dst []float32, w []byte, rows, cols int, x []float32, n int) error {
	if _, ok := formats[t]; !ok {
		return fmt.Errorf("%w: %v", ErrType, t)
	}
	if rows < 0 || n < 0 {
		return fmt.Errorf("%w: negative size rows=%d n=%d", ErrShape, rows, n)
	}
	rb, err := RowBytes(t, cols)
	if err != nil {
		return err
	}
	if len(w) != rows*rb {
		return fmt.Errorf("%w: %d×%d %s weights take %d bytes, got %d", ErrShape, rows, cols, t, rows*rb, len(w))
	}
	if len(x) != n*cols {
		return fmt.Errorf("%w: %d activation rows of %d need %d values, got %d", ErrShape, n, cols, n*cols, len(x))
	}
	if len(dst) != n*rows {
		return fmt.Errorf("%w: output of %d×%d needs %d values, got %d", ErrShape, n, rows, n*rows, len(dst))
	}
	if rows == 0 || n == 0 {
		return nil
	}
	a := actPool.Get().(*acts)
	defer actPool.Put(a)
	a.prepare(t, x, n, cols)
	xs := a.rows[:0]
	for i := 0; i < n; i++ {
		xs = append(xs, a.row(i))
	}
	a.rows = xs
	dot, rk := active.dot[t], active.rows[t]
	// rest dots weight rows [r0, r1) with activation rows from i0 on:
	// with the many-row kernel, one call per activation row, the rows
	// taken in blocks that stay in the L2 cache while the activation rows
	// go by.
	rest := func(r0, r1, i0 int) {
		if rk == nil {
			for r := r0; r < r1; r++ {
				wr := w[r*rb : (r+1)*rb]
				for i := i0; i < n; i++ {
					dst[i*rows+r] = dot(wr, &xs[i])
				}
			}
			return
		}
		if i0 == n-1 {
			rk(w[r0*rb:r1*rb], &xs[i0], dst[i0*rows+r0:i0*rows+r1])
			return
		}
		blk := max(1, tileBlockBytes/rb)
		for b0 := r0; b0 < r1; b0 += blk {
			b1 := min(b0+blk, r1)
			for i := i0; i < n; i++ {
				rk(w[b0*rb:b1*rb], &xs[i], dst[i*rows+b0:i*rows+b1])
			}
		}
	}
	work := func(r0, r1 int) { rest(r0, r1, 0) }
	if tks := active.tile[t]; len(tks) > 0 && n >= tks[len(tks)-1].rows {
		// Each weight row is unpacked once per tile of activation rows
		// instead of once per row. A block of weight rows (in the L2
		// cache) meets every tile (in L1) before the next block is read.
		// Tiles are as large as the kernels allow; the remaining rows
		// take the one-row kernels.
		tiles, nt := a.tiles[:0], 0
		for k := range tks {
			for ; nt+tks[k].rows <= n; nt += tks[k].rows {
				tiles = append(tiles, tileSpan{nt, &tks[k]})
			}
		}
		a.tiles = tiles
		a.prepareTiles(t, tiles)
		blk := max(1, tileBlockBytes/rb)
		work = func(r0, r1 int) {
			for b0 := r0; b0 < r1; b0 += blk {
				b1 := min(b0+blk, r1)
				for _, tl := range tiles {
					tl.k.dot(w[b0*rb:b1*rb], a, tl.i0, dst[tl.i0*rows+b0:], rows)
				}
				if nt < n {
					rest(b0, b1, nt)
				}
			}
		}
	}
	parallel(rows, rows*rb*n, work)
	return nil
}

// tileBlockBytes is about how many weight bytes MatMul's tiled loop dots
// with every tile of activation rows before moving on: small enough to stay
// in the L2 cache while the tiles go by.
const tileBlockBytes = 128 << 10

var actPool = sync.Pool{New: func() any { return new(acts) }}

// minParallelBytes is the work (weight bytes times activation rows) below
// which starting goroutines costs more than it saves.
const minParallelBytes = 1 << 16

// splitter runs work over [0, rows) in contiguous shares across cores and
// returns when all are done; see SetParallel.
type splitter func(rows int, work func(r0, r1 int))

var split splitter = spawnSplit

// SetParallel makes products split their rows with f instead of starting a
// goroutine per share on every call: a runtime with a persistent worker
// pool installs it once (backend/cpu does), so a decode step's hundreds of
// matrix-vector products hand work to running workers. f must run work on
// disjoint ranges covering [0, rows) and return when all have finished. A
// nil f restores the default.
func SetParallel(f func(rows int, work func(r0, r1 int))) {
	if f == nil {
		split = spawnSplit
		return
	}
	split = f
}

// parallel runs work over [0, rows), split across cores when the work
// (weight bytes times activation rows) pays for it.
func parallel(rows, cost int, work func(r0, r1 int)) {
	if runtime.GOMAXPROCS(0) <= 1 || rows <= 1 || cost < minParallelBytes {
		work(0, rows)
		return
	}
	split(rows, work)
}

// spawnSplit runs work on up to GOMAXPROCS new goroutines that take
// contiguous chunks of rows from a shared counter, so a core slowed by
// other load takes fewer chunks instead of holding everyone up.
func spawnSplit(rows int, work func(r0, r1 int)) {
	p := min(runtime.GOMAXPROCS(0), rows)
	chunk := max(rows/(8*p), 1)
	var next atomic.Int64
	run := func() {
		for {
			r1 := int(next.Add(int64(chunk)))
			r0 := r1 - chunk
			if r0 >= rows {
				return
			}
			work(r0, min(r1, rows))
		}
	}
	// Every share runs on a new goroutine while this one waits: a
	// goroutine started by one that keeps running sits in its P's runnext
	// slot, which other Ps steal from last, so it could start late.
	var wg sync.WaitGroup
	for k := 0; k < p; k++ {
		wg.Go(run)
	}
	wg.Wait()
}
