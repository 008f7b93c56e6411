package cpu

import (
	"math"
	"unsafe"

	"github.com/aethertensor/aether/internal/asm/vec"
	"github.com/aethertensor/aether/op"
)

// useVec selects the AVX2 elementwise loops; tests turn it off to check
// the Go loops they must agree with.
var useVec = vec.Available

// use512 selects the AVX-512 float32 loops where the CPU has them.
var use512 = vec.Available512

// as reinterprets a slice of a float type parameter as its concrete type
// (the caller has checked which one T is).
func as[D, T any](s []T) []D { return unsafe.Slice((*D)(unsafe.Pointer(unsafe.SliceData(s))), len(s)) }

// vecBinary runs the leading whole blocks of a float binary operation with
// the vector loops and returns how many elements it did (0 when there is
// no vector loop for it).
func vecBinary[T number](c op.Code, a, b, y []T) int {
	if !useVec || len(y) < 32 {
		return 0
	}
	var z T
	switch any(z).(type) {
	case float32:
		y, a, b := as[float32](y), as[float32](a), as[float32](b)
		if use512 {
			switch c {
			case op.Add:
				return vec.AddF32x16(y, a, b)
			case op.Sub:
				return vec.SubF32x16(y, a, b)
			case op.Mul:
				return vec.MulF32x16(y, a, b)
			case op.Div:
				return vec.DivF32x16(y, a, b)
			case op.Maximum:
				return vec.MaxF32x16(y, a, b)
			case op.Minimum:
				return vec.MinF32x16(y, a, b)
			}
		}
		switch c {
		case op.Add:
			return vec.AddF32(y, a, b)
		case op.Sub:
			return vec.SubF32(y, a, b)
		case op.Mul:
			return vec.MulF32(y, a, b)
		case op.Div:
			return vec.DivF32(y, a, b)
		case op.Maximum:
			return vec.MaxF32(y, a, b)
		case op.Minimum:
			return vec.MinF32(y, a, b)
		}
	case float64:
		y, a, b := as[float64](y), as[float64](a), as[float64](b)
		switch c {
		case op.Add:
			return vec.AddF64(y, a, b)
		case op.Sub:
			return vec.SubF64(y, a, b)
		case op.Mul:
			return vec.MulF64(y, a, b)
		case op.Div:
			return vec.DivF64(y, a, b)
		case op.Maximum:
			return vec.MaxF64(y, a, b)
		case op.Minimum:
			return vec.MinF64(y, a, b)
		}
	}
	return 0
}

// vecUnary is vecBinary for the unary operations with vector loops.
func vecUnary[T float](c op.Code, x, y []T) int {
	if !useVec || len(y) < 32 {
		return 0
	}
	var z T
	switch any(z).(type) {
	case float32:
		switch c {
		case op.Exp:
			expF32(as[float32](y), as[float32](x))
			return len(y)
		case op.Sqrt:
			return vec.SqrtF32(as[float32](y), as[float32](x))
		case op.Rsqrt, op.Recip:
			y32, x32 := as[float32](y), as[float32](x)
			var done int
			if c == op.Recip {
				// Not through SqrtF32: when y aliases x (a kernel writing
				// in place) the square roots would overwrite x.
				done = len(y32) &^ 31
				copy(y32[:done], x32[:done])
			} else {
				done = vec.SqrtF32(y32, x32)
			}
			recipF32(y32[:done])
			return done
		case op.Sigmoid:
			// sigmoid32's steps over the whole array.
			y32, x32 := as[float32](y), as[float32](x)
			done := vec.NegF32(y32, x32)
			expF32(y32[:done], y32[:done])
			for i, v := range y32[:done] {
				if v > math.MaxFloat32/2 { // e^-x overflowed f32; the result is subnormal or 0
					y32[i] = float32(sigmoid(float64(x32[i])))
					continue
				}
				y32[i] = 1 / (1 + v)
			}
			return done
		case op.Tanh, op.Erf:
			f, f512 := vec.TanhF32, vec.TanhF32x16
			if c == op.Erf {
				f, f512 = vec.ErfF32, vec.ErfF32x16
			}
			y32, x32 := as[float32](y), as[float32](x)
			done := 0
			if use512 {
				done = f512(y32, x32)
			}
			return done + f(y32[done:], x32[done:])
		case op.Log:
			logF32(as[float32](y), as[float32](x))
			return len(y)
		case op.Neg:
			if use512 {
				return vec.NegF32x16(as[float32](y), as[float32](x))
			}
			return vec.NegF32(as[float32](y), as[float32](x))
		case op.Relu:
			if use512 {
				return vec.ReluF32x16(as[float32](y), as[float32](x))
			}
			return vec.ReluF32(as[float32](y), as[float32](x))
		}
	case float64:
		switch c {
		case op.Neg:
			return vec.NegF64(as[float64](y), as[float64](x))
		case op.Relu:
			return vec.ReluF64(as[float64](y), as[float64](x))
		}
	}
	return 0
}

func vecAvailable() bool { return vec.Available }

// expF32 computes y = exp32(x) with the vector loop, finishing in Go the
// 8-lane blocks it declines (lanes outside [-87, 88], NaNs, infinities:
// the masked scores of attention) and the tail.
func expF32(y, x []float32) {
	for len(y) > 0 {
		done := 0
		if useVec {
			done = vec.ExpF32(y, x)
		}
		y, x = y[done:], x[done:]
		k := min(len(y), 8)
		for i := 0; i < k; i++ {
			y[i] = exp32(x[i])
		}
		y, x = y[k:], x[k:]
	}
}

// logF32 computes y = ln x with the vector loops, finishing in Go the
// blocks they decline (lanes that are zero, negative, subnormal, +Inf or
// NaN) and the tail.
func logF32(y, x []float32) {
	for len(y) > 0 {
		done := 0
		if use512 {
			done = vec.LogF32x16(y, x)
		}
		if useVec {
			done += vec.LogF32(y[done:], x[done:])
		}
		y, x = y[done:], x[done:]
		k := min(len(y), 8)
		for i := 0; i < k; i++ {
			y[i] = float32(math.Log(float64(x[i])))
		}
		y, x = y[k:], x[k:]
	}
}

// sumF32 adds the leading 16-element blocks of x in float64 with the
// vector loop.
func sumF32(x []float32) (float64, int) {
	if !useVec {
		return 0, 0
	}
	return vec.SumF32(x)
}

// ones is the dividend of recipF32 (package-level: a local array handed
// to assembly would escape to the heap on every call).
var ones = func() (a [32]float32) {
	for i := range a {
		a[i] = 1
	}
	return
}()

// recipF32 replaces y with 1/y, a vector division against ones.
func recipF32(y []float32) {
	for len(y) >= 32 {
		vec.DivF32(y[:32], ones[:], y[:32])
		y = y[32:]
	}
	for i, v := range y {
		y[i] = 1 / v
	}
}

func vecAvailable512() bool { return vec.Available512 }
