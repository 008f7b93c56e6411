package cpu

import (
	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// matmulKernel multiplies [..., m, k] by [..., k, n] with equal batch axes:
// floats through a prepared GEMM, integers through a plain loop.
func matmulKernel(a, b backend.Operand) (kernelFunc, error) {
	r := len(a.Shape)
	m, k, n := a.Shape[r-2], a.Shape[r-1], b.Shape[r-1]
	batch := a.Shape[:r-2].Size()
	switch a.DType {
	case tensor.F32:
		return gemmKernel[float32](batch, m, k, n)
	case tensor.F64:
		return gemmKernel[float64](batch, m, k, n)
	case tensor.I32:
		return matmul[int32](batch, m, k, n), nil
	case tensor.I64:
		return matmul[int64](batch, m, k, n), nil
	}
	return nil, unsupported(op.MatMul, a.DType)
}

func gemmKernel[T float](batch, m, k, n int) (kernelFunc, error) {
	g, err := NewGEMM[T](batch, m, k, n)
	if err != nil {
		return nil, err
	}
	return func(in []*tensor.Array, out *tensor.Array) error {
		return g.Run(typed[T](out), typed[T](in[0]), typed[T](in[1]), nil)
	}, nil
}

// matmul runs row by row in i-k-j order so the inner loop streams a row of
// b into a row of c; rows of all batches are shared out across cores.
func matmul[T number](batch, m, k, n int) kernelFunc {
	var a, b, c []T
	body := rangeFunc(func(lo, hi int) {
		for row := lo; row < hi; row++ {
			bi := row / m
			ar := a[row*k : (row+1)*k]
			cr := c[row*n : (row+1)*n]
			bb := b[bi*k*n : (bi+1)*k*n]
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
