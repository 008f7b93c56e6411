//go:build cgo

package wgpu_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/backend/wgpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/llm/quant"
	"github.com/aethertensor/aether/tensor"
)

// TestIndexFaults checks that an index outside its axis fails the run on
// WebGPU as it does on the CPU, and that the next run with good indices
// succeeds (the fault words are cleared).
func TestIndexFaults(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	q, _ := quantWeight(t, quant.Q8_0, 4, 32)
	cases := []struct {
		name  string
		bad   []int64 // indices into an axis of 4
		build func(g *graph.Graph, x, i graph.Tensor) graph.Tensor
	}{
		{"gather_high", []int64{0, 4, 1}, func(g *graph.Graph, x, i graph.Tensor) graph.Tensor { return x.Gather(0, i) }},
		{"gather_negative", []int64{-1, 0, 1}, func(g *graph.Graph, x, i graph.Tensor) graph.Tensor { return x.Gather(0, i) }},
		{"index_select", []int64{3, 2, 9}, func(g *graph.Graph, x, i graph.Tensor) graph.Tensor { return x.IndexSelect(1, i) }},
		// The gather feeds another kernel: the fault surfaces all the same.
		{"gather_then_exp", []int64{7, 7, 7}, func(g *graph.Graph, x, i graph.Tensor) graph.Tensor { return x.Gather(0, i).Exp().Sum() }},
		{"scatter_add", []int64{0, 1, 5}, func(g *graph.Graph, x, i graph.Tensor) graph.Tensor {
			return x.ScatterAdd(0, i, x.SliceAxis(0, 0, 3, 1))
		}},
		{"quant_gather", []int64{1, -3, 0}, func(g *graph.Graph, x, i graph.Tensor) graph.Tensor { return g.QuantConst(q).Gather(0, i) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(dev graph.Option, idx []int64) error {
				g := graph.New()
				x := g.Placeholder("x", tensor.F32, 4, 4)
				i := g.Placeholder("i", tensor.I64, 3)
				p, err := graph.Compile([]graph.Tensor{c.build(g, x, i)}, dev)
				if err != nil {
					t.Fatal(err)
				}
				_, err = p.Run(ctx, graph.Feeds{"x": tensor.MustZeros(tensor.F32, []int{4, 4}), "i": tensor.NewI64(idx, 3)})
				return err
			}
			if err := run(graph.OnDevice(cpu.New()), c.bad); err == nil {
				t.Fatal("the CPU accepted the indices: the case is wrong")
			}
			if err := run(graph.OnDevice(d), c.bad); !errors.Is(err, wgpu.ErrIndex) {
				t.Fatalf("webgpu: %v, want ErrIndex", err)
			}
			if err := run(graph.OnDevice(d), []int64{0, 3, 1}); err != nil {
				t.Fatalf("good indices after a fault: %v", err)
			}
		})
	}
}
