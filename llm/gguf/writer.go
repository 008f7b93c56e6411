package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/aethertensor/aether/llm/quant"
)

// ErrWrite is wrapped by errors about a Builder's contents that cannot be
// written (bad shapes, data of the wrong size, duplicate names, values that
// do not fit the chosen version).
var ErrWrite = errors.New("gguf: cannot write")

// Builder collects metadata and tensors and writes them as a GGUF file.
//
// Layout follows llama.cpp: header, key/values in order, tensor infos in
// order, zero padding to the alignment, then each tensor's bytes at its
// offset, zero-padded to the next one. The alignment is general.alignment
// from Meta when present, else 32. A file with no tensors ends right after
// its tensor infos, as llama.cpp writes vocab-only files.
type Builder struct {
	// Version is the GGUF version to write: 1, 2 or 3. Zero means 3.
	Version uint32
	// Meta holds the key/values, written in order.
	Meta Metadata

	tensors []builderTensor
	names   map[string]bool
}

type builderTensor struct {
	TensorInfo
	fixed bool // Offset was given by the caller
}

// NewBuilder returns an empty version-3 Builder.
func NewBuilder() *Builder { return &Builder{Version: 3} }

// FromFile returns a Builder holding f's version, metadata (values are
// shared, not copied) and tensors at their original offsets, so that
// writing it reproduces a file laid out as f was. The tensor data is
// read from f when the Builder is written, so f must stay open until then.
// It fails, wrapping ErrWrite, only if f's tensors were edited into an
// invalid state.
func FromFile(f *File) (*Builder, error) {
	b := &Builder{Version: f.Version}
	for _, k := range f.Meta.Keys() {
		v, _ := f.Meta.Lookup(k)
		b.Meta.set(k, v)
	}
	for _, t := range f.Tensors {
		if err := b.add(t, true); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// AddTensor appends a tensor. Its offset is the first aligned position after
// the previous tensor's data, which is where llama.cpp expects it. data must
// hold exactly quant.RowBytes(typ, product of dims) bytes; it is not copied.
func (b *Builder) AddTensor(name string, typ quant.Type, dims []uint64, data []byte) error {
	return b.add(TensorInfo{Name: name, Type: typ, Dims: dims, Data: data}, false)
}

// AddTensorAt appends a tensor at an explicit offset from the start of the
// data section. The offset must be aligned and not overlap the previous
// tensor; any gap is written as zeros.
func (b *Builder) AddTensorAt(name string, typ quant.Type, dims []uint64, data []byte, offset uint64) error {
	return b.add(TensorInfo{Name: name, Type: typ, Dims: dims, Data: data, Offset: offset}, true)
}

func (b *Builder) add(t TensorInfo, fixed bool) error {
	if b.names[t.Name] {
		return fmt.Errorf("%w: duplicate tensor name %q", ErrWrite, t.Name)
	}
	if len(t.Dims) > MaxDims {
		return fmt.Errorf("%w: tensor %q has %d dimensions, at most %d allowed", ErrWrite, t.Name, len(t.Dims), MaxDims)
	}
	for _, d := range t.Dims {
		if d > math.MaxInt64 {
			return fmt.Errorf("%w: tensor %q dimension %d above the int64 maximum", ErrWrite, t.Name, d)
		}
	}
	size, err := tensorBytes(t.Type, t.Dims)
	if err != nil {
		return fmt.Errorf("%w: tensor %q: %w", ErrWrite, t.Name, err)
	}
	if l, _ := quant.LayoutOf(t.Type); len(t.Dims) > 0 && t.Dims[0]%uint64(l.BlockSize) != 0 {
		return fmt.Errorf("%w: tensor %q: ne0 = %d is not a multiple of the %s block size %d", ErrWrite, t.Name, t.Dims[0], t.Type, l.BlockSize)
	}
	if uint64(len(t.Data)) != size {
		return fmt.Errorf("%w: tensor %q %s%v needs %d bytes, got %d", ErrWrite, t.Name, t.Type, t.Dims, size, len(t.Data))
	}
	if b.names == nil {
		b.names = make(map[string]bool)
	}
	b.names[t.Name] = true
	t.Dims = append([]uint64(nil), t.Dims...)
	b.tensors = append(b.tensors, builderTensor{TensorInfo: t, fixed: fixed})
	return nil
}

// alignment returns the alignment Meta asks for, or an error.
func (b *Builder) alignment() (uint64, error) {
	v, ok := b.Meta.Lookup(KeyAlignment)
	if !ok {
		return DefaultAlignment, nil
	}
	u, _, neg, isInt := asInt(v.V)
	if !isInt || neg || u == 0 || u&(u-1) != 0 || u > maxAlignment {
		return 0, fmt.Errorf("%w: %s = %v (%s) is not a power of two in [1, 2^30]", ErrWrite, KeyAlignment, v.V, v.Type)
	}
	return u, nil
}

// layout assigns each tensor's offset and checks explicit ones.
func (b *Builder) layout(align uint64) ([]uint64, error) {
	offs := make([]uint64, len(b.tensors))
	var cur uint64
	for i, t := range b.tensors {
		off := alignUp(cur, align)
		if t.fixed {
			if t.Offset%align != 0 || t.Offset < cur {
				return nil, fmt.Errorf("%w: tensor %q offset %d is unaligned (%d) or overlaps the previous tensor (ending at %d)", ErrWrite, t.Name, t.Offset, align, cur)
			}
			off = t.Offset
		}
		offs[i] = off
		cur = off + uint64(len(t.Data))
	}
	return offs, nil
}

// WriteTo writes the file to w and returns the number of bytes written.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	version := b.Version
	if version == 0 {
		version = 3
	}
	if version > 3 {
		return 0, fmt.Errorf("%w: version %d (want 1, 2 or 3)", ErrWrite, version)
	}
	align, err := b.alignment()
	if err != nil {
		return 0, err
	}
	offs, err := b.layout(align)
	if err != nil {
		return 0, err
	}
	e := &encoder{w: bufio.NewWriterSize(w, 1<<16), wide: version >= 2}
	e.u32(magic)
	e.u32(version)
	e.count(uint64(len(b.tensors)))
	e.count(uint64(b.Meta.Len()))
	for _, k := range b.Meta.Keys() {
		v, _ := b.Meta.Lookup(k)
		if err := v.check(0); err != nil {
			return e.n, fmt.Errorf("%w: key %q: %w", ErrWrite, k, err)
		}
		e.str(k)
		e.u32(uint32(v.Type))
		e.value(v)
	}
	for i, t := range b.tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			e.count(d)
		}
		e.u32(uint32(t.Type))
		e.u64(offs[i])
	}
	if e.err == nil && len(b.tensors) > 0 {
		e.zeros(alignUp(uint64(e.n), align) - uint64(e.n))
		var cur uint64
		for i, t := range b.tensors {
			e.zeros(offs[i] - cur)
			e.write(t.Data)
			cur = offs[i] + uint64(len(t.Data))
		}
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.n, e.err
}

