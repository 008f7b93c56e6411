package cpu

import "math"

// The float32 exponential is one function of its argument, whichever
// loop computes it: the AVX2 loop (vec.ExpF32), the register-level fused
// kernels and the scalar code all give exp32's bits, so a value does not
// depend on its neighbours, the array's length or the machine's vector
// unit, and WebGPU's fused kernels (fusion's WGSL emitter) repeat it.

// Constants of exp32's Cody–Waite reduction and polynomial, as the
// vector generator (internal/asm/vecgen) broadcasts them.
const (
	expLog2e = float32(1.44269504088896341)
	expC1    = float32(0.693359375)
	expC2    = float32(-2.12194440e-4)
)

var expPoly = [...]float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}

// exp32 is e^x: for x in [-87, 88] the Cody–Waite range reduction
// x = n·ln2 + r and a degree-5 polynomial in r scaled by 2^n, every
// operation rounded to float32 in the vector loop's order (within 2 ulp);
// elsewhere (tiny or overflowing results, NaN) the float64 exponential
// rounded once.
func exp32(x float32) float32 {
	if !(x >= -87 && x <= 88) {
		return float32(math.Exp(float64(x)))
	}
	// Explicit conversions round every product, as the vector code does
	// (the compiler may not fuse them into multiply-adds).
	fn := float32(math.RoundToEven(float64(float32(x * expLog2e))))
	r := x - float32(fn*expC1)
	r -= float32(fn * expC2)
	acc := expPoly[0]
	for _, c := range expPoly[1:] {
		acc = float32(acc*r) + c
	}
	acc = float32(float32(r*r)*acc) + r
	acc += 1
	return acc * math.Float32frombits(uint32(int32(fn)+127)<<23)
}

// sigmoid32 is 1/(1+e^-x) with exp32, or the float64 logistic rounded
// once where e^-x is beyond half the float32 range (results of 2^-128
// and below).
func sigmoid32(x float32) float32 {
	e := exp32(-x)
	if e > math.MaxFloat32/2 {
		return float32(sigmoid(float64(x)))
	}
	return 1 / (1 + e)
}
