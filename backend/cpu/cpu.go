// Package cpu is the host backend: every primitive operation as a Go kernel
// over row-major host arrays, with large kernels split across cores.
//
// Buffers are *tensor.Array values, so binding a parameter's host array
// shares its memory with no copy.
package cpu

import (
	"context"
	"fmt"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Device is the CPU backend. The zero value is ready to use.
type Device struct{}

// New returns a CPU device.
func New() *Device { return &Device{} }

var _ backend.Device = (*Device)(nil)

// Name returns "cpu".
func (*Device) Name() string { return "cpu" }

// Alloc returns a zeroed host array.
func (*Device) Alloc(o backend.Operand) (backend.Buffer, error) {
	return tensor.Zeros(o.DType, o.Shape)
}

// Bind returns a itself: host arrays are CPU buffers.
func (*Device) Bind(a *tensor.Array) (backend.Buffer, error) { return a, nil }

func array(b backend.Buffer) (*tensor.Array, error) {
	a, ok := b.(*tensor.Array)
	if !ok {
		return nil, fmt.Errorf("cpu: buffer %T was not made by the cpu device", b)
	}
	return a, nil
}

var _ backend.Host = (*Device)(nil)

// HostArray returns b itself: CPU buffers are host arrays.
func (*Device) HostArray(b backend.Buffer) (*tensor.Array, bool) {
	a, ok := b.(*tensor.Array)
	return a, ok
}

// Write copies src into dst.
func (*Device) Write(dst backend.Buffer, src *tensor.Array) error {
	d, err := array(dst)
	if err != nil {
		return err
	}
	return copyArray(d, src)
}

// Read copies src into dst.
func (*Device) Read(dst *tensor.Array, src backend.Buffer) error {
	s, err := array(src)
	if err != nil {
		return err
	}
	return copyArray(dst, s)
}

// Copy copies src into dst.
func (*Device) Copy(dst, src backend.Buffer) error {
	d, err := array(dst)
	if err != nil {
		return err
	}
	s, err := array(src)
	if err != nil {
		return err
	}
	return copyArray(d, s)
}

// Sync returns at once: CPU kernels finish before Run returns.
func (*Device) Sync(ctx context.Context) error { return ctx.Err() }

// kernelFunc runs one prepared kernel over host arrays.
type kernelFunc func(in []*tensor.Array, out *tensor.Array) error

type launch struct {
	f  kernelFunc
	in []*tensor.Array // scratch reused across runs
}

func (l *launch) Run(in []backend.Buffer, out backend.Buffer) error {
	o, err := array(out)
	if err != nil {
		return err
	}
	for i, b := range in {
		if _, ok := b.(*quantBuf); ok {
			l.in[i] = nil // quantized kernels read their weight from Attrs
			continue
		}
		if l.in[i], err = array(b); err != nil {
			return err
		}
	}
	return l.f(l.in, o)
}

// Prepare chooses the Go kernel for k.
func (*Device) Prepare(k backend.Kernel) (backend.Launch, error) {
	f, err := prepare(k)
	if err != nil {
		return nil, err
	}
	return &launch{f: f, in: make([]*tensor.Array, len(k.In))}, nil
}

func prepare(k backend.Kernel) (kernelFunc, error) {
	if k.Reduce != nil {
		return fusedReduceKernel(k.Reduce)
	}
	if k.Fused != nil {
		return fusedKernel(k.Fused)
	}
	c := k.Op
	a := k.Attrs
	if a == nil {
		a = &op.Attrs{}
	}
	switch {
	case c == op.Cast && (isHalf(a.DType) || isHalf(k.In[0].DType)):
		return halfCastKernel(k.In[0].DType, a.DType, k.Out.DType)
	case c == op.Reshape && isHalf(k.Out.DType):
		return copyBitsKernel(), nil
	case c == op.Cast:
		return castKernel(k.In[0].DType, k.Out.DType)
	case c == op.Where:
		return whereKernel(k.Out.DType)
	case c.Has(op.Compare):
		return compareKernel(c, k.In[0].DType)
	case c.Has(op.Elementwise | op.Unary):
		return unaryKernel(c, k.Out.DType)
	case c.Has(op.Elementwise | op.Binary):
		return binaryKernel(c, k.Out.DType)
	}
	switch c {
	case op.ReduceSum, op.ReduceMax, op.ReduceMin:
		return reduceKernel(c, k.In[0], a.Axes)
	case op.ArgMax:
		return argmaxKernel(k.In[0], a.Axis)
	case op.Softmax, op.LogSoftmax:
		return softmaxKernel(c, k.In[0], a.Axis)
	case op.MatMul:
		return matmulKernel(k.In[0], k.In[1], a, k.Epilogue)
	case op.Reshape:
		return copyKernel(), nil
	case op.Permute:
		return permuteKernel(k.In[0].Shape, a.Perm), nil
	case op.Expand:
		return expandKernel(k.In[0].Shape, k.Out.Shape), nil
	case op.Slice:
		return sliceKernel(k.In[0].Shape, k.Out.Shape, a.Starts, a.Steps), nil
	case op.Unslice:
		return unsliceKernel(k.In[0].Shape, k.Out.Shape, a.Starts, a.Steps), nil
	case op.Pad:
		return padKernel(k.In[0].Shape, k.Out.Shape, a.Pads, a.PadValue), nil
	case op.Concat:
		return concatKernel(k.In, k.Out.Shape, a.Axis), nil
	case op.Gather:
		return gatherKernel(k.In[0].Shape, k.In[1].Shape, a.Axis), nil
	case op.ScatterAdd:
		return scatterAddKernel(k.In[1].Shape, k.Out.Shape, a.Axis), nil
	case op.DynSlice:
		return dynSliceKernel(k.In[0].Shape, k.Out.Shape, a.Axis), nil
	case op.DynUnslice:
		return dynUnsliceKernel(k.In[0].Shape, k.Out.Shape, a.Axis, true), nil
	case op.DynUpdate:
		return dynUpdateKernel(k.In[0].Shape, k.In[1].Shape, k.Out.Shape, a.Axis, a.InPlace)
	case op.AssignSlice:
		// Launched after the run with the variable's buffer as output:
		// in[0] is the value, in[1] the start.
		return dynUnsliceKernel(k.In[0].Shape, k.Out.Shape, a.Axis, false), nil
	case op.QMatMul:
		return qmatmulKernel(a.Quant, k.In[0])
	case op.QGather:
		return qgatherKernel(a.Quant, k.In[1])
	case op.QDequant:
		return qdequantKernel(a.Quant)
	case op.Unfold:
		return unfoldKernel(k.In[0].Shape, k.Out.Shape, a.Window, a.PadValue), nil
	case op.Fold:
		return foldKernel(k.In[0].Shape, k.Out.Shape, a.Window), nil
	}
	return nil, fmt.Errorf("%w: %v on cpu", backend.ErrUnsupported, c)
}
