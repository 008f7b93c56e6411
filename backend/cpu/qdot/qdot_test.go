package qdot_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/backend/cpu/qdot"
	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/quant"
)

// actType is the ggml type whose dequantiser decodes the activations a
// weight type's kernels read (ggml's vec_dot_type; Q8_1's quants equal
// Q8_0's).
func actType(t qdot.Type) quant.Type {
	switch t {
	case qdot.F16:
		return quant.F16 // ggml's vec_dot_type for F16
	case qdot.BF16:
		return quant.BF16 // ggml's vec_dot_type for BF16
	case qdot.Q2_K, qdot.Q3_K, qdot.Q4_K, qdot.Q5_K, qdot.Q6_K:
		return quant.Q8_K
	}
	return quant.Q8_0
}

// scaleOffsets are the byte offsets of the binary16 scales in a block.
var scaleOffsets = map[qdot.Type][]int{
	qdot.Q4_0: {0}, qdot.Q4_1: {0, 2}, qdot.Q5_0: {0}, qdot.Q5_1: {0, 2}, qdot.Q8_0: {0},
	qdot.Q2_K: {80, 82}, qdot.Q3_K: {108}, qdot.Q4_K: {0, 2}, qdot.Q5_K: {0, 2}, qdot.Q6_K: {208}, qdot.IQ4_NL: {0},
}

func typeSize(t testing.TB, typ qdot.Type) int {
	l, err := quant.LayoutOf(quant.Type(typ))
	if err != nil {
		t.Fatal(err)
	}
	return l.TypeSize
}

// randWeights returns rows×cols weights of type typ. quantised: random
// normals through llama.cpp's reference quantiser. Otherwise random block
// bytes (every bit pattern of the quants, e.g. -128 in Q8_0) with each
// binary16 scale set to scale, or to a random finite one when scale is 0.
func randWeights(t testing.TB, r *rand.Rand, typ qdot.Type, rows, cols int, quantised bool, scale float32) []byte {
	t.Helper()
	if typ == qdot.F16 || typ == qdot.BF16 || quantised {
		f := make([]float32, rows*cols)
		for i := range f {
			f[i] = float32(r.NormFloat64())
		}
		rb, _ := qdot.RowBytes(typ, cols)
		w := make([]byte, rows*rb)
		if err := quant.Quantize(quant.Type(typ), w, f); err != nil {
			t.Fatal(err)
		}
		return w
	}
	rb, _ := qdot.RowBytes(typ, cols)
	w := make([]byte, rows*rb)
	for i := range w {
		w[i] = byte(r.Uint32())
	}
	ts := typeSize(t, typ)
	for b := 0; b < len(w); b += ts {
		for _, off := range scaleOffsets[typ] {
			s := scale
			if s == 0 {
				s = float32(r.NormFloat64() * 0.01)
			}
			binary.LittleEndian.PutUint16(w[b+off:], quant.F32ToF16(s))
		}
	}
	return w
}

// intWeights returns n F16 or BF16 weights that are small integers, so
// that every partial sum with integer activations is exact.
func intWeights(t testing.TB, r *rand.Rand, typ qdot.Type, n int) []byte {
	t.Helper()
	f := make([]float32, n)
	for i := range f {
		f[i] = float32(r.IntN(17) - 8)
	}
	w := make([]byte, 2*n)
	if err := quant.Quantize(quant.Type(typ), w, f); err != nil {
		t.Fatal(err)
	}
	return w
}

// reference returns, per output, the float64 dot of the dequantised weights
// with the dequantised activations, and Σ|w·x| for the error bound.
func reference(t testing.TB, typ qdot.Type, w []byte, rows, cols int, x []float32, n int) (ref, mag []float64) {
	t.Helper()
	wf := make([]float32, rows*cols)
	if err := quant.Dequantize(quant.Type(typ), wf, w); err != nil {
		t.Fatal(err)
	}
	xf := x
	if at := actType(typ); at != quant.F32 {
		l, _ := quant.LayoutOf(at)
		xb := make([]byte, len(x)/l.BlockSize*l.TypeSize)
		if err := quant.Quantize(at, xb, x); err != nil {
			t.Fatal(err)
		}
		xf = make([]float32, len(x))
		if err := quant.Dequantize(at, xf, xb); err != nil {
			t.Fatal(err)
		}
	}
	ref, mag = make([]float64, n*rows), make([]float64, n*rows)
	for i := 0; i < n; i++ {
		for r := 0; r < rows; r++ {
			var s, m float64
			for c := 0; c < cols; c++ {
				p := float64(wf[r*cols+c]) * float64(xf[i*cols+c])
				s += p
				m += math.Abs(p)
			}
			ref[i*rows+r], mag[i*rows+r] = s, m
		}
	}
	return ref, mag
}

