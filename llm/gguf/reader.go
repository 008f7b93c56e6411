package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"unsafe"

	"github.com/aethertensor/aether/llm/quant"
)

// Limits on what the parser accepts.
const (
	// MaxDims is ggml's maximum number of tensor dimensions.
	MaxDims = 4
	// DefaultAlignment is the data alignment when general.alignment is absent.
	DefaultAlignment = 32
	// maxDepth caps nesting of arrays of arrays.
	maxDepth = 8
	// maxAlignment bounds general.alignment so padding stays small.
	maxAlignment = 1 << 30
	// KeyAlignment is the metadata key that sets the data alignment.
	KeyAlignment = "general.alignment"
)

// magic is "GGUF" read as a little-endian uint32.
const magic = 0x46554747

// File is a parsed GGUF file. Tensor Data slices point into the file's
// mapping (Open) or the caller's slice (Parse) and are valid until Close.
type File struct {
	Version    uint32       // 1, 2 or 3
	Alignment  uint64       // general.alignment, default 32
	Meta       Metadata     // key/values in file order
	Tensors    []TensorInfo // in file order
	DataOffset int64        // absolute offset of the tensor data section (past the end of a file with no tensors)

	index  map[string]int
	size   int64  // input length in bytes
	mapped []byte // the mmap to release on Close; nil for Parse
}

// TensorInfo describes one tensor and views its bytes.
type TensorInfo struct {
	Name   string
	Type   quant.Type
	Dims   []uint64 // ne0 first (ggml order), as stored
	Offset uint64   // relative to File.DataOffset
	Data   []byte   // zero-copy view of exactly the tensor's bytes
}

// NumElements returns the product of Dims (1 for zero dims). The parser has
// checked that it does not overflow int64.
func (t *TensorInfo) NumElements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// Size returns the length in bytes of the parsed input.
func (f *File) Size() int64 { return f.size }

// Parse parses a GGUF file held in data. Tensor Data slices are views into
// data; strings are copied. Errors wrap ErrFormat.
func Parse(data []byte) (*File, error) {
	p := &parser{data: data}
	return p.file()
}

// parser walks the input. ctxKind/ctxIdx/ctxName describe the item being
// read, formatted only when an error is reported.
type parser struct {
	data    []byte
	off     int
	wide    bool // v2+: 64-bit counts and lengths
	ctxKind string
	ctxIdx  uint64
	ctxName string
	hasName bool
}

func (p *parser) context() string {
	if p.ctxKind == "" {
		return ""
	}
	s := p.ctxKind + " " + strconv.FormatUint(p.ctxIdx, 10)
	if p.hasName {
		s += " (" + strconv.Quote(p.ctxName) + ")"
	}
	return s
}

func (p *parser) errAt(field string, at int, cause error, format string, args ...any) error {
	return &FormatError{Context: p.context(), Field: field, Offset: int64(at), Msg: fmt.Sprintf(format, args...), Err: cause}
}

// need checks that n more bytes remain.
func (p *parser) need(field string, n uint64) error {
	if rem := uint64(len(p.data) - p.off); n > rem {
		return p.errAt(field, p.off, io.ErrUnexpectedEOF, "need %d bytes, %d left", n, rem)
	}
	return nil
}

