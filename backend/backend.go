// Package backend defines the Device interface that every execution target
// (the CPU, WebGPU) implements, and the kernel description a compiled
// Program hands to it.
//
// A device allocates buffers, moves host arrays in and out of them, and
// prepares kernels once so that a Program can launch them many times.
package backend

import (
	"context"
	"errors"
	"fmt"

	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// ErrUnsupported is returned by Prepare for a kernel the device cannot run.
var ErrUnsupported = errors.New("backend: unsupported kernel")

// Operand is the dtype and shape of one kernel input or output.
type Operand struct {
	DType tensor.DType
	Shape tensor.Shape
}

// Kernel describes one launch: a primitive operation with its attributes
// over operands of known dtypes and shapes, or, when Fused is set, a fused
// elementwise kernel (Op is then ignored).
type Kernel struct {
	Op    op.Code
	Attrs *op.Attrs
	In    []Operand
	Out   Operand
	Fused *kernel.Elementwise
	// Reduce, when set, is a reduction with a fused prologue (Op and
	// Fused are then ignored).
	Reduce *kernel.Reduce
	// Epilogue, on a MatMul, is elementwise work fused into the product;
	// its bias and residual follow the two operands in In.
	Epilogue *kernel.Epilogue
}

// Buffer is device memory holding one tensor. Its concrete type belongs to
// the device that made it.
type Buffer interface {
	// Len returns the number of elements.
	Len() int
}

// Launch runs a prepared kernel over buffers made by the same device.
type Launch interface {
	Run(in []Buffer, out Buffer) error
}

// Device is an execution target.
type Device interface {
	// Name identifies the device, e.g. "cpu".
	Name() string
	// Alloc returns a zeroed buffer for an operand.
	Alloc(o Operand) (Buffer, error)
	// Bind returns a buffer backed by a host array. A host device shares the
	// array's memory, so writes through the buffer are seen in the array.
	Bind(a *tensor.Array) (Buffer, error)
	// Write copies a host array into a buffer of the same size.
	Write(dst Buffer, src *tensor.Array) error
	// Read copies a buffer into a host array of the same size.
	Read(dst *tensor.Array, src Buffer) error
	// Copy copies one buffer into another of the same dtype and size.
	Copy(dst, src Buffer) error
	// Prepare compiles a kernel once for repeated launches.
	Prepare(k Kernel) (Launch, error)
	// Sync waits until every launched kernel has finished.
	Sync(ctx context.Context) error
}

// Arena is implemented by devices that can place many buffers inside one
// allocation, as planned by package memory.
type Arena interface {
	// NewArena allocates bytes of device memory aligned to Align.
	NewArena(bytes int) (Buffer, error)
	// View returns a buffer for an operand at a byte offset in an arena.
	View(arena Buffer, offset int, o Operand) (Buffer, error)
	// Align returns the arena alignment in bytes.
	Align() int
}

// Caps describes a device to the fusion cost model.
type Caps struct {
	Bandwidth float64 // sustained memory bandwidth, bytes per second
	OpsPerSec float64 // simple elementwise operations per second
	Launch    float64 // fixed cost of one kernel launch, seconds
	// MaxBindings is the most buffers one kernel may bind, its output
	// included (WebGPU's default is 8 storage buffers per stage); 0 means
	// no limit.
	MaxBindings int
	// FuseReductions says the device runs kernel.Reduce: reductions over
	// trailing axes with their elementwise prologue fused in.
	FuseReductions bool
	// FuseReduceEpilogues says the device runs a kernel.Reduce with an
	// Epilogue: the elementwise consumers of a reduction, computed row by
	// row inside it (a norm in one kernel).
	FuseReduceEpilogues bool
	// ChainReductions says the device runs a kernel.Reduce with a Pre: a
	// reduction over the same rows computed first, row by row, whose
	// result the later one reads (a softmax's max and sum in one kernel).
	ChainReductions bool
	// FuseEpilogues says the device runs a MatMul with a kernel.Epilogue.
	FuseEpilogues bool
	// HalfLoads says fused kernels may load F16 and BF16 storage and widen
	// it (a Cast from a half type): reading a half cache then costs one
	// pass over its two-byte elements instead of a copy and a conversion.
	HalfLoads bool
	// Float64 says the device computes with f64 values (WebGPU has no
	// f64 in its shading language). Code choosing between a float64
	// formulation and an f32-only one asks this.
	Float64 bool
}

// Capable is implemented by devices that report their Caps.
type Capable interface {
	Caps() Caps
}

// Host is implemented by devices whose buffers are host arrays. A Program
// on such a device reads fed arrays in place and returns its outputs'
// buffers directly, copying neither.
type Host interface {
	// HostArray returns the host array behind a buffer of this device.
	HostArray(b Buffer) (*tensor.Array, bool)
}

// QuantBinder is implemented by devices that hold weights in GGUF block
// formats (tensor.Quantized) without expanding them.
type QuantBinder interface {
	BindQuantized(q *tensor.Quantized) (Buffer, error)
}

// QuantKernels is implemented by QuantBinders whose quantised kernels take
// only some GGUF block formats; weights of other formats should be bound
// dense. A QuantBinder without it takes every format its BindQuantized
// accepts.
type QuantKernels interface {
	QuantKernel(t uint32) bool
}

// HalfStorer is implemented by devices that can hold F16 and BF16 tensors
// in two bytes an element (state, movement, and casts to and from f32).
// Graphs with such tensors compile only for devices that report true.
type HalfStorer interface {
	HalfStorage() bool
}

// HalfStorage reports whether d holds F16 and BF16 tensors as such.
func HalfStorage(d Device) bool {
	h, ok := d.(HalfStorer)
	return ok && h.HalfStorage()
}

// CheckDynUpdate validates the shapes of an op.DynUpdate kernel: the
// update in and the result out match base but along axis, where in is no
// longer than out and out no longer than base (equal to it when the
// update is in place, its result being the base).
func CheckDynUpdate(base, in, out tensor.Shape, axis int, inPlace bool) error {
	if inPlace && !base.Equal(out) {
		return fmt.Errorf("%w: in-place dyn_update of %v into %v", ErrUnsupported, out, base)
	}
	ok := len(base) == len(out) && len(in) == len(out) && axis >= 0 && axis < len(out)
	for i := 0; ok && i < len(out); i++ {
		if i == axis {
			ok = in[i] <= out[i] && out[i] <= base[i]
		} else {
			ok = in[i] == out[i] && base[i] == out[i]
		}
	}
	if !ok {
		return fmt.Errorf("%w: dyn_update of %v into %v of %v along axis %d", ErrUnsupported, in, out, base, axis)
	}
	return nil
}

// MatMulB returns the shape a MatMul reads of its right operand stored
// with shape stored: logical (the MatMul's Attrs.Shape, the leading rows
// along axis -2 of each batch item) when set, else stored.
func MatMulB(stored, logical tensor.Shape) (tensor.Shape, error) {
	if logical == nil {
		return stored, nil
	}
	r := len(stored)
	if len(logical) != r || r < 2 || logical[r-1] != stored[r-1] || logical[r-2] > stored[r-2] || !logical[:r-2].Equal(stored[:r-2]) {
		return nil, fmt.Errorf("%w: matmul operand %v read as %v", ErrUnsupported, stored, logical)
	}
	return logical, nil
}
