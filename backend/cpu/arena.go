package cpu

import (
	"fmt"
	"unsafe"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/tensor"
)

// align is the arena alignment: one cache line, and a whole AVX-512
// register.
const align = 64

// arena is one host allocation that planned buffers view into.
type arena struct{ mem []byte }

func (a *arena) Len() int { return len(a.mem) }

var _ backend.Arena = (*Device)(nil)

// Align returns 64.
func (*Device) Align() int { return align }

// NewArena allocates a zeroed, 64-byte aligned block of host memory.
func (*Device) NewArena(bytes int) (backend.Buffer, error) {
	if bytes < 0 {
		return nil, fmt.Errorf("cpu: arena of %d bytes", bytes)
	}
	raw := make([]byte, bytes+align)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(raw))) & (align - 1))
	return &arena{mem: raw[off : off+bytes : off+bytes]}, nil
}

// View returns a host array over bytes [offset, offset+size) of an arena.
func (*Device) View(b backend.Buffer, offset int, o backend.Operand) (backend.Buffer, error) {
	a, ok := b.(*arena)
	if !ok {
		return nil, fmt.Errorf("cpu: %T is not a cpu arena", b)
	}
	n := o.Shape.Size()
	size := n * o.DType.Size()
	if offset < 0 || offset+size > len(a.mem) || offset%max(o.DType.Size(), 1) != 0 {
		return nil, fmt.Errorf("cpu: view of %d bytes at %d outside a %d-byte arena", size, offset, len(a.mem))
	}
	shape := append(tensor.Shape{}, o.Shape...) // non-nil, so a scalar stays rank 0
	var p unsafe.Pointer
	if n > 0 {
		p = unsafe.Pointer(&a.mem[offset])
	}
	switch o.DType {
	case tensor.F32:
		return tensor.FromFloat32(unsafe.Slice((*float32)(p), n), shape...)
	case tensor.F64:
		return tensor.FromFloat64(unsafe.Slice((*float64)(p), n), shape...)
	case tensor.I32:
		return tensor.FromInt32(unsafe.Slice((*int32)(p), n), shape...)
	case tensor.I64:
		return tensor.FromInt64(unsafe.Slice((*int64)(p), n), shape...)
	case tensor.Bool:
		return tensor.FromBool(unsafe.Slice((*bool)(p), n), shape...)
	case tensor.F16, tensor.BF16:
		return tensor.FromBits(o.DType, unsafe.Slice((*uint16)(p), n), shape...)
	}
	return nil, fmt.Errorf("%w: arena view of %v", backend.ErrUnsupported, o.DType)
}
