package cpu

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// ErrGEMM reports bad GEMM dimensions or buffer lengths.
var ErrGEMM = errors.New("cpu: gemm")

// Activation is the activation function of a GEMM Epilogue.
type Activation int

// Activations a GEMM Epilogue can apply.
const (
	ActNone     Activation = iota // identity
	ActReLU                       // max(x, 0)
	ActGELU                       // x * Φ(x), with the exact erf
	ActGELUTanh                   // the tanh approximation of GELU
	ActSiLU                       // x * sigmoid(x)
)

// Epilogue is work fused into a GEMM: it is applied to each finished tile
// of C while that tile is still in cache, as
//
//	C[b][i][j] = Act(C[b][i][j]·Scale + Bias[j]) + Residual[b][i][j]
//
// Scale applies when Scaled is set; a nil Bias or Residual is skipped.
type Epilogue[T float] struct {
	Scaled   bool
	Scale    T
	Bias     []T // n values, one per output column
	Act      Activation
	Residual []T // batch*m*n values laid out like C
}

// GEMM is a prepared batched matrix product C = A·B of row-major
// [batch, m, k] by [batch, k, n] into [batch, m, n], run with packed
// panels, cache blocking and a register-blocked microkernel (AVX-512 or
// AVX2 assembly where the CPU has it, else Go), split across the worker pool
// over both output dimensions. A GEMM is safe for concurrent use and Run
// allocates nothing in the steady state.
type GEMM[T float] struct {
	batch, m, k, n int
	bStride        int // elements between B's batch items; 0: k*n
	ks             kernelSet[T]
	kc, mc, nc     int
	job            gemmJob[T]
	mu             sync.Mutex // guards job during one Run
}

// NewGEMM prepares a GEMM with the best kernels of this CPU (or the Go
// kernels when forced, see forceGeneric).
func NewGEMM[T float](batch, m, k, n int) (*GEMM[T], error) {
	if batch < 0 || m < 0 || k < 0 || n < 0 {
		return nil, fmt.Errorf("%w: negative size [%d, %d, %d] x [%d, %d, %d]", ErrGEMM, batch, m, k, batch, k, n)
	}
	g := &GEMM[T]{batch: batch, m: m, k: k, n: n, ks: kernelsFor[T]()}
	g.kc, g.mc, g.nc = blocking(g.ks)
	g.job.g = g
	return g, nil
}

// newStridedGEMM prepares a GEMM whose B batch items lie bs elements
// apart (bs >= k·n), each the leading k·n values of its item.
func newStridedGEMM[T float](batch, m, k, n, bs int) (*GEMM[T], error) {
	g, err := NewGEMM[T](batch, m, k, n)
	if err != nil {
		return nil, err
	}
	if bs < k*n {
		return nil, fmt.Errorf("%w: batch stride %d for [%d, %d]", ErrGEMM, bs, k, n)
	}
	g.bStride = bs
	return g, nil
}

// Kernels names the microkernel family the GEMM runs ("AVX512", "AVX2" or
// "Go").
func (g *GEMM[T]) Kernels() string { return g.ks.name }

// Run computes c = a·b (then the epilogue, when ep is not nil). a, b and c
// hold batch*m*k, batch*k*n and batch*m*n values; c must not overlap a or b.
func (g *GEMM[T]) Run(c, a, b []T, ep *Epilogue[T]) error {
	if len(b) != g.batch*g.strideB() {
		return fmt.Errorf("%w: right operand of %d values for %d x [%d, %d]", ErrGEMM, len(b), g.batch, g.k, g.n)
	}
	return g.run(c, a, b, nil, g.strideB(), ep)
}

// strideB is the distance between B's batch items as Run and Pack read
// them: k·n, or more when each item's leading rows are the operand (a
// cache's attended prefix).
func (g *GEMM[T]) strideB() int {
	if g.bStride > 0 {
		return g.bStride
	}
	return g.k * g.n
}

