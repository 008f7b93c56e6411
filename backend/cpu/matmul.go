package cpu

import (
	"fmt"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// matmulKernel multiplies [..., m, k] by [..., k, n] (or by [..., n, k]
// stored transposed) with equal batch axes: floats through a prepared GEMM,
// integers through a plain loop. With attrs.Shape, the right operand is
// the leading rows of each batch item as stored.
func matmulKernel(a, b backend.Operand, attrs *op.Attrs, ep *kernel.Epilogue) (kernelFunc, error) {
	r := len(a.Shape)
	lb, err := backend.MatMulB(b.Shape, attrs.Shape)
	if err != nil {
		return nil, err
	}
	m, k, n := a.Shape[r-2], a.Shape[r-1], lb[r-1]
	batch := a.Shape[:r-2].Size()
	bs := b.Shape[r-2] * b.Shape[r-1] // B's batch stride as stored
	if attrs.TransB {
		n = lb[r-2]
		switch a.DType {
		case tensor.F32:
			return transBKernel[float32](batch, m, k, n, bs, attrs.ConstB, newEpi[float32](ep))
		case tensor.F64:
			return transBKernel[float64](batch, m, k, n, bs, attrs.ConstB, newEpi[float64](ep))
		}
		return nil, unsupported(op.MatMul, a.DType)
	}
	switch a.DType {
	case tensor.F32:
		return gemmKernel[float32](batch, m, k, n, bs, attrs.ConstB, newEpi[float32](ep))
	case tensor.F64:
		return gemmKernel[float64](batch, m, k, n, bs, attrs.ConstB, newEpi[float64](ep))
	}
	if ep != nil {
		return nil, unsupported(op.MatMul, a.DType)
	}
	switch a.DType {
	case tensor.I32:
		return matmul[int32](batch, m, k, n, bs), nil
	case tensor.I64:
		return matmul[int64](batch, m, k, n, bs), nil
	}
	return nil, unsupported(op.MatMul, a.DType)
}

// gemmKernel multiplies through a prepared GEMM; a constant right operand
// is packed into the GEMM's panels on the first run only.
func gemmKernel[T float](batch, m, k, n, bs int, constB bool, ep *epi[T]) (kernelFunc, error) {
	g, err := newStridedGEMM[T](batch, m, k, n, bs)
	if err != nil {
		return nil, err
	}
	if n >= 1 && n <= maxDotRows && m > n && k > 0 {
		return fewColumnsKernel(g, ep), nil
	}
	// A product whose rows fit one panel reads B in place: nothing to pack.
	if !constB || batch*k*n == 0 || g.streamsB() {
		return func(in []*tensor.Array, out *tensor.Array) error {
			return g.Run(typed[T](out), typed[T](in[0]), typed[T](in[1]), ep.bind(in))
		}, nil
	}
	pb := g.NewPackedB()
	var packedFrom *T
	return func(in []*tensor.Array, out *tensor.Array) error {
		b := typed[T](in[1])
		if len(b) == batch*bs && packedFrom != &b[0] {
			if err := pb.Pack(b, false); err != nil {
				return err
			}
			packedFrom = &b[0]
		}
		return g.RunPacked(typed[T](out), typed[T](in[0]), pb, ep.bind(in))
	}, nil
}

// epi is a fused matmul epilogue prepared once; bind points it at a
// launch's bias and residual without allocating.
type epi[T float] struct {
	k *kernel.Epilogue
	e Epilogue[T]
}

func newEpi[T float](k *kernel.Epilogue) *epi[T] {
	if k == nil {
		return nil
	}
	x := &epi[T]{k: k}
	x.e.Scaled, x.e.Scale = k.Scaled, T(k.Scale)
	switch k.Act {
	case kernel.ActReLU:
		x.e.Act = ActReLU
	case kernel.ActSiLU:
		x.e.Act = ActSiLU
	}
	return x
}

func (x *epi[T]) bind(in []*tensor.Array) *Epilogue[T] {
	if x == nil {
		return nil
	}
	i := 2
	if x.k.Bias {
		x.e.Bias = typed[T](in[i])
		i++
	}
	if x.k.Residual {
		x.e.Residual = typed[T](in[i])
	}
	return &x.e
}

// apply runs the epilogue over a whole output of rows×n values, for the
// products that do not go through the GEMM.
func (e *Epilogue[T]) apply(c []T, n int) {
	for r := 0; r*n < len(c); r++ {
		dst := c[r*n : (r+1)*n]
		if e.Scaled {
			for j := range dst {
				dst[j] *= e.Scale
			}
		}
		if e.Bias != nil {
			for j, v := range e.Bias {
				dst[j] += v
			}
		}
		activate(dst, e.Act)
		if e.Residual != nil {
			for j, v := range e.Residual[r*n : (r+1)*n] {
				dst[j] += v
			}
		}
	}
}

// matmul runs row by row in i-k-j order so the inner loop streams a row of
// b into a row of c; rows of all batches are shared out across cores.
func matmul[T number](batch, m, k, n, bs int) kernelFunc {
	var a, b, c []T
	body := rangeFunc(func(lo, hi int) {
		for row := lo; row < hi; row++ {
			bi := row / m
			ar := a[row*k : (row+1)*k]
			cr := c[row*n : (row+1)*n]
			bb := b[bi*bs : bi*bs+k*n]
			for j := range cr {
				cr[j] = 0
			}
			for p, av := range ar {
				br := bb[p*n : (p+1)*n]
				for j, bv := range br {
					cr[j] += av * bv
				}
			}
		}
	})
	return func(in []*tensor.Array, out *tensor.Array) error {
		a, b, c = typed[T](in[0]), typed[T](in[1]), typed[T](out)
		parallelRun(batch*m, k*n, body)
		return nil
	}
}

// fewColumnsKernel multiplies by a right operand of at most maxDotRows
// columns (attention scores over a cache, one query per step): each row
// of A is dotted with the columns of B, transposed once per run into a
// scratch buffer, instead of packing A into panels for tiles that would
// be mostly outside the product.
func fewColumnsKernel[T float](g *GEMM[T], ep *epi[T]) kernelFunc {
	batch, m, k, n, bs := g.batch, g.m, g.k, g.n, g.strideB()
	dots := g.ks.dots
	bt := make([]T, batch*n*k)
	var a, c []T
	rows := rangeFunc(func(lo, hi int) {
		for row := lo; row < hi; row++ {
			bi := row / m
			dots(k, a[row*k:(row+1)*k], bt[bi*n*k:], k, n, c[row*n:(row+1)*n])
		}
	})
	return func(in []*tensor.Array, out *tensor.Array) error {
		b := typed[T](in[1])
		a, c = typed[T](in[0]), typed[T](out)
		if len(a) != batch*m*k || len(b) != batch*bs || len(c) != batch*m*n {
			return fmt.Errorf("%w: operands of %d, %d and %d values for %d x [%d, %d] x [%d, %d]", ErrGEMM, len(a), len(b), len(c), batch, m, k, k, n)
		}
		for bi := range batch {
			transpose(bt[bi*n*k:(bi+1)*n*k], b[bi*bs:bi*bs+k*n], k, n)
		}
		parallelRun(batch*m, k*n, rows)
		if e := ep.bind(in); e != nil {
			e.apply(c, n)
		}
		return nil
	}
}

// transBKernel multiplies by a right operand stored transposed, [n, k] per
// batch item. Few rows (a decode step's matrix-vector product) are dot
// products straight over the stored rows; more rows pack the operand
// straight from its stored order into the GEMM's panels, once for a
// constant operand.
func transBKernel[T float](batch, m, k, n, bs int, constB bool, ep *epi[T]) (kernelFunc, error) {
	g, err := newStridedGEMM[T](batch, m, k, n, bs)
	if err != nil {
		return nil, err
	}
	var a, b, c []T
	kern := g.ks.dots
	var ct []T // few rows: C transposed, [batch, n, m]
	dots := rangeFunc(func(lo, hi int) {
		for cell := lo; cell < hi; cell++ {
			bi, j := cell/n, cell%n
			kern(k, b[bi*bs+j*k:bi*bs+(j+1)*k], a[bi*m*k:], k, m, ct[cell*m:(cell+1)*m])
		}
	})
	var pb *PackedB[T]
	if m > maxDotRows {
		pb = g.NewPackedB()
	} else {
		ct = make([]T, batch*n*m)
	}
	var packedFrom *T
	return func(in []*tensor.Array, out *tensor.Array) error {
		a, b, c = typed[T](in[0]), typed[T](in[1]), typed[T](out)
		e := ep.bind(in)
		if m <= maxDotRows {
			if m == 0 {
				return nil
			}
			parallelRun(batch*n, m*k, dots)
			for bi := range batch {
				transpose(c[bi*m*n:(bi+1)*m*n], ct[bi*n*m:(bi+1)*n*m], n, m)
			}
			if e != nil {
				e.apply(c, n)
			}
			return nil
		}
		if len(b) == 0 {
			return g.Run(c, a, b, e)
		}
		if !constB || packedFrom != &b[0] {
			if err := pb.Pack(b, true); err != nil {
				return err
			}
			packedFrom = &b[0]
		}
		return g.RunPacked(c, a, pb, e)
	}, nil
}