// tolerance bounds the float32 rounding of a row's result: each of the
// cols/blockSize block terms (cols terms for F16/BF16) and the final
// reductions add at most one rounding of 2^-24 relative to Σ|w·x|, twice
// over to cover products. The integer dot products are exact.
func tolerance(typ qdot.Type, cols int, mag float64) float64 {
	terms := cols / typ.BlockSize()
	tol := float64(terms+16) * 0x1p-23 * mag
	if typ == qdot.Q4_1 || typ == qdot.Q5_1 {
		// As in ggml, the min term m·d·Σq uses Q8_1's s = d·Σq rounded
		// to f16 (2^-11 relative), which the float64 reference does not;
		// |m|·Σ|x| is within a small factor of Σ|w·x| for these weights.
		tol += 0x1p-10 * mag
	}
	return tol
}

func randActs(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// matMulGuarded runs MatMul into a slice with NaN guards either side and
// fails if a guard changes.
func matMulGuarded(t *testing.T, typ qdot.Type, w []byte, rows, cols int, x []float32, n int) []float32 {
	t.Helper()
	const g = 8
	buf := make([]float32, n*rows+2*g)
	for i := range buf {
		buf[i] = float32(math.NaN())
	}
	dst := buf[g : g+n*rows]
	var err error
	if n == 1 && len(x) == cols {
		err = qdot.MatVec(typ, dst, w, rows, cols, x)
	} else {
		err = qdot.MatMul(typ, dst, w, rows, cols, x, n)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < g; i++ {
		if !math.IsNaN(float64(buf[i])) || !math.IsNaN(float64(buf[len(buf)-1-i])) {
			t.Fatalf("guard %d overwritten", i)
		}
	}
	return append([]float32(nil), dst...)
}

// withLevel runs f with the kernel level set to l and restores the old one.
func withLevel(t *testing.T, l qdot.Level, f func()) {
	t.Helper()
	prev, err := qdot.SetLevel(l)
	if err != nil {
		t.Fatal(err)
	}
	defer qdot.SetLevel(prev)
	f()
}

type shape struct{ rows, cols, n int }

// shapes for a block size: ragged row counts and odd numbers of blocks, so
// unrolled loops meet their tails.
func shapes(bs int) []shape {
	if bs == 1 {
		return []shape{{1, 1, 1}, {3, 7, 1}, {5, 33, 2}, {17, 256, 1}, {9, 1000, 3}}
	}
	if bs == 32 {
		return []shape{{1, 32, 1}, {3, 64, 1}, {5, 96, 2}, {17, 224, 1}, {7, 4096, 3}, {2, 288, 1}}
	}
	return []shape{{1, 256, 1}, {3, 512, 1}, {5, 768, 2}, {17, 1792, 1}, {4, 4096, 3}}
}

// TestGenericMatchesDequantized checks the generic kernels against float64
// dots of quant.Dequantize'd weights and activations.
func TestGenericMatchesDequantized(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range qdot.Types() {
		for _, quantised := range []bool{true, false} {
			for _, s := range shapes(typ.BlockSize()) {
				name := fmt.Sprintf("%v/q=%v/%dx%dx%d", typ, quantised, s.n, s.rows, s.cols)
				t.Run(name, func(t *testing.T) {
					w := randWeights(t, r, typ, s.rows, s.cols, quantised, 0)
					x := randActs(r, s.n*s.cols)
					var got []float32
					withLevel(t, qdot.Generic, func() { got = matMulGuarded(t, typ, w, s.rows, s.cols, x, s.n) })
					ref, mag := reference(t, typ, w, s.rows, s.cols, x, s.n)
					for i := range got {
						if d := math.Abs(float64(got[i]) - ref[i]); !(d <= tolerance(typ, s.cols, mag[i])) {
							t.Fatalf("out %d: got %g, float64 reference %g (diff %g, tol %g)", i, got[i], ref[i], d, tolerance(typ, s.cols, mag[i]))
						}
					}
				})
			}
		}
	}
}

// TestActivationQuantization checks that activations are quantised to the
// bytes llama.cpp's Q8_0 and Q8_K quantisers write.
func TestActivationQuantization(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := randActs(r, 1024)
	x[5], x[300] = 0, 1e-30
	clear(x[512:768]) // an all-zero block
	for _, tc := range []struct {
		w qdot.Type
		a quant.Type
	}{{qdot.Q4_0, quant.Q8_0}, {qdot.Q4_K, quant.Q8_K}} {
		q, d := qdot.QuantizeActs(tc.w, x)
		l, _ := quant.LayoutOf(tc.a)
		ref := make([]byte, len(x)/l.BlockSize*l.TypeSize)
		if err := quant.Quantize(tc.a, ref, x); err != nil {
			t.Fatal(err)
		}
		for b := range d {
			blk := ref[b*l.TypeSize:]
			var want float32
			qs := blk[2:]
			if tc.a == quant.Q8_K {
				want, qs = math.Float32frombits(binary.LittleEndian.Uint32(blk)), blk[4:]
			} else {
				want = quant.F16ToF32(binary.LittleEndian.Uint16(blk))
			}
			if d[b] != want {
				t.Errorf("%v block %d: scale %g, llama.cpp %g", tc.a, b, d[b], want)
			}
			for j := 0; j < l.BlockSize; j++ {
				if q[b*l.BlockSize+j] != int8(qs[j]) {
					t.Fatalf("%v block %d elem %d: q %d, llama.cpp %d", tc.a, b, j, q[b*l.BlockSize+j], int8(qs[j]))
				}
			}
		}
	}
}

// TestLevelsMatchGeneric checks every supported assembly level against the
// generic kernels. With unit scales and small integer activations every
// partial sum is an integer below 2^24, so the results must be identical;
// with random scales they must agree within tolerance().
func TestLevelsMatchGeneric(t *testing.T) {
	levels := qdot.Supported()
	t.Logf("levels: %v (using %v)", levels, qdot.CurrentLevel())
	r := rand.New(rand.NewPCG(5, 6))
	for _, lvl := range levels[1:] {
		for _, typ := range qdot.Types() {
			for _, mode := range []string{"exact", "random", "quantised"} {
				for _, s := range shapes(typ.BlockSize()) {
					if mode == "exact" && s.cols > 512 {
						continue
					}
					name := fmt.Sprintf("%v/%v/%s/%dx%dx%d", lvl, typ, mode, s.n, s.rows, s.cols)
					t.Run(name, func(t *testing.T) {
						var w []byte
						x := randActs(r, s.n*s.cols)
						switch mode {
						case "exact":
							w = randWeights(t, r, typ, s.rows, s.cols, false, 1)
							if typ == qdot.F16 || typ == qdot.BF16 {
								w = intWeights(t, r, typ, s.rows*s.cols)
							}
							for i := range x {
								x[i] = float32(r.IntN(7) - 3)
								if i%32 == 0 {
									x[i] = 127 // every block's scale is exactly 1
								}
							}
						case "random":
							w = randWeights(t, r, typ, s.rows, s.cols, false, 0)
						default:
							w = randWeights(t, r, typ, s.rows, s.cols, true, 0)
						}
						var want, got []float32
						withLevel(t, qdot.Generic, func() { want = matMulGuarded(t, typ, w, s.rows, s.cols, x, s.n) })
						withLevel(t, lvl, func() { got = matMulGuarded(t, typ, w, s.rows, s.cols, x, s.n) })
						_, mag := reference(t, typ, w, s.rows, s.cols, x, s.n)
						for i := range got {
							tol := tolerance(typ, s.cols, mag[i])
							if mode == "exact" {
								tol = 0
							}
							if d := math.Abs(float64(got[i] - want[i])); !(d <= tol) {
								t.Fatalf("out %d: %v gives %g, generic %g (diff %g, tol %g)", i, lvl, got[i], want[i], d, tol)
							}
						}
					})
				}
			}
		}
	}
}

// fileTypes maps the quantised test files to their main tensor type.
var fileTypes = []struct {
	name string
	typ  qdot.Type
}{
	{"F16", qdot.F16}, {"BF16", qdot.BF16}, {"Q4_0", qdot.Q4_0}, {"Q4_1", qdot.Q4_1},
	{"Q5_0", qdot.Q5_0}, {"Q5_1", qdot.Q5_1}, {"Q8_0", qdot.Q8_0}, {"Q2_K", qdot.Q2_K},
	{"Q3_K_S", qdot.Q3_K}, {"Q4_K_S", qdot.Q4_K}, {"Q5_K_S", qdot.Q5_K}, {"Q6_K", qdot.Q6_K},
	{"IQ4_NL", qdot.IQ4_NL},
}

// TestRealBlocks multiplies llama.cpp-quantised tensors of the synthetic
// test model at every level and checks them against the float64 reference.
func TestRealBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, ft := range fileTypes {
		t.Run(ft.name, func(t *testing.T) {
			f, err := gguf.Open(testdata.Path(t, "models/quant/synth-llama-256-"+ft.name+".gguf"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			seen := map[qdot.Type]bool{}
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				typ := qdot.Type(ti.Type)
				if len(ti.Dims) != 2 || typ.BlockSize() == 0 || seen[typ] {
					continue
				}
				seen[typ] = true
				cols, rows := int(ti.Dims[0]), int(ti.Dims[1])
				x := randActs(r, 2*cols)
				ref, mag := reference(t, typ, ti.Data, rows, cols, x, 2)
				for _, lvl := range qdot.Supported() {
					var got []float32
					withLevel(t, lvl, func() { got = matMulGuarded(t, typ, ti.Data, rows, cols, x, 2) })
					for k := range got {
						if d := math.Abs(float64(got[k]) - ref[k]); !(d <= tolerance(typ, cols, mag[k])) {
							t.Fatalf("%s (%v) %v out %d: got %g, reference %g", ti.Name, typ, lvl, k, got[k], ref[k])
						}
					}
				}
			}
			if !seen[ft.typ] {
				t.Fatalf("no 2-D %v tensor in file", ft.typ)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	w := make([]byte, 2*18)
	x := make([]float32, 32)
	dst := make([]float32, 2)
	for _, tc := range []struct {
		name string
		err  error
		call func() error
	}{
		{"type", qdot.ErrType, func() error { return qdot.MatVec(qdot.Type(0), dst, w, 2, 32, x) }},
		{"retired type", qdot.ErrType, func() error { return qdot.MatVec(qdot.Type(4), dst, w, 2, 32, x) }},
		{"cols not whole blocks", qdot.ErrShape, func() error { return qdot.MatVec(qdot.Q4_0, dst, w, 2, 31, x[:31]) }},
		{"zero cols", qdot.ErrShape, func() error { return qdot.MatVec(qdot.Q4_0, dst, w, 2, 0, x[:0]) }},
		{"short weights", qdot.ErrShape, func() error { return qdot.MatVec(qdot.Q4_0, dst, w[:35], 2, 32, x) }},
		{"short x", qdot.ErrShape, func() error { return qdot.MatVec(qdot.Q4_0, dst, w, 2, 32, x[:16]) }},
		{"short dst", qdot.ErrShape, func() error { return qdot.MatVec(qdot.Q4_0, dst[:1], w, 2, 32, x) }},
		{"negative rows", qdot.ErrShape, func() error { return qdot.MatMul(qdot.Q4_0, dst, w, -1, 32, x, 1) }},
		{"matmul x", qdot.ErrShape, func() error { return qdot.MatMul(qdot.Q4_0, dst, w, 2, 32, x, 2) }},
		{"level", qdot.ErrLevel, func() error { _, err := qdot.SetLevel(qdot.Level(99)); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
		})
	}
	if err := qdot.MatMul(qdot.Q4_0, nil, nil, 0, 32, nil, 0); err != nil {
		t.Fatalf("empty product: %v", err)
	}
}

func TestRowBytesAndNames(t *testing.T) {
	for _, typ := range qdot.Types() {
		l, err := quant.LayoutOf(quant.Type(typ))
		if err != nil {
			t.Fatal(err)
		}
		if typ.String() != l.Name || typ.BlockSize() != l.BlockSize {
			t.Errorf("%v: name/block %s/%d, quant says %s/%d", typ, typ, typ.BlockSize(), l.Name, l.BlockSize)
		}
		got, err := qdot.RowBytes(typ, 4096)
		want, _ := quant.RowBytes(quant.Type(typ), 4096)
		if err != nil || uint64(got) != want {
			t.Errorf("%v: RowBytes %d, %v; quant says %d", typ, got, err, want)
		}
	}
	if got := qdot.Type(99).String(); got != "type(99)" {
		t.Errorf("unknown type name %q", got)
	}
}