// PackedB is a GEMM's right operand packed once into the panels its
// microkernel reads, as Run packs B for every depth block on every run: a
// constant weight packed this way is never packed again.
//
// Per batch item, depth block [pc, pc+kb) (kb = KC but for the last)
// starts at pc·N' (N' is n rounded up to NR) and holds N'/NR panels of
// kb×NR values, column panel J at J·NR·kb, zero-padded past n. A GEMM
// whose rows fit one microkernel panel streams B unpacked, so its PackedB
// holds B row-major.
type PackedB[T float] struct {
	g    *GEMM[T]
	data []T
}

// NewPackedB returns an empty packed operand for g; Pack fills it.
func (g *GEMM[T]) NewPackedB() *PackedB[T] {
	if g.streamsB() {
		return &PackedB[T]{g: g, data: make([]T, g.batch*g.k*g.n)}
	}
	return &PackedB[T]{g: g, data: make([]T, g.batch*g.k*g.npad())}
}

// streamsB reports whether Run reads B in place (m fits one row panel).
func (g *GEMM[T]) streamsB() bool { return g.m <= g.ks.mr }

// npad is n rounded up to whole panels.
func (g *GEMM[T]) npad() int { return ceilDiv(g.n, g.ks.nr) * g.ks.nr }

// Pack packs b, batch×[k, n] row-major or, when trans, batch×[n, k] (a
// weight stored transposed, as y = x·Wᵀ reads it), allocating nothing.
func (p *PackedB[T]) Pack(b []T, trans bool) error {
	g := p.g
	bt, k, n, nr, kc := g.batch, g.k, g.n, g.ks.nr, g.kc
	bs := g.strideB()
	if len(b) != bt*bs {
		return fmt.Errorf("%w: right operand of %d values for %d x [%d, %d]", ErrGEMM, len(b), bt, k, n)
	}
	if g.streamsB() {
		if !trans {
			copy(p.data, b)
			return nil
		}
		for bi := 0; bi < bt; bi++ {
			transpose(p.data[bi*k*n:(bi+1)*k*n], b[bi*bs:bi*bs+n*k], n, k)
		}
		return nil
	}
	np := g.npad()
	for bi := 0; bi < bt; bi++ {
		src := b[bi*bs : bi*bs+k*n]
		dst := p.data[bi*k*np : (bi+1)*k*np]
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			blk := dst[pc*np : (pc+kb)*np]
			if trans {
				packBT(blk, src, k, pc, kb, n, nr)
			} else {
				packB(blk, src, n, pc, kb, 0, n, nr)
			}
		}
	}
	return nil
}

// RunPacked computes c = a·b like Run, reading b from its packed panels.
// The product is bit-identical to Run's over the same values.
func (g *GEMM[T]) RunPacked(c, a []T, b *PackedB[T], ep *Epilogue[T]) error {
	if b == nil || b.g != g {
		return fmt.Errorf("%w: operand packed for another GEMM", ErrGEMM)
	}
	if g.streamsB() {
		return g.run(c, a, b.data, nil, g.k*g.n, ep)
	}
	return g.run(c, a, nil, b.data, 0, ep)
}

// run checks the buffers and computes c = a·b with B unpacked in b or,
// when pre is set, prepacked there.
func (g *GEMM[T]) run(c, a, b, pre []T, bs int, ep *Epilogue[T]) error {
	bt, m, k, n := g.batch, g.m, g.k, g.n
	if len(a) != bt*m*k || len(c) != bt*m*n {
		return fmt.Errorf("%w: left operand of %d values and output of %d for [%d, %d, %d] x [%d, %d, %d]",
			ErrGEMM, len(a), len(c), bt, m, k, bt, k, n)
	}
	if ep != nil && (ep.Bias != nil && len(ep.Bias) != n || ep.Residual != nil && len(ep.Residual) != len(c)) {
		return fmt.Errorf("%w: epilogue bias of %d values (want %d) or residual of %d (want %d)",
			ErrGEMM, len(ep.Bias), n, len(ep.Residual), len(c))
	}
	if len(c) == 0 {
		return nil
	}
	if !g.mu.TryLock() {
		// Another goroutine is running this GEMM; use a private job.
		j := &gemmJob[T]{g: g}
		j.start(c, a, b, pre, bs, ep)
		return nil
	}
	g.job.start(c, a, b, pre, bs, ep)
	g.mu.Unlock()
	return nil
}

