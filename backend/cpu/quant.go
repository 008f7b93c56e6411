package cpu

import (
	"fmt"
	"runtime"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu/qdot"
	"github.com/aethertensor/aether/llm/quant"
	"github.com/aethertensor/aether/tensor"
)

// quantBuf is a quantized weight bound to the CPU: the blocks themselves,
// in place (typically in a memory-mapped file).
type quantBuf struct{ q *tensor.Quantized }

func (b *quantBuf) Len() int { return b.q.Rows * b.q.Cols }

var _ backend.QuantBinder = (*Device)(nil)

// BindQuantized checks that q's rows are whole blocks of its type and
// binds its bytes without copying them.
func (*Device) BindQuantized(q *tensor.Quantized) (backend.Buffer, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	n, err := quant.RowBytes(quant.Type(q.Type), uint64(q.Cols))
	if err != nil {
		return nil, fmt.Errorf("cpu: quantized weight: %w", err)
	}
	if int(n)*q.Rows != len(q.Data) {
		return nil, fmt.Errorf("%w: %v %d×%d needs %d bytes, has %d", tensor.ErrQuantized, quant.Type(q.Type), q.Rows, q.Cols, int(n)*q.Rows, len(q.Data))
	}
	return &quantBuf{q}, nil
}

// qmatmulKernel multiplies activations [..., cols] by the transpose of a
// quantized [rows, cols] weight with the integer dot-product kernels. A
// type qdot lacks is an error at Prepare, not at run time.
func qmatmulKernel(q *tensor.Quantized, x backend.Operand) (kernelFunc, error) {
	t := qdot.Type(q.Type)
	if _, err := qdot.RowBytes(t, q.Cols); err != nil {
		return nil, fmt.Errorf("%w: quantized matmul: %v", backend.ErrUnsupported, err)
	}
	n := x.Shape.Size() / q.Cols
	return func(in []*tensor.Array, out *tensor.Array) error {
		if n == 1 {
			return qdot.MatVec(t, out.Float32s(), q.Data, q.Rows, q.Cols, in[0].Float32s())
		}
		return qdot.MatMul(t, out.Float32s(), q.Data, q.Rows, q.Cols, in[0].Float32s(), n)
	}, nil
}

// qgatherKernel dequantises the rows an index array picks (an embedding
// lookup); only those rows are ever expanded.
func qgatherKernel(q *tensor.Quantized, idx backend.Operand) (kernelFunc, error) {
	t := quant.Type(q.Type)
	if _, err := quant.TraitsOf(t); err != nil {
		return nil, fmt.Errorf("%w: quantized gather: %v", backend.ErrUnsupported, err)
	}
	rb := q.RowBytes()
	buf := make([]int, idx.Shape.Size())
	return func(in []*tensor.Array, out *tensor.Array) error {
		ix, err := indices(in[1], q.Rows, buf)
		if err != nil {
			return err
		}
		y := out.Float32s()
		for j, r := range ix {
			if err := quant.Dequantize(t, y[j*q.Cols:(j+1)*q.Cols], q.Data[r*rb:(r+1)*rb]); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// qdequantKernel expands the whole weight.
func qdequantKernel(q *tensor.Quantized) (kernelFunc, error) {
	t := quant.Type(q.Type)
	if _, err := quant.TraitsOf(t); err != nil {
		return nil, fmt.Errorf("%w: dequantize: %v", backend.ErrUnsupported, err)
	}
	return func(in []*tensor.Array, out *tensor.Array) error {
		return quant.Dequantize(t, out.Float32s(), q.Data)
	}, nil
}

// Quantised products split their rows over this package's worker pool
// rather than starting goroutines per call (a decode step makes hundreds).
func init() {
	qdot.SetParallel(func(rows int, work func(r0, r1 int)) {
		// Several shares per core: one slowed by other load takes fewer.
		defaultPool.split(rows, min(4*runtime.GOMAXPROCS(0), rows), rangeFunc(work))
	})
}
