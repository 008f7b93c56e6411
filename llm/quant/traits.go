package quant

import (
	"errors"
	"fmt"
)

// ErrUnsupported is returned when a known type has no dequantiser or no
// quantiser in this package (for example the IQ2/IQ3 grid types).
var ErrUnsupported = errors.New("quant: conversion not supported")

// ErrLength is returned when a source or destination slice does not hold a
// whole number of blocks or the two lengths disagree.
var ErrLength = errors.New("quant: length mismatch")

// Traits describes one tensor type: its layout and its conversions. The
// conversion functions work on whole blocks and are called once per buffer,
// so the hot loops decode block by block without per-element indirection.
type Traits struct {
	Type Type
	Layout
	// toFloat decodes len(src)/TypeSize blocks into dst; lengths are checked
	// by the caller.
	toFloat func(dst []float32, src []byte)
	// fromFloat encodes len(src)/BlockSize blocks into dst with llama.cpp's
	// reference rounding; nil for types without a quantiser.
	fromFloat func(dst []byte, src []float32)
}

// traits is indexed by Type; a nil entry has no conversions.
var traits [MXFP4 + 1]*Traits // entries are never handed out, only copies

func init() {
	reg := func(t Type, to func([]float32, []byte), from func([]byte, []float32)) {
		l, err := LayoutOf(t)
		if err != nil {
			panic(err) // a table entry for an ID without a layout is a bug here
		}
		traits[t] = &Traits{Type: t, Layout: l, toFloat: to, fromFloat: from}
	}
	reg(F32, dequantF32, quantF32)
	reg(F16, dequantF16, quantF16)
	reg(BF16, dequantBF16, quantBF16)
	reg(F64, dequantF64, nil)
	reg(I8, dequantI8, nil)
	reg(I16, dequantI16, nil)
	reg(I32, dequantI32, nil)
	reg(Q4_0, dequantQ4_0, quantQ4_0)
	reg(Q4_1, dequantQ4_1, quantQ4_1)
	reg(Q5_0, dequantQ5_0, quantQ5_0)
	reg(Q5_1, dequantQ5_1, quantQ5_1)
	reg(Q8_0, dequantQ8_0, quantQ8_0)
	reg(Q8_1, dequantQ8_1, quantQ8_1)
	reg(Q2_K, dequantQ2_K, quantQ2_K)
	reg(Q3_K, dequantQ3_K, quantQ3_K)
	reg(Q4_K, dequantQ4_K, quantQ4_K)
	reg(Q5_K, dequantQ5_K, quantQ5_K)
	reg(Q6_K, dequantQ6_K, quantQ6_K)
	reg(Q8_K, dequantQ8_K, quantQ8_K)
	reg(IQ4_NL, dequantIQ4_NL, quantIQ4_NL)
	reg(IQ4_XS, dequantIQ4_XS, quantIQ4_XS)
}

// TraitsOf returns (a copy of) the traits of t. An unknown or retired ID gives an error
// wrapping ErrUnknownType; a known type this package cannot convert gives
// one wrapping ErrUnsupported.
func TraitsOf(t Type) (Traits, error) {
	if _, err := LayoutOf(t); err != nil {
		return Traits{}, err
	}
	if int(t) >= len(traits) || traits[t] == nil {
		return Traits{}, fmt.Errorf("%w: %s has no dequantiser", ErrUnsupported, t)
	}
	return *traits[t], nil
}

// CanQuantize reports whether Quantize is implemented for the type.
func (tr Traits) CanQuantize() bool { return tr.fromFloat != nil }

// Dequantize decodes src, which must hold whole blocks, into dst, which must
// have exactly BlockSize elements per block of src. The zero Traits has no
// conversions and returns an error wrapping ErrUnsupported.
func (tr Traits) Dequantize(dst []float32, src []byte) error {
	if tr.toFloat == nil {
		return fmt.Errorf("%w: no dequantiser for %s", ErrUnsupported, tr.Type)
	}
	if len(src)%tr.TypeSize != 0 {
		return fmt.Errorf("%w: %d bytes is not a whole number of %d-byte %s blocks", ErrLength, len(src), tr.TypeSize, tr.Type)
	}
	if n := len(src) / tr.TypeSize * tr.BlockSize; len(dst) != n {
		return fmt.Errorf("%w: %d bytes of %s hold %d values, destination has %d", ErrLength, len(src), tr.Type, n, len(dst))
	}
	tr.toFloat(dst, src)
	return nil
}

// Quantize encodes src, whose length must be a multiple of BlockSize, into
// dst, which must be exactly TypeSize bytes per block. The rounding is that
// of llama.cpp's reference quantiser for the type (for IQ4_NL and IQ4_XS,
// that of llama-quantize without an importance matrix), so the bytes match
// files llama.cpp writes.
func (tr Traits) Quantize(dst []byte, src []float32) error {
	if tr.fromFloat == nil {
		return fmt.Errorf("%w: no quantiser for %s", ErrUnsupported, tr.Type)
	}
	if len(src)%tr.BlockSize != 0 {
		return fmt.Errorf("%w: %d values is not a whole number of %d-element %s blocks", ErrLength, len(src), tr.BlockSize, tr.Type)
	}
	if n := len(src) / tr.BlockSize * tr.TypeSize; len(dst) != n {
		return fmt.Errorf("%w: %d values of %s need %d bytes, destination has %d", ErrLength, len(src), tr.Type, n, len(dst))
	}
	tr.fromFloat(dst, src)
	return nil
}

// Dequantize decodes src, whole blocks of type t, into dst. See
// Traits.Dequantize.
func Dequantize(t Type, dst []float32, src []byte) error {
	tr, err := TraitsOf(t)
	if err != nil {
		return err
	}
	return tr.Dequantize(dst, src)
}

// Quantize encodes src into dst as type t. See Traits.Quantize.
func Quantize(t Type, dst []byte, src []float32) error {
	tr, err := TraitsOf(t)
	if err != nil {
		return err
	}
	return tr.Quantize(dst, src)
}
