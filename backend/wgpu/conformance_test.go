//go:build cgo

package wgpu_test

import (
	"context"
	"math"
	"math/rand"
	"os"
	"sync"
	"testing"

	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/backend/wgpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

var (
	devOnce sync.Once
	dev     *wgpu.Device
	devErr  error
)

// device returns the shared test device. Without an adapter the test is
// skipped, except under CI=true, where WebGPU must run.
func device(t testing.TB) *wgpu.Device {
	t.Helper()
	devOnce.Do(func() { dev, devErr = wgpu.New() })
	if devErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true needs a WebGPU adapter: %v", devErr)
		}
		t.Skipf("no WebGPU adapter: %v", devErr)
	}
	return dev
}

// input is a placeholder with its random value.
type input struct {
	name  string
	dtype tensor.DType
	shape []int
	lo    float64 // values are uniform in [lo, lo+1) times 2 (floats)
	ints  int     // integers are uniform in [0, ints)
}

type conformanceCase struct {
	name   string
	inputs []input
	build  func(g *graph.Graph, x []graph.Tensor) []graph.Tensor
}

func f32(name string, shape ...int) input {
	return input{name: name, dtype: tensor.F32, shape: shape, lo: -1}
}

func pos(name string, shape ...int) input {
	return input{name: name, dtype: tensor.F32, shape: shape, lo: 0.1}
}

func idx(name string, d tensor.DType, n int, shape ...int) input {
	return input{name: name, dtype: d, shape: shape, ints: n}
}

func one(t graph.Tensor) []graph.Tensor { return []graph.Tensor{t} }

