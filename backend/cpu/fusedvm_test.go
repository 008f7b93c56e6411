package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/internal/asm/fvm"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// randomF32Kernel builds a random float32 kernel over [rows, inner] that
// reads a full matrix, a row vector broadcast down the rows and a per-row
// scalar broadcast along them, with constants and every operation the
// register-level executor runs (and, when foreign is set, one it does not).
func randomF32Kernel(rng *rand.Rand, rows, inner int, foreign bool) *kernel.Elementwise {
	k := &kernel.Elementwise{
		Shape: tensor.Shape{rows, inner},
		Inputs: []kernel.Input{{DType: tensor.F32, Len: rows * inner}, {DType: tensor.F32, Len: inner}, {DType: tensor.F32, Len: rows},
			{DType: tensor.F16, Len: rows * inner}, {DType: tensor.BF16, Len: rows}},
	}
	add := func(n kernel.Node) int {
		n.DType = tensor.F32
		k.Nodes = append(k.Nodes, n)
		return len(k.Nodes) - 1
	}
	add(kernel.Node{Kind: kernel.Load, Input: 0, Strides: []int{inner, 1}})
	add(kernel.Node{Kind: kernel.Load, Input: 1, Strides: []int{0, 1}})
	add(kernel.Node{Kind: kernel.Load, Input: 2, Strides: []int{1, 0}})
	add(kernel.Node{Kind: kernel.Const, Value: float64(float32(rng.NormFloat64()))})
	// Half storage, widened: an f16 stream and a bf16 per-row scalar.
	k.Nodes = append(k.Nodes, kernel.Node{Kind: kernel.Load, DType: tensor.F16, Input: 3, Strides: []int{inner, 1}})
	add(kernel.Node{Kind: kernel.Apply, Op: op.Cast, Args: []int{len(k.Nodes) - 1}})
	k.Nodes = append(k.Nodes, kernel.Node{Kind: kernel.Load, DType: tensor.BF16, Input: 4, Strides: []int{1, 0}})
	add(kernel.Node{Kind: kernel.Apply, Op: op.Cast, Args: []int{len(k.Nodes) - 1}})
	unary := []op.Code{op.Neg, op.Abs, op.Relu, op.Sqrt, op.Rsqrt, op.Recip, op.Exp, op.Sigmoid}
	binary := []op.Code{op.Add, op.Sub, op.Mul, op.Div, op.Maximum, op.Minimum}
	steps := 3 + rng.IntN(12)
	for s := 0; s < steps; s++ {
		// Prefer the latest value, so chains form, but reach back too.
		pick := func() int {
			if rng.IntN(3) > 0 {
				return len(k.Nodes) - 1
			}
			for {
				if i := rng.IntN(len(k.Nodes)); k.Nodes[i].DType == tensor.F32 {
					return i
				}
			}
		}
		switch r := rng.IntN(10); {
		case r < 4:
			add(kernel.Node{Kind: kernel.Apply, Op: unary[rng.IntN(len(unary))], Args: []int{pick()}})
		case r < 9:
			a, b := pick(), pick()
			if rng.IntN(2) == 0 {
				a, b = b, a
			}
			add(kernel.Node{Kind: kernel.Apply, Op: binary[rng.IntN(len(binary))], Args: []int{a, b}})
		default:
			add(kernel.Node{Kind: kernel.Const, Value: float64(float32(rng.NormFloat64() * 3))})
		}
	}
	if foreign {
		add(kernel.Node{Kind: kernel.Apply, Op: op.Tanh, Args: []int{len(k.Nodes) - 1}})
	}
	last := k.Nodes[len(k.Nodes)-1]
	if last.Kind != kernel.Apply {
		add(kernel.Node{Kind: kernel.Apply, Op: op.Add, Args: []int{len(k.Nodes) - 1, 0}})
	}
	return k
}

// specials are mixed into the inputs: signed zeros, infinities, NaN,
// subnormals and values outside the vector exponential's range.
var specials = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -1e-40, 100, -100, 88.5, -87.5}

func randomInput(rng *rand.Rand, n int, special float64) *tensor.Array {
	a := tensor.MustZeros(tensor.F32, tensor.Shape{n})
	x := a.Float32s()
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 2)
		if rng.Float64() < special {
			x[i] = specials[rng.IntN(len(specials))]
		}
	}
	return a
}

