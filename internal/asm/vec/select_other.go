//go:build !amd64 || noasm

package vec

// Available is false: there is no assembly for this build.
var Available = false

// The Go stand-ins below are never called when Available is false; they
// exist so callers compile on every platform and report no work done.

// AddF32 does nothing here.
func AddF32(y, a, b []float32) int { return 0 }

// SubF32 does nothing here.
func SubF32(y, a, b []float32) int { return 0 }

// MulF32 does nothing here.
func MulF32(y, a, b []float32) int { return 0 }

// DivF32 does nothing here.
func DivF32(y, a, b []float32) int { return 0 }

// MaxF32 does nothing here.
func MaxF32(y, a, b []float32) int { return 0 }

// MinF32 does nothing here.
func MinF32(y, a, b []float32) int { return 0 }

// NegF32 does nothing here.
func NegF32(y, x []float32) int { return 0 }

// ReluF32 does nothing here.
func ReluF32(y, x []float32) int { return 0 }

// AddF64 does nothing here.
func AddF64(y, a, b []float64) int { return 0 }

// SubF64 does nothing here.
func SubF64(y, a, b []float64) int { return 0 }

// MulF64 does nothing here.
func MulF64(y, a, b []float64) int { return 0 }

// DivF64 does nothing here.
func DivF64(y, a, b []float64) int { return 0 }

// MaxF64 does nothing here.
func MaxF64(y, a, b []float64) int { return 0 }

// MinF64 does nothing here.
func MinF64(y, a, b []float64) int { return 0 }

// NegF64 does nothing here.
func NegF64(y, x []float64) int { return 0 }

// ReluF64 does nothing here.
func ReluF64(y, x []float64) int { return 0 }

// ExpF32 does nothing here.
func ExpF32(y, x []float32) int { return 0 }

// SumF32 does nothing here.
func SumF32(x []float32) (float64, int) { return 0, 0 }

// SqrtF32 does nothing here.
func SqrtF32(y, x []float32) int { return 0 }

// Available512 is false: there is no assembly for this build.
var Available512 = false

// AddF32x16 does nothing here.
func AddF32x16(y, a, b []float32) int { return 0 }

// SubF32x16 does nothing here.
func SubF32x16(y, a, b []float32) int { return 0 }

// MulF32x16 does nothing here.
func MulF32x16(y, a, b []float32) int { return 0 }

// DivF32x16 does nothing here.
func DivF32x16(y, a, b []float32) int { return 0 }

// MaxF32x16 does nothing here.
func MaxF32x16(y, a, b []float32) int { return 0 }

// MinF32x16 does nothing here.
func MinF32x16(y, a, b []float32) int { return 0 }

// NegF32x16 does nothing here.
func NegF32x16(y, x []float32) int { return 0 }

// ReluF32x16 does nothing here.
func ReluF32x16(y, x []float32) int { return 0 }

// TanhF32 does nothing here.
func TanhF32(y, x []float32) int { return 0 }

// ErfF32 does nothing here.
func ErfF32(y, x []float32) int { return 0 }

// LogF32 does nothing here.
func LogF32(y, x []float32) int { return 0 }

// TanhF32x16 does nothing here.
func TanhF32x16(y, x []float32) int { return 0 }

// ErfF32x16 does nothing here.
func ErfF32x16(y, x []float32) int { return 0 }

// LogF32x16 does nothing here.
func LogF32x16(y, x []float32) int { return 0 }

// WhereF32 does nothing here.
func WhereF32(y, a, b []float32, c []bool) int { return 0 }
