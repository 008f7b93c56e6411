package model

import (
	"fmt"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu/qdot"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/quant"
	"github.com/aethertensor/aether/tensor"
)

// loader records a file's tensors as graph leaves.
type loader struct {
	f     *gguf.File
	g     *graph.Graph
	dense bool // dequantise everything (Options.Dense)
	// kinds, when set, names the block formats the device's kernels take;
	// weights of other formats are expanded to f32.
	kinds backend.QuantKernels
	bytes int64 // weight bytes the graph reads in place or holds
}

// info returns the named tensor after checking its GGUF dims (ne0 first).
func (l *loader) info(name string, dims ...int) (*gguf.TensorInfo, error) {
	t, ok := l.f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("%w: tensor %q is missing", ErrWeights, name)
	}
	good := len(t.Dims) == len(dims)
	for i := 0; good && i < len(dims); i++ {
		good = t.Dims[i] == uint64(dims[i])
	}
	if !good {
		return nil, fmt.Errorf("%w: tensor %q has dims %v, want %v", ErrWeights, name, t.Dims, dims)
	}
	return t, nil
}

func (l *loader) has(name string) bool {
	_, ok := l.f.Tensor(name)
	return ok
}

// matrix records the [rows, cols] weight stored as GGUF dims [cols, rows].
// Types the quantised kernels multiply stay in place in the file's mapping;
// the rest are expanded to f32 once.
func (l *loader) matrix(name string, rows, cols int) (graph.Tensor, error) {
	t, err := l.info(name, cols, rows)
	if err != nil {
		return graph.Tensor{}, err
	}
	l.bytes += int64(len(t.Data))
	if !l.dense && kernelType(t.Type, cols) && (l.kinds == nil || l.kinds.QuantKernel(uint32(t.Type))) {
		return l.g.QuantConst(&tensor.Quantized{Type: uint32(t.Type), Rows: rows, Cols: cols, Data: t.Data}), nil
	}
	return l.denseOf(t, rows, cols)
}

// vector records a 1-D weight (norms, biases) as a dense f32 constant.
func (l *loader) vector(name string, n int) (graph.Tensor, error) {
	t, err := l.info(name, n)
	if err != nil {
		return graph.Tensor{}, err
	}
	l.bytes += int64(len(t.Data))
	return l.denseOf(t, n)
}

// optVector is vector for a tensor that may be absent (zero Tensor then).
func (l *loader) optVector(name string, n int) (graph.Tensor, error) {
	if !l.has(name) {
		return graph.Tensor{}, nil
	}
	return l.vector(name, n)
}

func (l *loader) denseOf(t *gguf.TensorInfo, dims ...int) (graph.Tensor, error) {
	n := 1
	for _, d := range dims {
		n *= d
	}
	buf := make([]float32, n)
	if err := quant.Dequantize(t.Type, buf, t.Data); err != nil {
		return graph.Tensor{}, fmt.Errorf("%w: tensor %q: %w", ErrWeights, t.Name, err)
	}
	a, err := tensor.FromFloat32(buf, dims...)
	if err != nil {
		return graph.Tensor{}, fmt.Errorf("%w: tensor %q: %w", ErrWeights, t.Name, err)
	}
	return l.g.Const(a), nil
}

// kernelType reports whether the CPU's quantised matmul kernels take type
// t for rows of cols elements (F32 is not a block format: it stays dense).
func kernelType(t quant.Type, cols int) bool {
	if t == quant.F32 {
		return false
	}
	_, err := qdot.RowBytes(qdot.Type(t), cols)
	return err == nil
}

// linear is the one place a weight matrix multiplies activations:
// x [..., in] times wᵀ for w [out, in] (plus an optional bias [out]). A
// quantised w runs on the block kernels, a dense one through MatMul.
func linear(x, w, bias graph.Tensor) graph.Tensor {
	y := x.Linear(w)
	if bias.Valid() {
		y = y.Add(bias)
	}
	return y
}
