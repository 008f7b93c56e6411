package fusion_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aethertensor/aether/fusion"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

var update = flag.Bool("update", false, "rewrite the WGSL golden files")

// wgslCases are representative fused kernels; their shaders are compared
// with testdata/<name>.wgsl. The WebGPU backend's tests compile each on a
// real adapter.
func wgslCases() map[string]func(g *graph.Graph) graph.Tensor {
	return map[string]func(g *graph.Graph) graph.Tensor{
		// Bias add with a broadcast row, then exact GELU (uses erf).
		"bias_gelu": func(g *graph.Graph) graph.Tensor {
			x := g.Placeholder("x", tensor.F32, 32, 64)
			b := g.Placeholder("b", tensor.F32, 64)
			return x.Add(b).GELU()
		},
		// A transposed operand and a strided slice fused into one load each.
		"transpose_slice": func(g *graph.Graph) graph.Tensor {
			x := g.Placeholder("x", tensor.F32, 16, 24)
			y := g.Placeholder("y", tensor.F32, 24, 32)
			return x.Mul(y.Slice(graph.All, graph.Range{Start: 0, Stop: 32, Step: 2}).Transpose()).Tanh()
		},
		// A comparison feeding a select, with a bool input and output.
		"where_mask": func(g *graph.Graph) graph.Tensor {
			x := g.Placeholder("x", tensor.F32, 100)
			m := g.Placeholder("m", tensor.Bool, 100)
			return graph.Where(m, x.Exp(), x.Neg()).Gt(g.Scalar(tensor.F32, 0.5))
		},
		// Integer arithmetic and casts both ways.
		"int_cast": func(g *graph.Graph) graph.Tensor {
			x := g.Placeholder("x", tensor.I32, 7, 3)
			return x.Mul(x).Cast(tensor.F32).Sqrt().Cast(tensor.I32)
		},
		// The SiLU·up product of a SwiGLU feed-forward layer.
		"swiglu": func(g *graph.Graph) graph.Tensor {
			gate := g.Placeholder("gate", tensor.F32, 4, 172)
			up := g.Placeholder("up", tensor.F32, 4, 172)
			return gate.SiLU().Mul(up)
		},
	}
}

func TestWGSLGolden(t *testing.T) {
	for name, build := range wgslCases() {
		t.Run(name, func(t *testing.T) {
			g := graph.New()
			p, err := graph.Compile([]graph.Tensor{build(g)})
			if err != nil {
				t.Fatal(err)
			}
			if p.Fusion().Kernels() != 1 {
				t.Fatalf("%d fused kernels, want 1", p.Fusion().Kernels())
			}
			src, err := fusion.WGSL(p.Fusion().Groups[0].Fused)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".wgsl")
			if *update {
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./fusion -run WGSL -update)", err)
			}
			if src != string(want) {
				t.Errorf("generated WGSL differs from %s:\n%s", path, src)
			}
			for _, must := range []string{"@compute @workgroup_size(256)", "var<storage, read_write> out"} {
				if !strings.Contains(src, must) {
					t.Errorf("shader lacks %q", must)
				}
			}
		})
	}
}

// wgslReduceCases are representative fused reductions, compared with
// testdata/<name>.wgsl like wgslCases.
func wgslReduceCases() map[string]func(g *graph.Graph) graph.Tensor {
	return map[string]func(g *graph.Graph) graph.Tensor{
		// A sum over the last axis of a broadcast product's exponential.
		"reduce_sum_exp": func(g *graph.Graph) graph.Tensor {
			x := g.Placeholder("x", tensor.F32, 6, 300)
			s := g.Placeholder("s", tensor.F32, 6, 1)
			return x.Mul(s).Exp().Sum(1)
		},
		// A max, where a NaN must win, over a short row (a small group).
		"reduce_max_abs": func(g *graph.Graph) graph.Tensor {
			x := g.Placeholder("x", tensor.F32, 40, 20)
			return x.Abs().Max(1)
		},
		// RMS norm: the mean of squares with the scaling as an epilogue.
		"reduce_rms_norm": func(g *graph.Graph) graph.Tensor {
			x := g.Placeholder("x", tensor.F32, 4, 512)
			w := g.Placeholder("w", tensor.F32, 512)
			return x.RMSNorm(w, 1e-6)
		},
	}
}

func TestWGSLReduceGolden(t *testing.T) {
	for name, build := range wgslReduceCases() {
		t.Run(name, func(t *testing.T) {
			g := graph.New()
			p, err := graph.Compile([]graph.Tensor{build(g)})
			if err != nil {
				t.Fatal(err)
			}
			var red *kernel.Reduce
			for _, gr := range p.Fusion().Groups {
				if gr.Reduce != nil {
					red = gr.Reduce
				}
			}
			if red == nil {
				t.Fatal("no fused reduction")
			}
			src, err := fusion.WGSLReduce(red)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".wgsl")
			if *update {
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./fusion -run WGSL -update)", err)
			}
			if src != string(want) {
				t.Errorf("generated WGSL differs from %s:\n%s", path, src)
			}
			for _, must := range []string{"var<workgroup> part", "workgroupBarrier()", "var<storage, read_write> out"} {
				if !strings.Contains(src, must) {
					t.Errorf("shader lacks %q", must)
				}
			}
		})
	}
}

func TestWGSLReduceRejects(t *testing.T) {
	body := &kernel.Elementwise{Shape: tensor.Shape{2, 3}, Inputs: []kernel.Input{{DType: tensor.Bool, Len: 6}},
		Nodes: []kernel.Node{{Kind: kernel.Load, DType: tensor.Bool, Strides: []int{3, 1}}}}
	cases := []struct {
		name string
		r    *kernel.Reduce
	}{
		{"no body", &kernel.Reduce{Op: op.ReduceSum, Rows: 2, N: 3}},
		{"bool", &kernel.Reduce{Op: op.ReduceSum, Rows: 2, N: 3, Body: body}},
		{"rows mismatch", &kernel.Reduce{Op: op.ReduceSum, Rows: 3, N: 3, Body: body}},
		{"not a reduction", &kernel.Reduce{Op: op.Add, Rows: 2, N: 3, Body: body}},
	}
	for _, c := range cases {
		if _, err := fusion.WGSLReduce(c.r); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestWGSLRejectsF64(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 8)
	p, err := graph.Compile([]graph.Tensor{x.Exp().Neg()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fusion.WGSL(p.Fusion().Groups[0].Fused); err == nil || !strings.Contains(err.Error(), "f64") {
		t.Fatalf("err = %v, want one naming f64", err)
	}
}
