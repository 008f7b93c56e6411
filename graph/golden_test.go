package graph_test

// Forward tests of the neural-network operations against float64 outputs
// computed by PyTorch (scripts/goldens.py writes testdata/goldens.json; the
// tests read only the JSON file).

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

type goldenTensor struct {
	Shape []int     `json:"shape"`
	DType string    `json:"dtype"`
	Data  []float64 `json:"data"`
}

func (g goldenTensor) nd() nd { return nd{shape: g.Shape, data: g.Data} }

type goldenCase struct {
	Name  string `json:"name"`
	Op    string `json:"op"`
	Attrs struct {
		Axis     int     `json:"axis"`
		Eps      float64 `json:"eps"`
		Affine   string  `json:"affine"`
		Dims     int     `json:"dims"`
		Base     float64 `json:"base"`
		Scale    float64 `json:"scale"`
		NeoX     bool    `json:"neox"`
		Causal   bool    `json:"causal"`
		Bias     bool    `json:"bias"`
		Kernel   [2]int  `json:"kernel"`
		Stride   [2]int  `json:"stride"`
		Padding  [2]int  `json:"padding"`
		Dilation [2]int  `json:"dilation"`
	} `json:"attrs"`
	Inputs []goldenTensor `json:"inputs"`
	Want   goldenTensor   `json:"want"`
}

func loadGoldens(t *testing.T) []goldenCase {
	t.Helper()
	b, err := os.ReadFile("testdata/goldens.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no golden cases")
	}
	return doc.Cases
}

// build records the operation of c over its inputs, floats in dtype d.
func (c *goldenCase) build(g *graph.Graph, d tensor.DType) (graph.Tensor, error) {
	ins := make([]graph.Tensor, len(c.Inputs))
	for i, x := range c.Inputs {
		dt := d
		switch x.DType {
		case "i64":
			dt = tensor.I64
		case "i32":
			dt = tensor.I32
		}
		ins[i] = in(g, x.nd(), dt)
	}
	a := c.Attrs
	opt := func(i int) graph.Tensor {
		if i < len(ins) {
			return ins[i]
		}
		return graph.Tensor{}
	}
	conv := graph.Conv{Stride: a.Stride, Padding: a.Padding, Dilation: a.Dilation}
	switch c.Op {
	case "gelu":
		return ins[0].GELU(), nil
	case "gelu_tanh":
		return ins[0].GELUTanh(), nil
	case "silu":
		return ins[0].SiLU(), nil
	case "sigmoid":
		return ins[0].Sigmoid(), nil
	case "erf":
		return ins[0].Erf(), nil
	case "softmax":
		return ins[0].Softmax(a.Axis), nil
	case "log_softmax":
		return ins[0].LogSoftmax(a.Axis), nil
	case "layer_norm":
		return ins[0].LayerNorm(opt(1), opt(2), a.Eps), nil
	case "rms_norm":
		return ins[0].RMSNorm(opt(1), a.Eps), nil
	case "rope":
		return ins[0].RoPE(ins[1], graph.RoPE{Dims: a.Dims, Base: a.Base, Scale: a.Scale, NeoX: a.NeoX}), nil
	case "attention":
		return graph.ScaledDotProductAttention(ins[0], ins[1], ins[2], graph.Attention{Causal: a.Causal, Scale: a.Scale}), nil
	case "cross_entropy":
		return graph.CrossEntropy(ins[0], ins[1]), nil
	case "conv2d":
		return ins[0].Conv2D(ins[1], opt(2), conv), nil
	case "max_pool2d":
		return ins[0].MaxPool2D(a.Kernel[0], a.Kernel[1], conv), nil
	case "avg_pool2d":
		return ins[0].AvgPool2D(a.Kernel[0], a.Kernel[1], conv), nil
	}
	return graph.Tensor{}, fmt.Errorf("unknown golden op %q", c.Op)
}

func TestGoldens(t *testing.T) {
	cases := loadGoldens(t)
	seen := map[string]bool{}
	for i := range cases {
		c := &cases[i]
		seen[c.Op] = true
		for _, d := range floatTypes {
			t.Run(c.Name+"/"+d.String(), func(t *testing.T) {
				var err error
				got := eval(t, func(g *graph.Graph) graph.Tensor {
					var y graph.Tensor
					y, err = c.build(g, d)
					return y
				})
				if err != nil {
					t.Fatal(err)
				}
				if got.DType() != d {
					t.Fatalf("dtype %v, want %v", got.DType(), d)
				}
				tl := tolFor(d)
				if d == tensor.F32 {
					// Normalisations divide by a standard deviation that can
					// be small; allow a few more float32 roundings.
					tl = tol{2e-5, 2e-5}
				}
				checkClose(t, got, c.Want.nd(), tl)
			})
		}
	}
	// Every NN operation must keep a golden.
	for _, op := range []string{"gelu", "gelu_tanh", "silu", "softmax", "log_softmax", "layer_norm", "rms_norm", "rope", "attention", "cross_entropy", "conv2d", "max_pool2d", "avg_pool2d"} {
		if !seen[op] {
			t.Errorf("no golden case for %s", op)
		}
	}
}

// TestGoldenInputsFloat32Exact guards the premise of running every golden
// in F32 with the F64 reference: the inputs must be float32 values.
func TestGoldenInputsFloat32Exact(t *testing.T) {
	for _, c := range loadGoldens(t) {
		for i, x := range c.Inputs {
			for j, v := range x.Data {
				if float64(float32(v)) != v {
					t.Fatalf("%s input %d element %d = %v is not a float32", c.Name, i, j, v)
				}
			}
		}
	}
}

// TestCrossEntropyOutOfRange checks the documented rule that a target
// outside [0, classes) contributes zero but still counts in the mean.
func TestCrossEntropyOutOfRange(t *testing.T) {
	logits := randND(3, -2, 2, 4, 5)
	targets := literal([]int{4}, 2, -1, 5, 0)
	for _, d := range floatTypes {
		got := eval(t, func(g *graph.Graph) graph.Tensor {
			return graph.CrossEntropy(in(g, logits, d), in(g, targets, tensor.I32))
		})
		ls := softmaxRef(logits, -1, true)
		want := -(ls.at(0, 2) + ls.at(3, 0)) / 4
		checkClose(t, got, literal(nil, want), tolFor(d))
	}
}

// TestAttentionSingleKey checks causal attention with one query and one
// key against the direct formula: softmax of one score is 1, so the output
// is v itself for every query head.
func TestAttentionSingleKey(t *testing.T) {
	q := randND(1, -1, 1, 2, 1, 4)
	k := randND(2, -1, 1, 1, 1, 4)
	v := randND(3, -1, 1, 1, 1, 4)
	for _, d := range floatTypes {
		got := eval(t, func(g *graph.Graph) graph.Tensor {
			return graph.ScaledDotProductAttention(in(g, q, d), in(g, k, d), in(g, v, d), graph.Attention{Causal: true})
		})
		want := zerosND(2, 1, 4)
		for h := 0; h < 2; h++ {
			for j := 0; j < 4; j++ {
				want.set(v.at(0, 0, j), h, 0, j)
			}
		}
		checkClose(t, got, want, tolFor(d))
	}
}
