package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm"
	"github.com/aethertensor/aether/llm/gguf"
)

func TestParseCount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"300M", 300_000_000, true},
		{"1.5G", 1_500_000_000, true},
		{"800k", 800_000, true},
		{"12345", 12345, true},
		{"", 0, false},
		{"M", 0, false},
		{"-3M", 0, false},
		{"lotsM", 0, false},
	} {
		got, err := parseCount(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseCount(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestLayersFor(t *testing.T) {
	c := config{Dim: 1024, FFN: 2816, Heads: 16, KVHeads: 4}
	for _, target := range []int64{100e6, 300e6, 500e6} {
		c.Layers = layersFor(c, 32000, target)
		got := paramCount(c, 32000)
		// The nearest layer count is within half a layer of the target.
		if d := math.Abs(float64(got - target)); d > float64(layerParams(c))/2 {
			t.Errorf("target %d: %d layers give %d parameters", target, c.Layers, got)
		}
	}
	if l := layersFor(c, 32000, 1); l != 1 {
		t.Errorf("tiny target gives %d layers, want 1", l)
	}
}

// TestGenerate writes a tiny model in each benchmarked type and checks that
// it is deterministic, has the requested hyper-parameters and runs in Aether
// with finite logits.
func TestGenerate(t *testing.T) {
	vocab := testdata.Path(t, "models/stories260K.gguf")
	for _, typ := range []string{"Q4_0", "Q8_0", "Q4_K"} {
		t.Run(typ, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "m.gguf")
			args := []string{"-vocab", vocab, "-layers", "2", "-dim", "512", "-ffn", "768", "-heads", "8", "-kv-heads", "4", "-ctx", "64", "-type", typ, "-seed", "7", "-o", out}
			if err := run(args, io.Discard); err != nil {
				t.Fatal(err)
			}
			again := out + ".2"
			if err := run(append(args[:len(args)-1:len(args)-1], again), io.Discard); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(out)
			b, _ := os.ReadFile(again)
			if !bytes.Equal(a, b) {
				t.Fatal("two runs with the same seed differ")
			}

			f, err := gguf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			hp, err := f.HParams()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if hp.BlockCount != 2 || hp.EmbeddingLength != 512 || hp.FeedForwardLength != 768 || hp.HeadCount != 8 || hp.HeadCountKV != 4 || hp.VocabSize != 512 {
				t.Errorf("hparams %+v", hp)
			}

			r, err := llm.Load(out, llm.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			logits, err := r.Model().Forward(context.Background(), []int32{1, 20, 30}, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range logits {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("logit %d is %v", i, x)
				}
			}
		})
	}
}

func TestBadArgs(t *testing.T) {
	vocab := testdata.Path(t, "models/stories260K.gguf")
	out := filepath.Join(t.TempDir(), "m.gguf")
	for _, args := range [][]string{
		{},
		{"-o", out, "-vocab", vocab, "-type", "Q9_9"},
		{"-o", out, "-vocab", vocab, "-params", "x"},
		{"-o", out, "-vocab", vocab, "-layers", "1", "-dim", "100", "-heads", "4", "-kv-heads", "2", "-type", "Q4_0"},
		{"-o", out, "-vocab", vocab, "-layers", "1", "-dim", "256", "-heads", "3", "-kv-heads", "1"},
		{"-o", out, "-vocab", filepath.Join(t.TempDir(), "missing.gguf")},
	} {
		if err := run(args, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