func unary(name string, f func(graph.Tensor) graph.Tensor) conformanceCase {
	return conformanceCase{name, []input{f32("x", 3, 1, 517)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor { return one(f(x[0])) }}
}

func binaryCase(name string, f func(a, b graph.Tensor) graph.Tensor) conformanceCase {
	return conformanceCase{name, []input{f32("a", 5, 1, 37), f32("b", 1, 7, 37)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor { return one(f(x[0], x[1])) }}
}

func conformanceCases() []conformanceCase {
	cs := []conformanceCase{
		unary("neg", graph.Tensor.Neg), unary("abs", graph.Tensor.Abs), unary("sign", graph.Tensor.Sign),
		unary("exp", graph.Tensor.Exp), unary("sin", graph.Tensor.Sin), unary("cos", graph.Tensor.Cos),
		unary("tanh", graph.Tensor.Tanh), unary("sigmoid", graph.Tensor.Sigmoid), unary("relu", graph.Tensor.Relu),
		unary("erf", graph.Tensor.Erf), unary("square", graph.Tensor.Square), unary("silu", graph.Tensor.SiLU),
		unary("gelu", graph.Tensor.GELU), unary("gelu_tanh", graph.Tensor.GELUTanh),
		unary("scale", func(t graph.Tensor) graph.Tensor { return t.Scale(-2.5) }),
		unary("add_scalar", func(t graph.Tensor) graph.Tensor { return t.AddScalar(3) }),
		unary("cast_i32", func(t graph.Tensor) graph.Tensor { return t.Scale(10).Cast(tensor.I32).Cast(tensor.F32) }),
		{"log_sqrt_rsqrt_recip_pow", []input{pos("x", 2, 300)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].Log(), x[0].Sqrt(), x[0].Rsqrt(), x[0].Recip(), x[0].PowScalar(1.5)}
		}},
		binaryCase("add", graph.Tensor.Add), binaryCase("sub", graph.Tensor.Sub), binaryCase("mul", graph.Tensor.Mul),
		binaryCase("div", graph.Tensor.Div), binaryCase("maximum", graph.Tensor.Maximum), binaryCase("minimum", graph.Tensor.Minimum),
		binaryCase("compare", func(a, b graph.Tensor) graph.Tensor {
			return graph.Concat(0, a.Lt(b).Cast(tensor.F32), a.Le(b).Cast(tensor.F32), a.Gt(b).Cast(tensor.F32), a.Ge(b).Cast(tensor.F32), a.Eq(a.Add(b.Scale(0))).Cast(tensor.F32), a.Ne(b).Cast(tensor.F32))
		}),
		binaryCase("bool_out", func(a, b graph.Tensor) graph.Tensor { return a.Gt(b) }),
		binaryCase("where", func(a, b graph.Tensor) graph.Tensor { return graph.Where(a.Gt(b), a, b.Scale(2)) }),
		{"pow", []input{pos("a", 3, 70), f32("b", 3, 70)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor { return one(x[0].Pow(x[1])) }},
		{"reductions", []input{f32("x", 3, 1, 5, 67)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].Sum(3), x[0].SumKeep(0, 2), x[0].SumAll(), x[0].Mean(1, 3), x[0].Max(2), x[0].MaxKeep(0, 3), x[0].Min(), x[0].MinKeep(2, 3)}
		}},
		{"big_sum", []input{f32("x", 70001)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor { return one(x[0].Sum()) }},
		{"argmax", []input{f32("x", 4, 33, 6)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].ArgMax(1, false), x[0].ArgMax(2, true), x[0].ArgMax(0, false)}
		}},
		{"softmax", []input{f32("x", 3, 300, 2)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].Softmax(1), x[0].LogSoftmax(2), x[0].Softmax(0)}
		}},
		{"matmul", []input{f32("a", 65, 33), f32("b", 33, 70)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor { return one(x[0].MatMul(x[1])) }},
		{"matmul_batched", []input{f32("a", 3, 2, 17, 9), f32("b", 2, 9, 1)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor { return one(x[0].MatMul(x[1])) }},
		{"matmul_vec", []input{f32("a", 130), f32("b", 130, 3)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor { return one(x[0].MatMul(x[1])) }},
		{"matmul_transposed", []input{f32("a", 5, 40), f32("b", 31, 40)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return one(x[0].MatMul(x[1].Transpose()))
		}},
		{"matmul_const_weight", []input{f32("a", 6, 40)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			w := g.Const(randArray(rand.New(rand.NewSource(9)), 23, 40))
			return one(x[0].MatMul(w.Transpose()))
		}},
		{"movement", []input{f32("x", 2, 3, 1, 5)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			t := x[0]
			return []graph.Tensor{t.Reshape(6, 5).Neg(), t.Flatten(), t.Unsqueeze(1).Exp(), t.Squeeze(2), t.Permute(3, 1, 0, 2),
				t.Transpose(), t.Expand(4, 2, 3, 7, 5)}
		}},
		{"slice", []input{f32("x", 7, 9, 4)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			t := x[0]
			return []graph.Tensor{t.Slice(graph.Range{Start: 1, Stop: 6, Step: 2}, graph.Range{Start: 8, Stop: 0, Step: -3}),
				t.SliceAxis(2, 1, 3, 1), t.Slice(graph.All, graph.Span(2, 1, 3)).Unslice(tensor.Shape{7, 9, 4}, []int{0, 2, 0}, []int{1, 1, 1})}
		}},
		{"pad_concat_stack", []input{f32("a", 3, 5), f32("b", 3, 2)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].Pad(1.5, [2]int{1, 0}, [2]int{2, 3}), graph.Concat(1, x[0], x[1], x[0]), graph.Stack(0, x[1], x[1].Neg())}
		}},
		{"gather", []input{f32("x", 4, 11, 3), idx("i", tensor.I64, 11, 7)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].Gather(1, x[1]), x[0].IndexSelect(1, x[1])}
		}},
		{"gather_i32", []input{f32("x", 13, 6), idx("i", tensor.I32, 13, 5)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return one(x[0].Gather(0, x[1]))
		}},
		{"scatter_add", []input{f32("x", 4, 6, 3), idx("i", tensor.I64, 6, 9), f32("s", 4, 9, 3)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return one(x[0].ScatterAdd(1, x[1], x[2]))
		}},
		{"norms", []input{f32("x", 3, 77), f32("w", 77), f32("b", 77)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].LayerNorm(x[1], x[2], 1e-5), x[0].RMSNorm(x[1], 1e-6), x[0].RMSNorm(graph.Tensor{}, 1e-6)}
		}},
		{"rope", []input{f32("x", 1, 5, 3, 8), idx("p", tensor.I64, 50, 5)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].RoPE(x[1], graph.RoPE{}), x[0].RoPE(x[1], graph.RoPE{NeoX: true, Dims: 4})}
		}},
		{"attention", []input{f32("q", 1, 4, 5, 8), f32("k", 1, 2, 7, 8), f32("v", 1, 2, 7, 8)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{graph.ScaledDotProductAttention(x[0], x[1], x[2], graph.Attention{Causal: true}),
				graph.ScaledDotProductAttention(x[0], x[1], x[2], graph.Attention{Scale: 0.3})}
		}},
		{"cross_entropy", []input{f32("l", 9, 5), idx("t", tensor.I64, 5, 9)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return one(graph.CrossEntropy(x[0], x[1]))
		}},
		{"conv_pool", []input{f32("x", 2, 3, 9, 8), f32("w", 4, 3, 3, 2), f32("b", 4)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			cfg := graph.Conv{Stride: [2]int{2, 1}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 2}}
			return []graph.Tensor{x[0].Conv2D(x[1], x[2], cfg), x[0].MaxPool2D(2, 3, graph.Conv{}), x[0].AvgPool2D(3, 2, graph.Conv{Stride: [2]int{2, 2}, Padding: [2]int{1, 0}})}
		}},
		{"fold", []input{f32("x", 2, 3, 9, 8)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			w := graph.Conv{Stride: [2]int{2, 1}, Padding: [2]int{1, 2}, Dilation: [2]int{2, 1}}
			u := x[0].Unfold(opWindow(w, 3, 2), 0.5)
			return []graph.Tensor{u, u.Fold(opWindow(w, 3, 2), 9, 8)}
		}},
		{"dynamic_slices", []input{f32("x", 3, 10, 2), idx("s", tensor.I64, 12, 1)}, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			s := x[1].Reshape()
			a := x[0].SliceAt(1, s, 4)
			u := x[0].SliceAxis(1, 0, 7, 1).UpdateAt(1, s, a.SliceAxis(1, 0, 3, 1).Neg())
			return []graph.Tensor{a, a.UnsliceAt(tensor.Shape{3, 10, 2}, 1, s), x[0].UpdateAt(1, s, a.Scale(2)), u}
		}},
	}
	return cs
}