// gemmJob is the ranger for one Run: chunk w runs the tasks
// [tasks*w/chunks, tasks*(w+1)/chunks), where a task is one cell of a
// gr x gc grid over one batch item's output.
type gemmJob[T float] struct {
	g                   *GEMM[T]
	a, b, c             []T
	pre                 []T // B prepacked (a PackedB's data), else nil
	bs                  int // b's batch stride
	ep                  *Epilogue[T]
	per, gr, gc, chunks int
	tasks               int
	direct              bool // m fits one row panel: stream B unpacked
	kcEff               int
	rowUnits, colUnits  int
}

func (j *gemmJob[T]) start(c, a, b, pre []T, bs int, ep *Epilogue[T]) {
	g := j.g
	j.a, j.b, j.c, j.pre, j.ep, j.bs = a, b, c, pre, ep, bs
	j.direct = g.streamsB()
	j.kcEff = g.kc
	switch {
	case g.m == 1 && g.ks.gemv != nil:
		j.kcEff = gemvKC
	case j.direct:
		j.kcEff = directKC
	}
	j.rowUnits = ceilDiv(g.m, g.ks.mr)
	j.colUnits = ceilDiv(g.n, g.ks.nr)
	p := runtime.GOMAXPROCS(0)
	if g.batch*g.m*g.n*max(g.k, 1) < 1<<16 {
		p = 1
	}
	j.per, j.gr, j.gc = 1, 1, 1
	if p > 1 && g.batch%p != 0 {
		j.gr, j.gc = grid(p, j.rowUnits, j.colUnits, g.ks.mr, g.ks.nr, j.direct)
		j.per = j.gr * j.gc
	}
	j.tasks = g.batch * j.per
	j.chunks = min(p, j.tasks)
	parallelChunks(j.chunks, j)
	j.a, j.b, j.c, j.pre, j.ep = nil, nil, nil, nil, nil
}

// grid splits one output into gr x gc = p cells (fewer when it is small),
// choosing the split whose cells have the least perimeter, since each
// worker packs its own rows of A and columns of B.
func grid(p, rowUnits, colUnits, mr, nr int, direct bool) (gr, gc int) {
	best := math.MaxInt
	gr, gc = 1, 1
	for r := 1; r <= p; r++ {
		if p%r != 0 {
			continue
		}
		c := p / r
		if r > rowUnits || c > colUnits || direct && r > 1 {
			continue
		}
		if cost := ceilDiv(rowUnits, r)*mr + ceilDiv(colUnits, c)*nr; cost < best {
			best, gr, gc = cost, r, c
		}
	}
	return gr, gc
}

func (j *gemmJob[T]) run(w, _ int) {
	lo, hi := j.tasks*w/j.chunks, j.tasks*(w+1)/j.chunks
	buf := getGemmBuf[T]()
	g := j.g
	for t := lo; t < hi; t++ {
		bi, cell := t/j.per, t%j.per
		r, cc := cell/j.gc, cell%j.gc
		i0 := min(g.m, j.rowUnits*r/j.gr*g.ks.mr)
		i1 := min(g.m, j.rowUnits*(r+1)/j.gr*g.ks.mr)
		j0 := min(g.n, j.colUnits*cc/j.gc*g.ks.nr)
		j1 := min(g.n, j.colUnits*(cc+1)/j.gc*g.ks.nr)
		j.block(bi, i0, i1, j0, j1, buf)
	}
	putGemmBuf(buf)
}

