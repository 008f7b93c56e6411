package quant

import "github.com/aethertensor/aether/tensor"

// F16ToF32 converts IEEE 754 binary16 bits to float32 exactly, as x86's
// F16C does (see tensor.F16ToF32, which it is).
func F16ToF32(h uint16) float32 { return tensor.F16ToF32(h) }

// F32ToF16 rounds f to binary16 bits, ties to even, NaNs kept quiet with
// their payload's top bits (see tensor.F32ToF16).
func F32ToF16(f float32) uint16 { return tensor.F32ToF16(f) }

// BF16ToF32 converts bfloat16 bits to float32 exactly.
func BF16ToF32(h uint16) float32 { return tensor.BF16ToF32(h) }

// F32ToBF16 rounds f to bfloat16 bits as ggml does (see tensor.F32ToBF16).
func F32ToBF16(f float32) uint16 { return tensor.F32ToBF16(f) }

// fp16 reads the little-endian binary16 at b[0:2] as float32.
func fp16(b []byte) float32 {
	return F16ToF32(uint16(b[0]) | uint16(b[1])<<8)
}

// putFP16 stores f as little-endian binary16 at b[0:2].
func putFP16(b []byte, f float32) {
	h := F32ToF16(f)
	b[0] = byte(h)
	b[1] = byte(h >> 8)
}