func randArray(rng *rand.Rand, shape ...int) *tensor.Array {
	a := tensor.MustZeros(tensor.F32, shape)
	d := a.Float32s()
	for i := range d {
		d[i] = float32(rng.Float64()*2 - 1)
	}
	return a
}

func feedsFor(rng *rand.Rand, ins []input) graph.Feeds {
	f := graph.Feeds{}
	for _, in := range ins {
		a := tensor.MustZeros(in.dtype, in.shape)
		for i := range a.Len() {
			switch in.dtype {
			case tensor.F32:
				a.Float32s()[i] = float32(in.lo + rng.Float64()*2)
			case tensor.I32:
				a.Int32s()[i] = int32(rng.Intn(in.ints))
			case tensor.I64:
				a.Int64s()[i] = int64(rng.Intn(in.ints))
			}
		}
		f[in.name] = a
	}
	return f
}

// nmse is Σ(got−want)² / Σ want², or the plain squared error when want
// is all zeros.
func nmse(got, want []float64) float64 {
	var num, den float64
	for i := range want {
		d := got[i] - want[i]
		num += d * d
		den += want[i] * want[i]
	}
	if den == 0 {
		return num
	}
	return num / den
}

func TestConformance(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	for _, c := range conformanceCases() {
		for _, fuse := range []bool{true, false} {
			name := c.name
			if !fuse {
				name += "/unfused"
			}
			t.Run(name, func(t *testing.T) {
				rng := rand.New(rand.NewSource(int64(len(c.name))))
				feeds := feedsFor(rng, c.inputs)
				run := func(opt graph.Option) []*tensor.Array {
					g := graph.New()
					var xs []graph.Tensor
					for _, in := range c.inputs {
						xs = append(xs, g.Placeholder(in.name, in.dtype, in.shape...))
					}
					p, err := graph.Compile(c.build(g, xs), opt, graph.Fuse(fuse))
					if err != nil {
						t.Fatal(err)
					}
					out, err := p.Run(ctx, feeds)
					if err != nil {
						t.Fatal(err)
					}
					for i := range out {
						out[i] = out[i].Clone()
					}
					return out
				}
				want := run(graph.OnDevice(cpu.New()))
				got := run(graph.OnDevice(d))
				for i := range want {
					if !got[i].Shape().Equal(want[i].Shape()) || got[i].DType() != want[i].DType() {
						t.Fatalf("output %d: %v%v, want %v%v", i, got[i].DType(), got[i].Shape(), want[i].DType(), want[i].Shape())
					}
					g, w := got[i].ToFloat64(), want[i].ToFloat64()
					if want[i].DType() != tensor.F32 {
						for j := range w {
							if g[j] != w[j] {
								t.Fatalf("output %d (%v) element %d: %v, want %v", i, want[i].DType(), j, g[j], w[j])
							}
						}
						continue
					}
					if e := nmse(g, w); !(e <= 1e-7) || math.IsNaN(e) {
						t.Errorf("output %d: NMSE %.3g > 1e-7", i, e)
					}
				}
			})
		}
	}
}

func opWindow(c graph.Conv, kh, kw int) op.Window {
	return op.Window{Kernel: [2]int{kh, kw}, Stride: c.Stride, Padding: c.Padding, Dilation: c.Dilation}
}