func (p *parser) u32(field string) (uint32, error) {
	if err := p.need(field, 4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(p.data[p.off:])
	p.off += 4
	return v, nil
}

func (p *parser) u64(field string) (uint64, error) {
	if err := p.need(field, 8); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(p.data[p.off:])
	p.off += 8
	return v, nil
}

// count reads a count or length: uint32 in v1, uint64 later.
func (p *parser) count(field string) (uint64, error) {
	if p.wide {
		return p.u64(field)
	}
	v, err := p.u32(field)
	return uint64(v), err
}

// lenSize is the encoded size of a count or length.
func (p *parser) lenSize() uint64 {
	if p.wide {
		return 8
	}
	return 4
}

// checkCount rejects n items of at least min bytes each that cannot fit in
// the remaining input, before anything is allocated for them.
func (p *parser) checkCount(field string, at int, n, min uint64) error {
	rem := uint64(len(p.data) - p.off)
	if n > rem/min {
		return p.errAt(field, at, io.ErrUnexpectedEOF, "count %d needs at least %d bytes each, only %d bytes left", n, min, rem)
	}
	return nil
}

// strBytes reads a length-prefixed string and returns its bytes (a view).
func (p *parser) strBytes(field string) ([]byte, error) {
	at := p.off
	if uint64(len(p.data)-p.off) < p.lenSize() {
		// Build the field name only on error: this is the hot path for
		// vocabularies of 100k+ strings.
		return nil, p.need(field+" length", p.lenSize())
	}
	n, _ := p.count("")
	if rem := uint64(len(p.data) - p.off); n > rem {
		return nil, p.errAt(field, at, io.ErrUnexpectedEOF, "string length %d exceeds the %d bytes left", n, rem)
	}
	b := p.data[p.off : p.off+int(n)]
	p.off += int(n)
	return b, nil
}

func (p *parser) str(field string) (string, error) {
	b, err := p.strBytes(field)
	return string(b), err
}

func (p *parser) file() (*File, error) {
	f := &File{size: int64(len(p.data)), Alignment: DefaultAlignment}
	m, err := p.u32("magic")
	if err != nil {
		return nil, err
	}
	if m != magic {
		return nil, p.errAt("magic", 0, nil, "got %q, want \"GGUF\"", p.data[:4])
	}
	at := p.off
	if f.Version, err = p.u32("version"); err != nil {
		return nil, err
	}
	switch {
	case f.Version >= 1 && f.Version <= 3:
	case f.Version != 0 && f.Version&0xffff == 0:
		return nil, p.errAt("version", at, nil, "version %#x looks byte-swapped: big-endian GGUF files are not supported", f.Version)
	default:
		return nil, p.errAt("version", at, nil, "unsupported version %d (want 1, 2 or 3)", f.Version)
	}
	p.wide = f.Version >= 2

	atT := p.off
	nTensors, err := p.count("tensor count")
	if err != nil {
		return nil, err
	}
	atKV := p.off
	nKV, err := p.count("key/value count")
	if err != nil {
		return nil, err
	}
	ls := p.lenSize()
	// Smallest key/value: empty key, type, one-byte value. Smallest tensor
	// info: empty name, n_dims, type, offset.
	if err := p.checkCount("key/value count", atKV, nKV, ls+4+1); err != nil {
		return nil, err
	}
	if err := p.checkCount("tensor count", atT, nTensors, ls+4+4+8); err != nil {
		return nil, err
	}

	atAlign := 0 // offset of general.alignment's value type, for errors
	for i := range nKV {
		p.ctxKind, p.ctxIdx, p.hasName = "key/value", i, false
		key, err := p.str("key")
		if err != nil {
			return nil, err
		}
		p.ctxName, p.hasName = key, true
		if f.Meta.Has(key) {
			return nil, p.errAt("key", p.off-len(key)-int(ls), nil, "duplicate key")
		}
		atType := p.off
		t, err := p.u32("value type")
		if err != nil {
			return nil, err
		}
		v, err := p.value(ValueType(t), atType, 0)
		if err != nil {
			return nil, err
		}
		if key == KeyAlignment {
			atAlign = atType
		}
		f.Meta.set(key, v)
	}
	p.ctxKind, p.hasName = "", false

	if v, ok := f.Meta.Lookup(KeyAlignment); ok {
		u, _, neg, isInt := asInt(v.V)
		if !isInt || neg || u == 0 || u&(u-1) != 0 || u > maxAlignment {
			return nil, p.errAt(KeyAlignment, atAlign, nil, "alignment %v (%s) is not a power of two in [1, 2^30]", v.V, v.Type)
		}
		f.Alignment = u
	}

	if nTensors > 0 {
		f.Tensors = make([]TensorInfo, nTensors)
		f.index = make(map[string]int, nTensors)
	}
	starts := make([]int, nTensors) // offsets of tensor infos, for errors
	for i := range nTensors {
		p.ctxKind, p.ctxIdx, p.hasName = "tensor info", i, false
		starts[i] = p.off
		if err := p.tensorInfo(&f.Tensors[i]); err != nil {
			return nil, err
		}
		name := f.Tensors[i].Name
		if _, dup := f.index[name]; dup {
			return nil, p.errAt("name", starts[i], nil, "duplicate tensor name")
		}
		f.index[name] = int(i)
	}

	f.DataOffset = int64(alignUp(uint64(p.off), f.Alignment))
	var prevEnd uint64 // end of the previous tensor's data, relative to DataOffset
	for i := range f.Tensors {
		t := &f.Tensors[i]
		p.ctxKind, p.ctxIdx, p.ctxName, p.hasName = "tensor info", uint64(i), t.Name, true
		if t.Offset%f.Alignment != 0 {
			return nil, p.errAt("offset", starts[i], nil, "data offset %d is not a multiple of the alignment %d", t.Offset, f.Alignment)
		}
		size, _ := tensorBytes(t.Type, t.Dims) // checked in tensorInfo
		// llama.cpp requires tensors packed in order; we accept gaps but not
		// overlap or reordering, which the Builder could not reproduce.
		if t.Offset < prevEnd {
			return nil, p.errAt("offset", starts[i], nil, "data offset %d precedes the end of the previous tensor's data (%d)", t.Offset, prevEnd)
		}
		start, c1 := bits.Add64(uint64(f.DataOffset), t.Offset, 0)
		end, c2 := bits.Add64(start, size, 0)
		if c1 != 0 || c2 != 0 || end > uint64(len(p.data)) {
			return nil, p.errAt("offset", starts[i], io.ErrUnexpectedEOF,
				"data [%d, +%d) at absolute offset %d runs past the end of the file (%d bytes)", t.Offset, size, uint64(f.DataOffset)+t.Offset, len(p.data))
		}
		t.Data = p.data[start:end:end]
		prevEnd = t.Offset + size
	}
	return f, nil
}

func (p *parser) tensorInfo(t *TensorInfo) error {
	var err error
	if t.Name, err = p.str("name"); err != nil {
		return err
	}
	p.ctxName, p.hasName = t.Name, true
	atDims := p.off
	nd, err := p.u32("n_dims")
	if err != nil {
		return err
	}
	if nd > MaxDims {
		return p.errAt("n_dims", atDims, nil, "%d dimensions, ggml allows at most %d", nd, MaxDims)
	}
	atDims = p.off
	if err := p.need("dims", uint64(nd)*p.lenSize()); err != nil {
		return err
	}
	t.Dims = make([]uint64, nd)
	for j := range t.Dims {
		t.Dims[j], _ = p.count("dims")
		// ggml stores dims as int64.
		if t.Dims[j] > math.MaxInt64 {
			return p.errAt("dims", atDims, nil, "dimension %d is %d, above the int64 maximum", j, t.Dims[j])
		}
	}
	atType := p.off
	typ, err := p.u32("type")
	if err != nil {
		return err
	}
	t.Type = quant.Type(typ)
	if t.Offset, err = p.u64("offset"); err != nil {
		return err
	}
	l, err := quant.LayoutOf(t.Type)
	if err != nil {
		return p.errAt("type", atType, err, "tensor type id %d", typ)
	}
	if len(t.Dims) > 0 && t.Dims[0]%uint64(l.BlockSize) != 0 {
		return p.errAt("dims", atDims, nil, "ne0 = %d is not a multiple of the %s block size %d", t.Dims[0], t.Type, l.BlockSize)
	}
	if _, err := tensorBytes(t.Type, t.Dims); err != nil {
		return p.errAt("dims", atDims, nil, "%v", err)
	}
	return nil
}

// tensorBytes returns the storage size of a tensor, checking that the
// element count and byte size fit in int64.
func tensorBytes(typ quant.Type, dims []uint64) (uint64, error) {
	n := uint64(1)
	for _, d := range dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("element count of %v overflows int64", dims)
		}
		n = lo
	}
	l, err := quant.LayoutOf(typ)
	if err != nil {
		return 0, err
	}
	if n%uint64(l.BlockSize) != 0 {
		return 0, fmt.Errorf("%d elements is not a whole number of %d-element %s blocks", n, l.BlockSize, typ)
	}
	hi, lo := bits.Mul64(n/uint64(l.BlockSize), uint64(l.TypeSize))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, fmt.Errorf("byte size of %v %s overflows int64", dims, typ)
	}
	return lo, nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// value reads a value of type t; at is the offset of its type code.