// encoder writes little-endian GGUF fields, keeping the first error.
type encoder struct {
	w    *bufio.Writer
	wide bool
	n    int64
	err  error
	buf  [8]byte
}

func (e *encoder) write(p []byte) {
	if e.err != nil {
		return
	}
	n, err := e.w.Write(p)
	e.n += int64(n)
	e.err = err
}

func (e *encoder) zeros(n uint64) {
	var z [64]byte
	for n > 0 && e.err == nil {
		k := min(n, uint64(len(z)))
		e.write(z[:k])
		n -= k
	}
}

func (e *encoder) u8(v uint8) { e.buf[0] = v; e.write(e.buf[:1]) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:], v)
	e.write(e.buf[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:], v)
	e.write(e.buf[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.write(e.buf[:8])
}

// count writes a count or length in the version's width; in v1 a value
// above MaxUint32 is an error.
func (e *encoder) count(n uint64) {
	if e.wide {
		e.u64(n)
		return
	}
	if n > math.MaxUint32 && e.err == nil {
		e.err = fmt.Errorf("%w: %d does not fit the 32-bit counts of GGUF v1", ErrWrite, n)
	}
	e.u32(uint32(n))
}

func (e *encoder) str(s string) {
	e.count(uint64(len(s)))
	if e.err == nil {
		n, err := e.w.WriteString(s)
		e.n += int64(n)
		e.err = err
	}
}

func (e *encoder) bool(b bool) {
	if b {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

// value writes v's payload (not its type code); v has passed check.
func (e *encoder) value(v Value) {
	switch x := v.V.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float32:
		e.u32(math.Float32bits(x))
	case float64:
		e.u64(math.Float64bits(x))
	case bool:
		e.bool(x)
	case string:
		e.str(x)
	default:
		e.u32(uint32(v.ElemType))
		e.count(uint64(v.Len()))
		e.array(v.V)
	}
}

func (e *encoder) array(a any) {
	switch s := a.(type) {
	case []uint8:
		e.write(s)
	case []int8:
		for _, x := range s {
			e.u8(uint8(x))
		}
	case []uint16:
		for _, x := range s {
			e.u16(x)
		}
	case []int16:
		for _, x := range s {
			e.u16(uint16(x))
		}
	case []uint32:
		for _, x := range s {
			e.u32(x)
		}
	case []int32:
		for _, x := range s {
			e.u32(uint32(x))
		}
	case []uint64:
		for _, x := range s {
			e.u64(x)
		}
	case []int64:
		for _, x := range s {
			e.u64(uint64(x))
		}
	case []float32:
		for _, x := range s {
			e.u32(math.Float32bits(x))
		}
	case []float64:
		for _, x := range s {
			e.u64(math.Float64bits(x))
		}
	case []bool:
		for _, x := range s {
			e.bool(x)
		}
	case []string:
		for _, x := range s {
			e.str(x)
		}
	case []Value:
		for _, x := range s {
			e.u32(uint32(x.ElemType))
			e.count(uint64(x.Len()))
			e.array(x.V)
		}
	}
}
