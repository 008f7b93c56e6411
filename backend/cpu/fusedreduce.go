package cpu

import (
	"fmt"
	"math"
	"runtime"

	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// reduceRun is a reduction with a fused prologue bound to one launch site:
// rows are shared out across workers; each evaluates its rows' body chunk
// by chunk into scratch and folds the chunk into the row's accumulator, so
// the prologue's values never reach memory.
//
// With a Pre reduction, each row is first reduced by it (into preResult),
// then by the body, which reads that result. With an epilogue, each
// reduced row is kept in result and the epilogue then computes the row's
// outputs from it while the row's inputs are still in cache.
type reduceRun struct {
	r      *kernel.Reduce
	pre    *foldStage // nil without a Pre reduction
	body   *foldStage
	chunks int
	epi    *fusedRun
	// preResult and result hold the reduced rows the later stages read;
	// bin and ein are the body's and the epilogue's inputs: the launch's,
	// then preResult, then result (set each launch).
	preResult, result *tensor.Array
	bin, ein          []*tensor.Array
}

// foldStage is one reduction of a row: its body evaluated chunk by chunk
// and folded into one value per row of out.
type foldStage struct {
	op  op.Code
	run *fusedRun
	res []slot // per worker: the body's values for one chunk
	// direct: the body is one contiguous load, folded where it lies.
	direct bool
	input  int
}

func newFoldStage(r *kernel.Reduce, workers int) (*foldStage, error) {
	p, err := planFor(r.Body)
	if err != nil {
		return nil, err
	}
	d := r.Body.Out()
	if d != tensor.F32 && d != tensor.F64 && d != tensor.I32 && d != tensor.I64 {
		return nil, fmt.Errorf("cpu: fused %v over %v", r.Op, d)
	}
	st := &foldStage{op: r.Op, run: newFusedRun(p)}
	for len(st.run.scratch) < workers {
		st.run.scratch = append(st.run.scratch, newFusedRun(p).scratch[0])
	}
	if n := r.Body.Nodes; len(n) == 1 && n[0].Kind == kernel.Load {
		s := p.strides[0]
		st.direct, st.input = s[len(s)-1] == 1, n[0].Input
	}
	for range st.run.scratch {
		st.res = append(st.res, slotOf(tensor.MustZeros(d, tensor.Shape{chunk}), 0, chunk))
	}
	return st, nil
}

func fusedReduceKernel(r *kernel.Reduce) (kernelFunc, error) {
	if err := r.Verify(); err != nil {
		return nil, err
	}
	// Rows, not chunks of rows, are the unit of parallel work here.
	nodes := len(r.Body.Nodes)
	if r.Epilogue != nil {
		nodes += len(r.Epilogue.Nodes)
	}
	if r.Pre != nil {
		nodes += len(r.Pre.Body.Nodes)
	}
	rr := &reduceRun{r: r, chunks: min(chunksFor(r.Rows, r.N*nodes), runtime.GOMAXPROCS(0))}
	workers := max(rr.chunks, 1)
	var err error
	if rr.body, err = newFoldStage(r, workers); err != nil {
		return nil, err
	}
	launch := len(r.Body.Inputs) // the launch's inputs but with a Pre
	if r.Pre != nil {
		if rr.pre, err = newFoldStage(r.Pre, workers); err != nil {
			return nil, err
		}
		rr.preResult = tensor.MustZeros(r.Pre.Body.Out(), tensor.Shape{r.Rows})
		rr.bin = make([]*tensor.Array, len(r.Body.Inputs))
		launch--
	}
	if r.Epilogue != nil {
		ep, err := planFor(r.Epilogue)
		if err != nil {
			return nil, err
		}
		rr.epi = newFusedRun(ep)
		for len(rr.epi.scratch) < workers {
			rr.epi.scratch = append(rr.epi.scratch, newFusedRun(ep).scratch[0])
		}
		rr.result = tensor.MustZeros(r.Body.Out(), tensor.Shape{r.Rows})
		rr.ein = make([]*tensor.Array, len(r.Epilogue.Inputs))
		launch = len(r.Epilogue.Inputs) - 1
		if r.Pre != nil {
			launch--
		}
	}
	return func(in []*tensor.Array, out *tensor.Array) error {
		if len(in) < launch || (r.Pre != nil || r.Epilogue != nil) && len(in) != launch {
			return fmt.Errorf("cpu: fused %v: %d inputs, want %d", r.Op, len(in), launch)
		}
		return rr.launch(in, out)
	}, nil
}

func (rr *reduceRun) launch(in []*tensor.Array, out *tensor.Array) error {
	b := rr.body.run
	b.in, b.out = in, out
	if p := rr.pre; p != nil {
		p.run.in, p.run.out = in, rr.preResult
		copy(rr.bin, in)
		rr.bin[len(in)] = rr.preResult
		b.in = rr.bin
	}
	if e := rr.epi; e != nil {
		copy(rr.ein, b.in)
		rr.ein[len(b.in)] = rr.result
		b.out = rr.result
		e.in, e.out = rr.ein, out
		e.nt = out.DType().Size()*out.Len() >= ntBytes
	}
	parallelChunks(rr.chunks, rr)
	b.in, b.out = nil, nil
	err := takeErr(b.scratch)
	if p := rr.pre; p != nil {
		p.run.in, p.run.out = nil, nil
		clear(rr.bin)
		if perr := takeErr(p.run.scratch); err == nil {
			err = perr
		}
	}
	if e := rr.epi; e != nil {
		e.in, e.out = nil, nil
		clear(rr.ein)
		if eerr := takeErr(e.scratch); err == nil {
			err = eerr
		}
	}
	return err
}

// takeErr returns the first fault the workers recorded and clears them all.
func takeErr(ss []*scratch) error {
	var err error
	for _, s := range ss {
		if err == nil {
			err = s.err
		}
		s.err = nil
	}
	return err
}

// run reduces worker c's rows.
func (rr *reduceRun) run(c, _ int) {
	r := rr.r
	chunks := max(rr.chunks, 1)
	s := rr.body.run.scratch[c]
	for row := r.Rows * c / chunks; row < r.Rows*(c+1)/chunks && s.err == nil; row++ {
		if rr.pre != nil {
			rr.pre.row(c, row, r.N)
		}
		rr.body.row(c, row, r.N)
		if rr.epi != nil {
			rr.epilogue(c, row)
		}
	}
}

// row reduces row row (of n elements) with worker c's scratch into the
// stage's output.
func (st *foldStage) row(c, row, n int) {
	b := st.run
	s, res := b.scratch[c], st.res[c]
	inner := b.p.inner
	var sum float64
	var isum, ibest int64
	best := math.NaN()
	first := true
	for q, end := row*n, (row+1)*n; q < end; {
		prow, j := q/inner, q%inner
		m := min(chunk, inner-j, end-q)
		var v slot
		if st.direct {
			b.setRow(s, prow)
			v = slotOf(b.in[st.input], b.loadBase(s, 0, j), m)
		} else {
			v = res.head(m)
			b.chunk(s, prow, j, m, v)
		}
		switch {
		case v.f32 != nil:
			sum, best, first = foldFloat(st.op, v.f32, sum, best, first)
		case v.f64 != nil:
			sum, best, first = foldFloat(st.op, v.f64, sum, best, first)
		case v.i32 != nil:
			isum, ibest, first = foldInt(st.op, v.i32, isum, ibest, first)
		case v.i64 != nil:
			isum, ibest, first = foldInt(st.op, v.i64, isum, ibest, first)
		}
		q += m
	}
	switch b.out.DType() {
	case tensor.F32:
		b.out.Float32s()[row] = float32(pick(st.op, sum, best))
	case tensor.F64:
		b.out.Float64s()[row] = pick(st.op, sum, best)
	case tensor.I32:
		b.out.Int32s()[row] = int32(pickInt(st.op, isum, ibest))
	case tensor.I64:
		b.out.Int64s()[row] = pickInt(st.op, isum, ibest)
	}
}

// epilogue computes worker c's outputs of one row, whose reduced value is
// in rr.result.
func (rr *reduceRun) epilogue(c, row int) {
	e, n := rr.epi, rr.r.N
	s := e.scratch[c]
	inner := e.p.inner
	for q, end := row*n, (row+1)*n; q < end && s.err == nil; {
		prow, j := q/inner, q%inner
		m := min(chunk, inner-j, end-q)
		q += m
		if e.p.vm != nil && useVM && m >= vmBlock {
			done := e.chunkVM(s, prow, j, m)
			if done == m {
				continue
			}
			j, m = j+done, m-done
		}
		e.chunk(s, prow, j, m, slotOf(e.out, prow*inner+j, m))
	}
}

// foldFloat adds a chunk to a row's running sum (in float64, so long f32
// rows keep their precision) or running extreme; a NaN wins and stays, as
// in torch.
func foldFloat[T float](c op.Code, v []T, sum, best float64, first bool) (float64, float64, bool) {
	if c == op.ReduceSum {
		var z T
		if _, ok := any(z).(float32); ok { // boxing a zero scalar does not allocate
			s, done := sumF32(as[float32](v))
			sum += s
			v = v[done:]
		}
		for _, x := range v {
			sum += float64(x)
		}
		return sum, best, first
	}
	for _, x := range v {
		f := float64(x)
		switch {
		case !first && best != best:
			return sum, best, false
		case first || f != f || (c == op.ReduceMax && f > best) || (c == op.ReduceMin && f < best):
			best, first = f, false
		}
	}
	return sum, best, first
}

// foldInt is foldFloat for integers: sums and extremes are exact.
func foldInt[T integer](c op.Code, v []T, sum, best int64, first bool) (int64, int64, bool) {
	for _, x := range v {
		y := int64(x)
		switch {
		case c == op.ReduceSum:
			sum += y
		case first || (c == op.ReduceMax && y > best) || (c == op.ReduceMin && y < best):
			best, first = y, false
		}
	}
	return sum, best, first
}

func pick(c op.Code, sum, best float64) float64 {
	if c == op.ReduceSum {
		return sum
	}
	return best
}

func pickInt(c op.Code, sum, best int64) int64 {
	if c == op.ReduceSum {
		return sum
	}
	return best
}