// block computes rows [i0, i1) and columns [j0, j1) of batch item bi with
// the usual five loops: column blocks of NC (B block in L3), depth blocks
// of KC (packed B), row blocks of MC (packed A in L2), then NR x MR tiles.
func (j *gemmJob[T]) block(bi, i0, i1, j0, j1 int, buf *gemmBuf[T]) {
	g := j.g
	m, k, n := g.m, g.k, g.n
	mrMax, nr := g.ks.mr, g.ks.nr
	a := j.a[bi*m*k : (bi+1)*m*k]
	c := j.c[bi*m*n : (bi+1)*m*n]
	var b, pre []T
	np := g.npad()
	if j.pre != nil {
		pre = j.pre[bi*k*np : (bi+1)*k*np]
	} else {
		b = j.b[bi*j.bs : bi*j.bs+k*n]
	}
	if k == 0 {
		for i := i0; i < i1; i++ {
			clear(c[i*n+j0 : i*n+j1])
			j.epilogue(c, bi, i, 1, j0, j1-j0)
		}
		return
	}
	kc, mc, nc := j.kcEff, g.mc, g.nc
	for jc := j0; jc < j1; jc += nc {
		nb := min(nc, j1-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			acc := pc > 0
			last := pc+kb == k
			if !j.direct && pre == nil {
				buf.b = packB(buf.b, b, n, pc, kb, jc, nb, nr)
			}
			for ic := i0; ic < i1; ic += mc {
				mb := min(mc, i1-ic)
				jr0 := 0
				if mb == 1 && j.direct && g.ks.gemv != nil && nb >= nr {
					// One row: sweep the full panels in one call.
					jr0 = nb / nr * nr
					g.ks.gemv(kb, a[ic*k+pc:], b[pc*n+jc:], n, c[ic*n+jc:], jr0, acc)
					if last {
						j.epilogue(c, bi, ic, 1, jc, jr0)
					}
				}
				buf.a = packA(buf.a, a, k, ic, mb, pc, kb, mrMax)
				for jr := jr0; jr < nb; jr += nr {
					nw := min(nr, nb-jr)
					var bp []T
					ldb := nr
					switch {
					case pre != nil:
						// jc+jr is a whole number of panels: j0 and NC are.
						bp = pre[pc*np+(jc+jr)*kb:]
					case !j.direct:
						bp = buf.b[jr*kb:]
					case nw < nr:
						buf.b = packB(buf.b, b, n, pc, kb, jc+jr, nw, nr)
						bp = buf.b
					default:
						bp, ldb = b[pc*n+jc+jr:], n
					}
					for ir := 0; ir < mb; ir += mrMax {
						mr := min(mrMax, mb-ir)
						ap := buf.a[ir*kb:]
						row := ic + ir
						ci := row*n + jc + jr
						kern := g.ks.k[mr-1]
						if nw == nr {
							kern(kb, ap, bp, ldb, c[ci:], n, acc)
						} else {
							if len(buf.tile) < mrMax*nr {
								buf.tile = make([]T, mrMax*nr)
							}
							kern(kb, ap, bp, ldb, buf.tile, nr, false)
							for i := 0; i < mr; i++ {
								dst := c[ci+i*n : ci+i*n+nw]
								src := buf.tile[i*nr : i*nr+nw]
								if acc {
									for x, v := range src {
										dst[x] += v
									}
								} else {
									copy(dst, src)
								}
							}
						}
						if last {
							j.epilogue(c, bi, row, mr, jc+jr, nw)
						}
					}
				}
			}
		}
	}
}

// epilogue applies j.ep to rows [row, row+rows) and columns [col, col+w)
// of batch item bi's output c.
func (j *gemmJob[T]) epilogue(c []T, bi, row, rows, col, w int) {
	ep := j.ep
	if ep == nil {
		return
	}
	n := j.g.n
	for i := row; i < row+rows; i++ {
		dst := c[i*n+col : i*n+col+w]
		if ep.Scaled {
			for x := range dst {
				dst[x] *= ep.Scale
			}
		}
		if ep.Bias != nil {
			for x, v := range ep.Bias[col : col+w] {
				dst[x] += v
			}
		}
		activate(dst, ep.Act)
		if ep.Residual != nil {
			off := (bi*j.g.m+i)*n + col
			for x, v := range ep.Residual[off : off+w] {
				dst[x] += v
			}
		}
	}
}

