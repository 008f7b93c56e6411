package optim_test

import (
	"context"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/optim"
	"github.com/aethertensor/aether/tensor"
)

// benchStep measures one run of a Program holding only the update of a
// [512, 512] F32 parameter from a constant gradient.
func benchStep(b *testing.B, opt optim.Optimizer) {
	const n = 512
	g := graph.New()
	p := g.Param("p", tensor.MustZeros(tensor.F32, tensor.Shape{n, n}))
	gr := g.Full(tensor.F32, 1e-3, n, n)
	updates, err := opt.Step([]graph.Tensor{p}, []graph.Tensor{gr})
	if err != nil {
		b.Fatal(err)
	}
	prog, err := graph.Compile(updates)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(n * n * 4)
	b.ResetTimer()
	for b.Loop() {
		if _, err := prog.Run(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSGDMomentumStep(b *testing.B) {
	benchStep(b, optim.NewSGD(optim.SGDConfig{LR: 0.1, Momentum: 0.9}))
}

func BenchmarkAdamStep(b *testing.B) {
	benchStep(b, optim.NewAdam(optim.AdamConfig{LR: 1e-3}))
}
