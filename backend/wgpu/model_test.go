//go:build cgo

package wgpu_test

import (
	"context"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/model"
)

// TestModelLogits runs real GGUF models on the device, quantized weights
// in their blocks, and compares the logits of a prompt and of two decode
// steps with the CPU running the same blocks (both round the activations
// of the block-format matmuls to 8 bits alike; the CPU's Go kernels add in
// the device's order, its assembly kernels do not quite).
func TestModelLogits(t *testing.T) {
	d := device(t)
	genericQdot(t)
	for _, name := range []string{
		"models/stories260K.gguf",
		"models/quant/synth-llama-256-Q4_0.gguf",
		"models/quant/synth-llama-256-Q8_0.gguf",
		"models/quant/synth-llama-256-Q6_K.gguf",
	} {
		t.Run(name, func(t *testing.T) {
			f, err := gguf.Open(testdata.Path(t, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			logits := func(opts model.Options) [][]float32 {
				m, err := model.Load(f, opts)
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				var out [][]float32
				steps := [][]int32{{1, 5, 9, 2, 7}, {11}, {3}}
				pos := 0
				for _, toks := range steps {
					l, err := m.Forward(ctx, toks, pos)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, append([]float32(nil), l...))
					pos += len(toks)
				}
				return out
			}
			want := logits(model.Options{Context: 32})
			got := logits(model.Options{Context: 32, Device: d})
			for i := range want {
				g, w := make([]float64, len(want[i])), make([]float64, len(want[i]))
				for j := range w {
					g[j], w[j] = float64(got[i][j]), float64(want[i][j])
				}
				e := nmse(g, w)
				if !(e <= 1e-7) {
					t.Errorf("step %d: logits NMSE %.3g", i, e)
				}
				t.Logf("step %d: logits NMSE %.3g", i, e)
			}
		})
	}
}
