package quant

import (
	"errors"
	"fmt"
)

// Type is a ggml tensor type ID as stored in GGUF tensor infos. The numbers
// are on-disk values: retired IDs stay reserved and are never reused.
type Type uint32

// The ggml type IDs. Gaps are IDs that ggml retired.
const (
	F32     Type = 0
	F16     Type = 1
	Q4_0    Type = 2
	Q4_1    Type = 3
	Q5_0    Type = 6
	Q5_1    Type = 7
	Q8_0    Type = 8
	Q8_1    Type = 9
	Q2_K    Type = 10
	Q3_K    Type = 11
	Q4_K    Type = 12
	Q5_K    Type = 13
	Q6_K    Type = 14
	Q8_K    Type = 15
	IQ2_XXS Type = 16
	IQ2_XS  Type = 17
	IQ3_XXS Type = 18
	IQ1_S   Type = 19
	IQ4_NL  Type = 20
	IQ3_S   Type = 21
	IQ2_S   Type = 22
	IQ4_XS  Type = 23
	I8      Type = 24
	I16     Type = 25
	I32     Type = 26
	I64     Type = 27
	F64     Type = 28
	IQ1_M   Type = 29
	BF16    Type = 30
	TQ1_0   Type = 34
	TQ2_0   Type = 35
	MXFP4   Type = 39
)

// ErrUnknownType is returned for a type ID this package has no layout for.
var ErrUnknownType = errors.New("quant: unknown tensor type")

// Layout is the storage shape of one type: elements per block and bytes per
// block. Plain types have BlockSize 1.
type Layout struct {
	Name      string
	BlockSize int // elements per block
	TypeSize  int // bytes per block
}

// layouts is indexed by Type. A zero entry is an unknown or retired ID.
var layouts = [...]Layout{
	F32:     {"F32", 1, 4},
	F16:     {"F16", 1, 2},
	Q4_0:    {"Q4_0", 32, 18},
	Q4_1:    {"Q4_1", 32, 20},
	4:       {"Q4_2 (retired)", 0, 0},
	5:       {"Q4_3 (retired)", 0, 0},
	Q5_0:    {"Q5_0", 32, 22},
	Q5_1:    {"Q5_1", 32, 24},
	Q8_0:    {"Q8_0", 32, 34},
	Q8_1:    {"Q8_1", 32, 36},
	Q2_K:    {"Q2_K", 256, 84},
	Q3_K:    {"Q3_K", 256, 110},
	Q4_K:    {"Q4_K", 256, 144},
	Q5_K:    {"Q5_K", 256, 176},
	Q6_K:    {"Q6_K", 256, 210},
	Q8_K:    {"Q8_K", 256, 292},
	IQ2_XXS: {"IQ2_XXS", 256, 66},
	IQ2_XS:  {"IQ2_XS", 256, 74},
	IQ3_XXS: {"IQ3_XXS", 256, 98},
	IQ1_S:   {"IQ1_S", 256, 50},
	IQ4_NL:  {"IQ4_NL", 32, 18},
	IQ3_S:   {"IQ3_S", 256, 110},
	IQ2_S:   {"IQ2_S", 256, 82},
	IQ4_XS:  {"IQ4_XS", 256, 136},
	I8:      {"I8", 1, 1},
	I16:     {"I16", 1, 2},
	I32:     {"I32", 1, 4},
	I64:     {"I64", 1, 8},
	F64:     {"F64", 1, 8},
	IQ1_M:   {"IQ1_M", 256, 56},
	BF16:    {"BF16", 1, 2},
	31:      {"Q4_0_4_4 (retired)", 0, 0},
	32:      {"Q4_0_4_8 (retired)", 0, 0},
	33:      {"Q4_0_8_8 (retired)", 0, 0},
	TQ1_0:   {"TQ1_0", 256, 54},
	TQ2_0:   {"TQ2_0", 256, 66},
	36:      {"IQ4_NL_4_4 (retired)", 0, 0},
	37:      {"IQ4_NL_4_8 (retired)", 0, 0},
	38:      {"IQ4_NL_8_8 (retired)", 0, 0},
	MXFP4:   {"MXFP4", 32, 17},
}

// LayoutOf returns the block layout of t, or an error wrapping
// ErrUnknownType for an unknown or retired ID.
func LayoutOf(t Type) (Layout, error) {
	if int(t) < len(layouts) && layouts[t].BlockSize > 0 {
		return layouts[t], nil
	}
	return Layout{}, fmt.Errorf("%w: id %d (%s)", ErrUnknownType, uint32(t), t)
}

// String returns ggml's name for t.
func (t Type) String() string {
	if int(t) < len(layouts) && layouts[t].Name != "" {
		return layouts[t].Name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// RowBytes returns the bytes taken by n elements of type t. n must be a
// multiple of the block size.
func RowBytes(t Type, n uint64) (uint64, error) {
	l, err := LayoutOf(t)
	if err != nil {
		return 0, err
	}
	if n%uint64(l.BlockSize) != 0 {
		return 0, fmt.Errorf("quant: %d elements of %s is not a whole number of %d-element blocks", n, t, l.BlockSize)
	}
	return n / uint64(l.BlockSize) * uint64(l.TypeSize), nil
}
