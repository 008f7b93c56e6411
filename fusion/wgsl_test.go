package fusion_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aethertensor/aether/fusion"
	"github.com/aethertensor/aether/graph"
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
