package qdot

import (
	"errors"
	"fmt"
)

// Type is a weight format, numbered by its ggml type ID (the number stored in
// GGUF tensor infos), so a GGUF tensor's type converts with Type(id).
type Type uint32

// The weight formats this package multiplies. The values are ggml's IDs.
const (
	F16  Type = 1
	Q4_0 Type = 2
	Q4_1 Type = 3
	Q5_0 Type = 6
	Q5_1 Type = 7
	Q8_0 Type = 8
	Q2_K Type = 10
	Q3_K Type = 11
	Q4_K Type = 12
	Q5_K Type = 13
	Q6_K Type = 14
	// IQ4_NL is 32-element blocks of 4-bit indices into ggml's fixed
	// non-linear table kvalues_iq4nl, scaled by one f16.
	IQ4_NL Type = 20
	BF16   Type = 30
)

// Errors returned by this package, wrapped with details.
var (
	// ErrType is returned for a type ID the package has no kernel for.
	ErrType = errors.New("qdot: unsupported weight type")
	// ErrShape is returned when a dimension or slice length is wrong.
	ErrShape = errors.New("qdot: bad shape")
	// ErrLevel is returned by SetLevel for a level this machine or build
	// cannot run.
	ErrLevel = errors.New("qdot: kernel level not available")
)

// format describes one weight type: its block geometry, the activation
// encoding its kernels read, and its row-dot kernel.
type format struct {
	name      string
	blockSize int // elements per block
	typeSize  int // bytes per block
	act       actKind
}

// actKind says how activations are prepared for a weight type.
type actKind uint8

const (
	actF32 actKind = iota // float32 as given (F16, BF16)
	act32                 // 8-bit blocks of 32, ggml's Q8_0 rounding
	actK                  // 8-bit blocks of 256, ggml's Q8_K rounding
)

var formats = map[Type]format{
	F16:  {"F16", 1, 2, actF32},
	BF16: {"BF16", 1, 2, actF32},
	Q4_0: {"Q4_0", 32, 18, act32},
	Q4_1: {"Q4_1", 32, 20, act32},
	Q5_0: {"Q5_0", 32, 22, act32},
	Q5_1: {"Q5_1", 32, 24, act32},
	Q8_0: {"Q8_0", 32, 34, act32},
	Q2_K: {"Q2_K", 256, 84, actK},
	Q3_K: {"Q3_K", 256, 110, actK},
	Q4_K: {"Q4_K", 256, 144, actK},
	Q5_K: {"Q5_K", 256, 176, actK},
	Q6_K: {"Q6_K", 256, 210, actK},
	// IQ4_NL's vec_dot_type is Q8_0.
	IQ4_NL: {"IQ4_NL", 32, 18, act32},
}

// Types returns the supported weight types in ID order.
func Types() []Type {
	return []Type{F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, BF16}
}

// String returns ggml's name for t.
func (t Type) String() string {
	if f, ok := formats[t]; ok {
		return f.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize returns the number of elements per block of t (1 for F16 and
// BF16), or 0 for an unsupported type.
func (t Type) BlockSize() int { return formats[t].blockSize }

// RowBytes returns the bytes of one row of cols elements of type t. It
// returns an error wrapping ErrType or ErrShape when t is unsupported or
// cols is not a positive multiple of the block size.
func RowBytes(t Type, cols int) (int, error) {
	f, ok := formats[t]
	if !ok {
		return 0, fmt.Errorf("%w: %v", ErrType, t)
	}
	if cols <= 0 || cols%f.blockSize != 0 {
		return 0, fmt.Errorf("%w: %d columns is not a positive multiple of %s's block size %d", ErrShape, cols, t, f.blockSize)
	}
	return cols / f.blockSize * f.typeSize, nil
}
