package qdot

import "github.com/aethertensor/aether/tensor"

// The half-precision conversions are tensor's (exact, F16C's NaN handling
// and round-to-nearest-even), named here for the kernels' brevity.
func f16ToF32(h uint16) float32 { return tensor.F16ToF32(h) }

func f32ToF16(f float32) uint16 { return tensor.F32ToF16(f) }

// le16 reads a little-endian binary16 scale at b[0:2].
func le16(b []byte) float32 { return f16ToF32(uint16(b[0]) | uint16(b[1])<<8) }
