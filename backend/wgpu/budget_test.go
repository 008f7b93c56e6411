//go:build cgo

package wgpu_test

import (
	"context"
	"math/rand"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/backend/wgpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// deepChain is ten layers tanh(x·Wᵢ + x) over 64×64 values: about 340 KB
// of weights and activations.
func deepChain(t *testing.T, dev backend.Device) []float64 {
	rng := rand.New(rand.NewSource(5))
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 64, 64)
	h := x
	for range 10 {
		h = h.MatMul(g.Const(randArray(rng, 64, 64))).Scale(0.125).Add(h).Tanh()
	}
	p, err := graph.Compile([]graph.Tensor{h}, graph.OnDevice(dev))
	if err != nil {
		t.Fatal(err)
	}
	feeds := graph.Feeds{"x": randArray(rng, 64, 64)}
	var out []float64
	for range 2 {
		res, err := p.Run(context.Background(), feeds)
		if err != nil {
			t.Fatal(err)
		}
		out = res[0].ToFloat64()
	}
	return out
}

// TestBudgetEviction runs a working set five times the device budget:
// buffers are evicted and restored, and the results still match the CPU.
func TestBudgetEviction(t *testing.T) {
	device(t) // skip or fail as for every WebGPU test
	const budget = 64 << 10
	d, err := wgpu.New(wgpu.Budget(budget))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want, got := deepChain(t, cpu.New()), deepChain(t, d)
	if e := nmse(got, want); !(e <= 1e-7) {
		t.Fatalf("NMSE %.3g under a %d-byte budget", e, budget)
	}
	s := d.Registry().Stats()
	if s.Evictions == 0 || s.PeakBytes > budget || s.Prefetches == 0 {
		t.Fatalf("stats %+v: want evictions, prefetches and a peak within %d bytes", s, budget)
	}
	t.Logf("%+v", s)
}