// sameBits reports whether a and b are equal float32s, counting every
// NaN equal to every other.
func sameBits(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// TestFusedVMMatchesChunks runs random float32 kernels through the
// register-level executor and through the chunked one and requires the
// same bits, on sizes with ragged tails, broadcasts and special values
// (which also make Exp hand blocks back to the chunked path).
func TestFusedVMMatchesChunks(t *testing.T) {
	variants := []struct {
		name  string
		ok    bool
		run   func([]uint32, []uintptr, int) int
		block int
	}{{"avx512", fvm.Available, fvm.Run, fvm.Block}, {"avx2", fvm.Available2, fvm.Run2, fvm.Block2}}
	ran := 0
	for _, v := range variants {
		if !v.ok {
			continue
		}
		ran++
		t.Run(v.name, func(t *testing.T) {
			defer func(run func([]uint32, []uintptr, int) int, block int) { vmRun, vmBlock = run, block }(vmRun, vmBlock)
			vmRun, vmBlock = v.run, v.block
			vmMatchesChunks(t)
		})
	}
	if ran == 0 {
		t.Skip("neither AVX-512 nor AVX2: the register-level executor does not run here")
	}
}

func vmMatchesChunks(t *testing.T) {
	defer func(v bool) { useVM = v }(useVM)
	rng := rand.New(rand.NewPCG(7, 11))
	compiled := 0
	for trial := 0; trial < 300; trial++ {
		rows := 1 + rng.IntN(3)
		inner := []int{256, 257, 511, 1000, 1300, 2048, 2048 + 300, 2580, 5000}[rng.IntN(9)]
		k := randomF32Kernel(rng, rows, inner, trial%10 == 9)
		special := []float64{0, 0.01, 0.2}[trial%3]
		in := []*tensor.Array{randomInput(rng, rows*inner, special), randomInput(rng, inner, special), randomInput(rng, rows, special),
			halfInput(t, rng, tensor.F16, rows*inner, special), halfInput(t, rng, tensor.BF16, rows, special)}
		name := fmt.Sprintf("trial%d_%dx%d", trial, rows, inner)
		p, err := planFor(k)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if (p.vm != nil) == (trial%10 == 9) {
			t.Fatalf("%s: register program %v, want it only for kernels without foreign operations", name, p.vm != nil)
		}
		if p.vm != nil {
			compiled++
		}
		run := func(vm bool) []float32 {
			useVM = vm
			f, err := fusedKernel(k)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out := tensor.MustZeros(tensor.F32, tensor.Shape{rows, inner})
			if err := f(in, out); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return out.Float32s()
		}
		want, got := run(false), run(true)
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%s (%s, program %x): element %d = %v (%#x), chunked path %v (%#x)", name, k.Key(), progOf(p), i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
	if compiled < 200 {
		t.Fatalf("only %d of 300 kernels compiled to register programs", compiled)
	}
}

// TestFusedVMSpills checks the program of a kernel whose values are used
// more than once: the spill to a temporary, the swapped forms of
// non-commutative operations, and the final store.
func TestFusedVMSpills(t *testing.T) {
	if !useVM {
		t.Skip("no AVX-512")
	}
	const n = 1024
	// y = (x - (x*x)) / relu(x*x): x*x has two uses, so it is spilled.
	k := &kernel.Elementwise{
		Shape:  tensor.Shape{n},
		Inputs: []kernel.Input{{DType: tensor.F32, Len: n}},
		Nodes: []kernel.Node{
			{Kind: kernel.Load, DType: tensor.F32, Strides: []int{1}},
			{Kind: kernel.Apply, DType: tensor.F32, Op: op.Mul, Args: []int{0, 0}},
			{Kind: kernel.Apply, DType: tensor.F32, Op: op.Sub, Args: []int{0, 1}},
			{Kind: kernel.Apply, DType: tensor.F32, Op: op.Relu, Args: []int{1}},
			{Kind: kernel.Apply, DType: tensor.F32, Op: op.Div, Args: []int{2, 3}},
		},
	}
	p, err := planFor(k)
	if err != nil {
		t.Fatal(err)
	}
	v := p.vm
	if v == nil || v.temps != 2 {
		t.Fatalf("program %+v, want two temporaries (x*x, and x - x*x)", v)
	}
	x := randomInput(rand.New(rand.NewPCG(1, 2)), n, 0.05)
	out := runFused(t, k, x)
	for i, xi := range x.Float32s() {
		sq := xi * xi
		r := sq
		if !(r > 0 || r != r) {
			r = 0
		}
		want := (xi - sq) / r
		if !sameBits(out.Float32s()[i], want) {
			t.Fatalf("element %d: x=%v got %v want %v", i, xi, out.Float32s()[i], want)
		}
	}
}

func progOf(p *fusedPlan) []uint32 {
	if p.vm == nil {
		return nil
	}
	return p.vm.prog
}

// TestRecipInPlace is the regression test of a chunked-path bug the
// comparison above found: a reciprocal written over its own operand took
// the square root first (1/√x).
func TestRecipInPlace(t *testing.T) {
	defer func(v bool) { useVM = v }(useVM)
	useVM = false
	const n = 1000
	k := &kernel.Elementwise{
		Shape:  tensor.Shape{n},
		Inputs: []kernel.Input{{DType: tensor.F32, Len: n}},
		Nodes: []kernel.Node{
			{Kind: kernel.Load, DType: tensor.F32, Strides: []int{1}},
			{Kind: kernel.Apply, DType: tensor.F32, Op: op.Neg, Args: []int{0}},
			{Kind: kernel.Apply, DType: tensor.F32, Op: op.Recip, Args: []int{1}},
			{Kind: kernel.Apply, DType: tensor.F32, Op: op.Neg, Args: []int{2}},
		},
	}
	x := randomInput(rand.New(rand.NewPCG(3, 4)), n, 0)
	out := runFused(t, k, x)
	for i, xi := range x.Float32s() {
		if want := -(1 / -xi); !sameBits(out.Float32s()[i], want) {
			t.Fatalf("element %d: 1/%v gave %v, want %v", i, xi, out.Float32s()[i], want)
		}
	}
}

// runFused runs the one-input float32 kernel k over x.
func runFused(t *testing.T, k *kernel.Elementwise, x *tensor.Array) *tensor.Array {
	t.Helper()
	f, err := fusedKernel(k)
	if err != nil {
		t.Fatal(err)
	}
	out := tensor.MustZeros(tensor.F32, k.Shape)
	if err := f([]*tensor.Array{x}, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func halfInput(t *testing.T, rng *rand.Rand, d tensor.DType, n int, special float64) *tensor.Array {
	a, err := randomInput(rng, n, special).Convert(d)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
