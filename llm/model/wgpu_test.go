package model

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/aethertensor/aether/backend/wgpu"
)

// TestParityWebGPU runs stories260K on the WebGPU backend (lavapipe in
// CI) and checks the same llama.cpp ids and probabilities as on the CPU.
func TestParityWebGPU(t *testing.T) {
	if testing.Short() {
		t.Skip("compiling WebGPU pipelines is slow")
	}
	dev, err := wgpu.New()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no WebGPU adapter in CI: %v", err)
		}
		t.Skipf("no WebGPU adapter: %v", err)
	}
	defer dev.Close()
	ref := readReference(t, "stories260K")
	m := openModel(t, "models/stories260K.gguf", Options{Context: 64, Device: dev})
	ctx := context.Background()
	logits, err := m.Forward(ctx, ref.PromptIDs, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := softmax(logits)
	for _, e := range ref.Top10 {
		if d := math.Abs(p[int(e[0])] - e[1]); d > 1e-3 {
			t.Errorf("p(%v) = %.6f, llama.cpp %.6f", e[0], p[int(e[0])], e[1])
		}
	}
	var got []int32
	for pos := len(ref.PromptIDs); len(got) < len(ref.IDs); pos++ {
		id := argmax(logits)
		got = append(got, id)
		if logits, err = m.Forward(ctx, []int32{id}, pos); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, ref.IDs) {
		t.Errorf("ids %v\nllama.cpp %v", got, ref.IDs)
	}
}