// activate applies an activation in place.
func activate[T float](x []T, act Activation) {
	switch act {
	case ActReLU:
		for i, v := range x {
			x[i] = max(v, 0)
		}
	case ActGELU:
		for i, v := range x {
			f := float64(v)
			x[i] = T(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
		}
	case ActGELUTanh:
		for i, v := range x {
			f := float64(v)
			x[i] = T(0.5 * f * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(f+0.044715*f*f*f))))
		}
	case ActSiLU:
		for i, v := range x {
			f := float64(v)
			x[i] = T(f / (1 + math.Exp(-f)))
		}
	}
}

// packA copies rows [ic, ic+mb) and columns [pc, pc+kb) of a (row stride
// lda) into panels of mr rows: panel r starts at r*mr*kb and holds, for
// each p, the column p of its rows. The last panel may have fewer rows; it
// is packed with its own row count, matching the kernel chosen for it.
func packA[T float](dst, a []T, lda, ic, mb, pc, kb, mr int) []T {
	dst = grow(dst, mb*kb)
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		panel := dst[ir*kb : (ir+rows)*kb]
		for i := 0; i < rows; i++ {
			src := a[(ic+ir+i)*lda+pc : (ic+ir+i)*lda+pc+kb]
			for p, v := range src {
				panel[p*rows+i] = v
			}
		}
	}
	return dst
}

// packB copies rows [pc, pc+kb) and columns [jc, jc+nb) of b (row stride
// ldb) into panels of nr columns, each kb x nr and zero-padded on the
// right, so the kernel always reads full vectors.
func packB[T float](dst, b []T, ldb, pc, kb, jc, nb, nr int) []T {
	dst = grow(dst, ceilDiv(nb, nr)*nr*kb)
	for jr := 0; jr < nb; jr += nr {
		w := min(nr, nb-jr)
		panel := dst[jr*kb : jr*kb+nr*kb]
		for p := 0; p < kb; p++ {
			src := b[(pc+p)*ldb+jc+jr : (pc+p)*ldb+jc+jr+w]
			d := panel[p*nr : p*nr+nr]
			copy(d, src)
			clear(d[w:])
		}
	}
	return dst
}

// packBT is packB over columns [0, n) of a right operand stored
// transposed, [n, k] with row stride ldk: column j of B is row j there.
func packBT[T float](dst, bt []T, ldk, pc, kb, n, nr int) {
	for jr := 0; jr < n; jr += nr {
		w := min(nr, n-jr)
		panel := dst[jr*kb : jr*kb+nr*kb]
		for x := 0; x < nr; x++ {
			if x >= w {
				for p := 0; p < kb; p++ {
					panel[p*nr+x] = 0
				}
				continue
			}
			src := bt[(jr+x)*ldk+pc : (jr+x)*ldk+pc+kb]
			for p, v := range src {
				panel[p*nr+x] = v
			}
		}
	}
}

// gemmBuf is one worker's packing scratch, shared by all GEMMs through a
// sync.Pool so that memory does not grow with the number of matmuls.
type gemmBuf[T float] struct{ a, b, tile []T }

var gemmBufs32, gemmBufs64 sync.Pool

func getGemmBuf[T float]() *gemmBuf[T] {
	p := &gemmBufs64
	var zero T
	if _, ok := any(zero).(float32); ok {
		p = &gemmBufs32
	}
	if v, ok := p.Get().(*gemmBuf[T]); ok {
		return v
	}
	return new(gemmBuf[T])
}

func putGemmBuf[T float](b *gemmBuf[T]) {
	var zero T
	if _, ok := any(zero).(float32); ok {
		gemmBufs32.Put(b)
		return
	}
	gemmBufs64.Put(b)
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// transpose writes the rows×cols row-major src into dst as cols×rows.
func transpose[T any](dst, src []T, rows, cols int) {
	for r := range rows {
		for c, v := range src[r*cols : (r+1)*cols] {
			dst[c*rows+r] = v
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
