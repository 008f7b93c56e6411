package graph_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// randomGraph builds a random f64 graph over a [4 6] placeholder, mixing in
// constants (including 0 and 1, so simplification fires), repeated
// subexpressions (so CSE fires) and constant-only subgraphs (so folding
// fires).
func randomGraph(rng *rand.Rand) (*graph.Graph, []graph.Tensor) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 4, 6)
	konst := func(v float64) graph.Tensor { return g.Full(tensor.F64, v, 4, 6) }
	randConst := func() graph.Tensor {
		a := tensor.MustZeros(tensor.F64, tensor.Shape{4, 6})
		for i := range a.Float64s() {
			a.Float64s()[i] = rng.Float64()*2 - 1
		}
		return g.Const(a)
	}
	pool := []graph.Tensor{x, x.Tanh(), randConst()}
	pick := func() graph.Tensor { return pool[rng.IntN(len(pool))] }
	for i, n := 0, 4+rng.IntN(12); i < n; i++ {
		a, b := pick(), pick()
		var t graph.Tensor
		switch rng.IntN(16) {
		case 0:
			t = a.Add(b)
		case 1:
			t = a.Sub(b)
		case 2:
			t = a.Mul(b)
		case 3:
			t = a.Add(konst(0))
		case 4:
			t = a.Mul(konst(1))
		case 5:
			t = a.Neg().Neg()
		case 6:
			t = a.Sigmoid()
		case 7:
			t = a.Sin().Mul(b.Cos())
		case 8:
			t = a.Exp().Log().Exp() // exp(log(exp a)) simplifies
		case 9:
			t = a.MatMul(b.Transpose()).MatMul(b) // [4 6]
		case 10:
			t = a.Transpose().Transpose()
		case 11:
			t = a.Reshape(6, 4).Reshape(4, 6)
		case 12:
			t = a.Softmax(-1)
		case 13:
			t = a.Sub(a.MaxKeep(0))
		case 14:
			t = a.Maximum(b).Add(a.Maximum(b)) // CSE
		default:
			t = randConst().Mul(randConst()).Add(a) // folds
		}
		pool = append(pool, t)
	}
	outs := []graph.Tensor{pool[len(pool)-1], pool[len(pool)-2].Sum(1)}
	return g, outs
}

func TestOptimisedMatchesUnoptimised(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	xs := tensor.MustZeros(tensor.F64, tensor.Shape{4, 6})
	shrunk := 0
	for trial := 0; trial < 300; trial++ {
		_, outs := randomGraph(rng)
		for i := range xs.Float64s() {
			xs.Float64s()[i] = rng.Float64()*2 - 1
		}
		plain, err := graph.Compile(outs, graph.Optimize(false))
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		opt, err := graph.Compile(outs)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if len(opt.IR().Values) < len(plain.IR().Values) {
			shrunk++
		}
		want, err := plain.Run(ctx, graph.Feeds{"x": xs})
		if err != nil {
			t.Fatal(err)
		}
		got, err := opt.Run(ctx, graph.Feeds{"x": xs})
		if err != nil {
			t.Fatal(err)
		}
		for k := range want {
			for i := 0; i < want[k].Len(); i++ {
				w, g := want[k].Flat(i), got[k].Flat(i)
				if math.Abs(w-g) > 1e-6*math.Max(1, math.Abs(w)) {
					var buf bytes.Buffer
					plain.IR().Print(&buf)
					t.Fatalf("trial %d output %d[%d]: optimised %v, plain %v\n%s", trial, k, i, g, w, buf.String())
				}
			}
		}
	}
	if shrunk < 200 {
		t.Errorf("passes shrank only %d of 300 random graphs", shrunk)
	}
}

func TestCompileDebugPrintsPasses(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 3)
	y := x.AddScalar(0).Neg().Neg().Mul(g.Full(tensor.F32, 1, 3))
	var log bytes.Buffer
	p, err := graph.Compile([]graph.Tensor{y}, graph.Debug(&log))
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps() != 0 {
		t.Errorf("%d kernel launches for an identity, want 0", p.Steps())
	}
	if !strings.Contains(log.String(), "== simplify") || !strings.Contains(log.String(), "neg(") {
		t.Errorf("debug output lacks the passes:\n%s", log.String())
	}
	out, err := p.Run(context.Background(), graph.Feeds{"x": tensor.NewF32([]float32{1, -2, 3}, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Flat(1) != -2 {
		t.Errorf("got %v", out[0])
	}
}

// TestTransposedWeights checks the Layout pass end to end: x·Wᵀ for a
// constant and for a parameter W, at decode (1 row) and prefill (16 rows)
// sizes, equals the product computed from the explicit transpose, with no
// transpose launched, and a parameter's new value is used on the next run.
func TestTransposedWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, rows := range []int{1, 16} {
		for _, kind := range []string{"const", "param"} {
			g := graph.New()
			w := tensor.MustZeros(tensor.F64, tensor.Shape{7, 5})
			for i := range w.Float64s() {
				w.Float64s()[i] = rng.Float64() - 0.5
			}
			var wt graph.Tensor
			if kind == "const" {
				wt = g.Const(w)
			} else {
				wt = g.Param("w", w)
			}
			x := g.Placeholder("x", tensor.F64, rows, 5)
			y := x.MatMul(wt.Transpose())
			p, err := graph.Compile([]graph.Tensor{y})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range p.IR().Values {
				if v.Op.String() == "permute" {
					t.Fatalf("%s %d rows: the weight is still transposed at run time", kind, rows)
				}
			}
			xs := tensor.MustZeros(tensor.F64, tensor.Shape{rows, 5})
			for i := range xs.Float64s() {
				xs.Float64s()[i] = rng.Float64() - 0.5
			}
			for run := 0; run < 2; run++ {
				out, err := p.Run(context.Background(), graph.Feeds{"x": xs})
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < rows; i++ {
					for j := 0; j < 7; j++ {
						var want float64
						for k := 0; k < 5; k++ {
							want += xs.At(i, k) * w.At(j, k)
						}
						if got := out[0].At(i, j); math.Abs(got-want) > 1e-12 {
							t.Fatalf("%s %d rows run %d: y[%d,%d] = %v, want %v", kind, rows, run, i, j, got, want)
						}
					}
				}
				if kind == "param" { // training changes the weight between runs
					v, _ := g.Var("w")
					for i := range v.Value().Float64s() {
						v.Value().Float64s()[i] *= -2
					}
					w = v.Value()
				}
			}
		}
	}
}

// TestFeedsAreNotWritten checks that a Program reading a fed array in
// place never writes to it, even where the planner reuses dying buffers.
func TestFeedsAreNotWritten(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 64)
	y := x.Neg().Exp().AddScalar(1).Reshape(8, 8).Sum(1)
	for _, fuse := range []bool{true, false} {
		p, err := graph.Compile([]graph.Tensor{y, x.Sqrt()}, graph.Fuse(fuse))
		if err != nil {
			t.Fatal(err)
		}
		in := tensor.MustZeros(tensor.F32, tensor.Shape{64})
		for i := range in.Float32s() {
			in.Float32s()[i] = float32(i)
		}
		keep := in.Clone()
		for run := 0; run < 2; run++ {
			if _, err := p.Run(context.Background(), graph.Feeds{"x": in}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range in.Float32s() {
			if in.Float32s()[i] != keep.Float32s()[i] {
				t.Fatalf("fuse=%v: fed element %d changed from %v to %v", fuse, i, keep.Float32s()[i], in.Float32s()[i])
			}
		}
	}
}
