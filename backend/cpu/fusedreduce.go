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
// With an epilogue, each reduced row is kept in result and the epilogue
// then computes the row's outputs from it while the row's inputs are still
// in cache.
type reduceRun struct {
	body *fusedRun
	r    *kernel.Reduce
	res  []slot // per worker: the body's values for one chunk
	// direct: the body is one contiguous load, folded where it lies.
	direct bool
	epi    *fusedRun
	// result holds the reduced rows for the epilogue, which binds the
	// launch's inputs followed by result (set each launch in ein).
	result *tensor.Array
	ein    []*tensor.Array
}

func fusedReduceKernel(r *kernel.Reduce) (kernelFunc, error) {
	if err := r.Verify(); err != nil {
		return nil, err
	}
	p, err := planFor(r.Body)
	if err != nil {
		return nil, err
	}
	d := r.Body.Out()
	if d != tensor.F32 && d != tensor.F64 && d != tensor.I32 && d != tensor.I64 {
		return nil, fmt.Errorf("cpu: fused %v over %v", r.Op, d)
	}
	body := newFusedRun(p)
	// Rows, not chunks of rows, are the unit of parallel work here.
	nodes := len(r.Body.Nodes)
	if r.Epilogue != nil {
		nodes += len(r.Epilogue.Nodes)
	}
	body.chunks = min(chunksFor(r.Rows, r.N*nodes), runtime.GOMAXPROCS(0))
	workers := max(body.chunks, 1)
	for len(body.scratch) < workers {
		body.scratch = append(body.scratch, newFusedRun(body.p).scratch[0])
	}
	rr := &reduceRun{body: body, r: r}
	if n := r.Body.Nodes; len(n) == 1 && n[0].Kind == kernel.Load {
		st := p.strides[0]
		rr.direct = st[len(st)-1] == 1
	}
	for range body.scratch {
		rr.res = append(rr.res, slotOf(tensor.MustZeros(d, tensor.Shape{chunk}), 0, chunk))
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
		rr.result = tensor.MustZeros(d, tensor.Shape{r.Rows})
		rr.ein = make([]*tensor.Array, len(r.Epilogue.Inputs))
	}
	return rr.launch, nil
}

func (rr *reduceRun) launch(in []*tensor.Array, out *tensor.Array) error {
	b := rr.body
	b.in, b.out = in, out
	if e := rr.epi; e != nil {
		if len(in) != len(rr.ein)-1 {
			b.in, b.out = nil, nil
			return fmt.Errorf("cpu: fused %v with epilogue: %d inputs, want %d", rr.r.Op, len(in), len(rr.ein)-1)
		}
		copy(rr.ein, in)
		rr.ein[len(in)] = rr.result
		b.out = rr.result
		e.in, e.out = rr.ein, out
		e.nt = out.DType().Size()*out.Len() >= ntBytes
	}
	parallelChunks(b.chunks, rr)
	b.in, b.out = nil, nil
	err := takeErr(b.scratch)
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
	b, r := rr.body, rr.r
	chunks := max(b.chunks, 1)
	s, res := b.scratch[c], rr.res[c]
	inner := b.p.inner
	for row := r.Rows * c / chunks; row < r.Rows*(c+1)/chunks && s.err == nil; row++ {
		var sum float64
		var isum, ibest int64
		best := math.NaN()
		first := true
		for q, end := row*r.N, (row+1)*r.N; q < end; {
			prow, j := q/inner, q%inner
			n := min(chunk, inner-j, end-q)
			var v slot
			if rr.direct {
				b.setRow(s, prow)
				v = slotOf(b.in[r.Body.Nodes[0].Input], b.loadBase(s, 0, j), n)
			} else {
				v = res.head(n)
				b.chunk(s, prow, j, n, v)
			}
			switch {
			case v.f32 != nil:
				sum, best, first = foldFloat(r.Op, v.f32, sum, best, first)
			case v.f64 != nil:
				sum, best, first = foldFloat(r.Op, v.f64, sum, best, first)
			case v.i32 != nil:
				isum, ibest, first = foldInt(r.Op, v.i32, isum, ibest, first)
			case v.i64 != nil:
				isum, ibest, first = foldInt(r.Op, v.i64, isum, ibest, first)
			}
			q += n
		}
		switch b.out.DType() {
		case tensor.F32:
			b.out.Float32s()[row] = float32(pick(r.Op, sum, best))
		case tensor.F64:
			b.out.Float64s()[row] = pick(r.Op, sum, best)
		case tensor.I32:
			b.out.Int32s()[row] = int32(pickInt(r.Op, isum, ibest))
		case tensor.I64:
			b.out.Int64s()[row] = pickInt(r.Op, isum, ibest)
		}
		if e := rr.epi; e != nil {
			rr.epilogue(c, row)
		}
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