func (p *parser) value(t ValueType, at, depth int) (Value, error) {
	v := Value{Type: t}
	switch t {
	case TypeString:
		s, err := p.str("string value")
		v.V = s
		return v, err
	case TypeArray:
		if depth >= maxDepth {
			return v, p.errAt("value type", at, nil, "arrays nested deeper than %d", maxDepth)
		}
		atElem := p.off
		et, err := p.u32("array element type")
		if err != nil {
			return v, err
		}
		v.ElemType = ValueType(et)
		if !v.ElemType.valid() {
			return v, p.errAt("array element type", atElem, nil, "unknown value type %d", et)
		}
		atN := p.off
		n, err := p.count("array length")
		if err != nil {
			return v, err
		}
		min := uint64(v.ElemType.fixedSize())
		switch v.ElemType {
		case TypeString:
			min = p.lenSize()
		case TypeArray:
			min = 4 + p.lenSize()
		}
		if err := p.checkCount("array length", atN, n, min); err != nil {
			return v, err
		}
		v.V, err = p.array(v.ElemType, int(n), atElem, depth)
		return v, err
	}
	if !t.valid() {
		return v, p.errAt("value type", at, nil, "unknown value type %d", uint32(t))
	}
	n := t.fixedSize()
	if err := p.need(t.String()+" value", uint64(n)); err != nil {
		return v, err
	}
	b := p.data[p.off : p.off+n]
	switch t {
	case TypeUint8:
		v.V = b[0]
	case TypeInt8:
		v.V = int8(b[0])
	case TypeBool:
		if b[0] > 1 {
			return v, p.errAt("bool value", p.off, nil, "byte %d is not 0 or 1", b[0])
		}
		v.V = b[0] == 1
	case TypeUint16:
		v.V = binary.LittleEndian.Uint16(b)
	case TypeInt16:
		v.V = int16(binary.LittleEndian.Uint16(b))
	case TypeUint32:
		v.V = binary.LittleEndian.Uint32(b)
	case TypeInt32:
		v.V = int32(binary.LittleEndian.Uint32(b))
	case TypeFloat32:
		v.V = math.Float32frombits(binary.LittleEndian.Uint32(b))
	case TypeUint64:
		v.V = binary.LittleEndian.Uint64(b)
	case TypeInt64:
		v.V = int64(binary.LittleEndian.Uint64(b))
	case TypeFloat64:
		v.V = math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	p.off += n
	return v, nil
}

// array reads n elements of type et; the caller has checked that n elements
// of the minimum size fit in the input.
func (p *parser) array(et ValueType, n, at, depth int) (any, error) {
	if sz := et.fixedSize(); sz > 0 {
		b := p.data[p.off : p.off+n*sz]
		p.off += n * sz
		switch et {
		case TypeUint8:
			return append([]uint8(nil), b...), nil
		case TypeInt8:
			out := make([]int8, n)
			copy(out, unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), n))
			return out, nil
		case TypeBool:
			out := make([]bool, n)
			for i, c := range b {
				if c > 1 {
					return nil, p.errAt("bool array element", p.off-len(b)+i, nil, "byte %d is not 0 or 1", c)
				}
				out[i] = c == 1
			}
			return out, nil
		case TypeUint16:
			return decode(b, n, 2, func(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }), nil
		case TypeInt16:
			return decode(b, n, 2, func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) }), nil
		case TypeUint32:
			return decode(b, n, 4, binary.LittleEndian.Uint32), nil
		case TypeInt32:
			return decode(b, n, 4, func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) }), nil
		case TypeFloat32:
			return decode(b, n, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }), nil
		case TypeUint64:
			return decode(b, n, 8, binary.LittleEndian.Uint64), nil
		case TypeInt64:
			return decode(b, n, 8, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) }), nil
		case TypeFloat64:
			return decode(b, n, 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }), nil
		}
	}
	switch et {
	case TypeString:
		// Validate every length first, then copy the whole region once and
		// slice the strings out of it: one allocation for the whole array.
		start := p.off
		for range n {
			if _, err := p.strBytes("string array element"); err != nil {
				return nil, err
			}
		}
		all := string(p.data[start:p.off])
		out := make([]string, n)
		ls := int(p.lenSize())
		o := 0
		for i := range out {
			var l int
			if p.wide {
				l = int(binary.LittleEndian.Uint64(p.data[start+o:]))
			} else {
				l = int(binary.LittleEndian.Uint32(p.data[start+o:]))
			}
			o += ls
			out[i] = all[o : o+l]
			o += l
		}
		return out, nil
	case TypeArray:
		out := make([]Value, n)
		for i := range out {
			var err error
			if out[i], err = p.value(TypeArray, at, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, p.errAt("array element type", at, nil, "unknown value type %d", uint32(et))
}

func decode[T any](b []byte, n, size int, get func([]byte) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = get(b[i*size:])
	}
	return out
}
