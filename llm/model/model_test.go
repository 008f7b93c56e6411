package model

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
)

var prompt = []int32{1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestChunking checks that one 70-token prompt run in chunks of 64, 16,
// 4 and 1 tokens (padded chunks, one decode per token, attended cache
// windows of 64 and 128 rows) leaves the same logits, so the cache
// positions, masks and windows agree across Programs.
func TestChunking(t *testing.T) {
	ctx := context.Background()
	var long []int32
	for len(long) < 70 {
		long = append(long, prompt...)
	}
	long = long[:70]
	var want []float32
	for _, batch := range []int{64, 16, 4, 1} {
		m := openModel(t, "models/stories260K.gguf", Options{Context: 200, Batch: batch})
		got, err := m.Forward(ctx, long, 0)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = append([]float32(nil), got...)
			continue
		}
		if d := maxDiff(got, want); d > 1e-4 {
			t.Errorf("batch %d: logits differ from one chunk by %g", batch, d)
		}
	}
}

// TestRestart checks that a second sequence written over the first, from
// position 0, sees none of the first's cache entries.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	m := openModel(t, "models/stories260K.gguf", Options{Context: 32})
	first, err := m.Forward(ctx, prompt[:3], 0)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), first...)
	if _, err := m.Forward(ctx, prompt, 0); err != nil {
		t.Fatal(err)
	}
	got, err := m.Forward(ctx, prompt[:3], 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(got, want); d > 1e-5 {
		t.Errorf("rerun differs by %g", d)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	m := openModel(t, "models/stories260K.gguf", Options{Context: 8})
	tests := []struct {
		name   string
		tokens []int32
		start  int
		want   error
	}{
		{"empty", nil, 0, ErrInput},
		{"too long", prompt, 0, ErrContext},
		{"past the end", prompt[:2], 7, ErrContext},
		{"negative start", prompt[:1], -1, ErrContext},
		{"bad id", []int32{1, 512}, 0, ErrInput},
		{"negative id", []int32{-3}, 0, ErrInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.Forward(ctx, tc.tokens, tc.start); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Forward(cctx, prompt[:2], 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}

func TestConfig(t *testing.T) {
	f, err := gguf.Open(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ConfigOf(f)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Arch: "llama", Vocab: 512, Embd: 64, Layers: 5, FF: 172, Heads: 8, KVHeads: 4,
		HeadDim: 8, ValueDim: 8, TrainCtx: 2048, NormEps: float64(float32(1e-5)), RopeDims: 8, RopeBase: 10000,
		RopeScale: 1, EmbedScale: 1, AttnScale: 1 / math.Sqrt(8)}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	// The v1 file holds the same weights: its logits must be identical.
	m1 := openModel(t, "models/stories260K.gguf", Options{Context: 16})
	m2 := openModel(t, "models/tinyllamas-stories-260k-f32.gguf", Options{Context: 16})
	a, err := m1.Forward(context.Background(), prompt[:5], 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m2.Forward(context.Background(), prompt[:5], 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(a, b); d != 0 {
		t.Errorf("v1 and v3 files differ by %g", d)
	}
}
