// Command synthllm writes a llama-architecture GGUF model with random weights,
// for benchmarking Aether beside llama.cpp on a model of realistic size:
//
//	go run ./bench/synthllm -params 300M -type Q4_0 -o /tmp/synth-300M-Q4_0.gguf
//
// The weights are quantised with the project's own quantisers (llm/quant) and
// written with its own GGUF writer (llm/gguf). The tokenizer (tokens, scores,
// token types, special ids) is copied from a real model file (-vocab, by
// default the 32000-token LLaMA-2 SentencePiece vocabulary of
// llama-2-tiny-random.gguf in the shared test data), so llama.cpp and Aether
// both load and tokenise the file. The text it generates is gibberish by
// design; only its speed matters.
//
// The shape defaults to dim 1024, ffn 2816, 16 heads, 4 KV heads; -params
// picks the number of layers that brings the parameter count nearest the
// target (-layers sets it directly). Every 2-D weight, the token embedding and
// the output matrix included, gets -type ("pure", as llama-quantize --pure
// writes); norms stay F32. Output is deterministic for a given -seed and
// shape, whatever the number of CPUs.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/quant"
)

// config is the shape and encoding of the generated model.
type config struct {
	Dim, Layers, FFN, Heads, KVHeads, Ctx int
	Type                                  quant.Type
	Seed                                  uint64
}

// fileTypes maps the accepted -type names to the tensor type and the
// llama_ftype recorded in general.file_type.
var fileTypes = map[string]struct {
	typ   quant.Type
	ftype uint32
}{
	"F32":  {quant.F32, 0},
	"F16":  {quant.F16, 1},
	"Q4_0": {quant.Q4_0, 2},
	"Q8_0": {quant.Q8_0, 7},
	"Q4_K": {quant.Q4_K, 14},
	"Q6_K": {quant.Q6_K, 18},
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "synthllm:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("synthllm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	params := fs.String("params", "300M", "target parameter count (K, M or G suffix); sets the layer count unless -layers is given")
	layers := fs.Int("layers", 0, "number of blocks (0: from -params)")
	dim := fs.Int("dim", 1024, "embedding width")
	ffn := fs.Int("ffn", 2816, "feed-forward width")
	heads := fs.Int("heads", 16, "attention heads")
	kvHeads := fs.Int("kv-heads", 4, "key/value heads")
	ctx := fs.Int("ctx", 2048, "context length recorded in the file")
	typ := fs.String("type", "Q4_0", "weight type: Q4_0, Q8_0, Q4_K, Q6_K, F16 or F32")
	seed := fs.Uint64("seed", 1, "random seed")
	vocab := fs.String("vocab", "", "GGUF file to copy the tokenizer from (default: llama-2-tiny-random.gguf in the shared test data)")
	out := fs.String("o", "", "output file (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return errors.New("usage: synthllm -o FILE [-params 300M] [-type Q4_0]")
	}
	ft, ok := fileTypes[strings.ToUpper(*typ)]
	if !ok {
		return fmt.Errorf("unknown -type %q", *typ)
	}
	if *vocab == "" {
		d := testdata.Dir()
		if d == "" {
			return errors.New("no shared test data found: pass -vocab FILE.gguf")
		}
		*vocab = filepath.Join(d, "models", "llama-2-tiny-random.gguf")
	}
	src, err := gguf.Open(*vocab)
	if err != nil {
		return err
	}
	defer src.Close()
	cfg := config{Dim: *dim, Layers: *layers, FFN: *ffn, Heads: *heads, KVHeads: *kvHeads, Ctx: *ctx, Type: ft.typ, Seed: *seed}
	nVocab, err := vocabSize(src)
	if err != nil {
		return err
	}
	if cfg.Layers == 0 {
		target, err := parseCount(*params)
		if err != nil {
			return err
		}
		cfg.Layers = layersFor(cfg, nVocab, target)
	}
	b, err := build(cfg, ft.ftype, src)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	n, err := b.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "synthllm: %s: %d layers, dim %d, ffn %d, heads %d/%d, vocab %d, %.1fM parameters, %s, %.1f MiB\n",
		*out, cfg.Layers, cfg.Dim, cfg.FFN, cfg.Heads, cfg.KVHeads, nVocab, float64(paramCount(cfg, nVocab))/1e6, cfg.Type, float64(n)/(1<<20))
	return nil
}

// parseCount parses "300M", "1.5G", "800K" or a plain number.
func parseCount(s string) (int64, error) {
	mul := 1.0
	switch {
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		mul = 1e3
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mul = 1e6
	case strings.HasSuffix(s, "G"), strings.HasSuffix(s, "g"), strings.HasSuffix(s, "B"), strings.HasSuffix(s, "b"):
		mul = 1e9
	}
	if mul != 1 {
		s = s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("bad -params %q", s)
	}
	return int64(v * mul), nil
}

func vocabSize(src *gguf.File) (int, error) {
	toks, err := src.Meta.GetStrings("tokenizer.ggml.tokens")
	if err != nil {
		return 0, fmt.Errorf("vocabulary source: %w", err)
	}
	return len(toks), nil
}

// layerParams and paramCount count weights the way llama.cpp's model loader
// reports them (norms included).
func layerParams(c config) int64 {
	d, kv, f := int64(c.Dim), int64(c.Dim/c.Heads*c.KVHeads), int64(c.FFN)
	return 2*d*d + 2*d*kv + 3*d*f + 2*d
}

func paramCount(c config, vocab int) int64 {
	return int64(c.Layers)*layerParams(c) + 2*int64(vocab)*int64(c.Dim) + int64(c.Dim)
}

// layersFor returns the layer count (at least 1) whose parameter count is
// nearest target.
func layersFor(c config, vocab int, target int64) int {
	fixed := 2*int64(vocab)*int64(c.Dim) + int64(c.Dim)
	l := int(math.Round(float64(target-fixed) / float64(layerParams(c))))
	return max(l, 1)
}

// tensorSpec is one tensor to generate: ne0 (row length) first, as GGUF
// stores dimensions; std is the spread of its values, norm marks an F32
// norm weight (values near 1).
type tensorSpec struct {
	name string
	dims []uint64
	std  float64
	norm bool
}

func specs(c config, vocab int) []tensorSpec {
	d, kv, f := uint64(c.Dim), uint64(c.Dim/c.Heads*c.KVHeads), uint64(c.FFN)
	// Projections get std 1/sqrt(fan_in) (unit-variance outputs for
	// unit-variance inputs); the two that write into the residual stream
	// are scaled down by sqrt(2·layers) so that it grows slowly with depth
	// and activations stay finite in f16 as well as f32.
	proj := func(fanIn uint64) float64 { return 1 / math.Sqrt(float64(fanIn)) }
	resid := 1 / math.Sqrt(2*float64(c.Layers))
	s := []tensorSpec{{name: "token_embd.weight", dims: []uint64{d, uint64(vocab)}, std: 1}}
	for l := range c.Layers {
		p := fmt.Sprintf("blk.%d.", l)
		s = append(s,
			tensorSpec{name: p + "attn_norm.weight", dims: []uint64{d}, norm: true},
			tensorSpec{name: p + "attn_q.weight", dims: []uint64{d, d}, std: proj(d)},
			tensorSpec{name: p + "attn_k.weight", dims: []uint64{d, kv}, std: proj(d)},
			tensorSpec{name: p + "attn_v.weight", dims: []uint64{d, kv}, std: proj(d)},
			tensorSpec{name: p + "attn_output.weight", dims: []uint64{d, d}, std: proj(d) * resid},
			tensorSpec{name: p + "ffn_norm.weight", dims: []uint64{d}, norm: true},
			tensorSpec{name: p + "ffn_gate.weight", dims: []uint64{d, f}, std: proj(d)},
			tensorSpec{name: p + "ffn_up.weight", dims: []uint64{d, f}, std: proj(d)},
			tensorSpec{name: p + "ffn_down.weight", dims: []uint64{f, d}, std: proj(f) * resid},
		)
	}
	return append(s,
		tensorSpec{name: "output_norm.weight", dims: []uint64{d}, norm: true},
		tensorSpec{name: "output.weight", dims: []uint64{d, uint64(vocab)}, std: proj(d)},
	)
}

func (c config) check(vocab int) error {
	switch {
	case c.Dim < 1 || c.Layers < 1 || c.FFN < 1 || c.Heads < 1 || c.KVHeads < 1 || c.Ctx < 1 || vocab < 1:
		return fmt.Errorf("dimensions must be positive: %+v, vocab %d", c, vocab)
	case c.Dim%c.Heads != 0 || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("dim %d, heads %d and kv-heads %d do not divide", c.Dim, c.Heads, c.KVHeads)
	case (c.Dim/c.Heads)%2 != 0:
		return fmt.Errorf("head size %d must be even for RoPE", c.Dim/c.Heads)
	}
	lay, err := quant.LayoutOf(c.Type)
	if err != nil {
		return err
	}
	kv := c.Dim / c.Heads * c.KVHeads
	for _, n := range []int{c.Dim, c.FFN, kv} {
		if n%lay.BlockSize != 0 {
			return fmt.Errorf("width %d is not a multiple of %s's block of %d", n, c.Type, lay.BlockSize)
		}
	}
	return nil
}

// build returns a Builder holding the whole model: llama hyper-parameters,
// the tokenizer keys of src, and the generated tensors.
func build(c config, ftype uint32, src *gguf.File) (*gguf.Builder, error) {
	vocab, err := vocabSize(src)
	if err != nil {
		return nil, err
	}
	if err := c.check(vocab); err != nil {
		return nil, err
	}
	b := gguf.NewBuilder()
	kvs := []struct {
		k string
		v any
	}{
		{gguf.KeyArchitecture, "llama"},
		{"general.name", fmt.Sprintf("synthllm-%dL-%d", c.Layers, c.Dim)},
		{"general.description", "random weights written by aether bench/synthllm, for speed measurements only"},
		{"general.file_type", ftype},
		{"llama.vocab_size", uint32(vocab)},
		{"llama.context_length", uint32(c.Ctx)},
		{"llama.embedding_length", uint32(c.Dim)},
		{"llama.block_count", uint32(c.Layers)},
		{"llama.feed_forward_length", uint32(c.FFN)},
		{"llama.rope.dimension_count", uint32(c.Dim / c.Heads)},
		{"llama.rope.freq_base", float32(10000)},
		{"llama.attention.head_count", uint32(c.Heads)},
		{"llama.attention.head_count_kv", uint32(c.KVHeads)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
	}
	for _, kv := range kvs {
		v, err := gguf.NewValue(kv.v)
		if err != nil {
			return nil, err
		}
		if err := b.Meta.Set(kv.k, v); err != nil {
			return nil, err
		}
	}
	for _, k := range src.Meta.Keys() {
		if strings.HasPrefix(k, "tokenizer.") {
			v, _ := src.Meta.Lookup(k)
			if err := b.Meta.Set(k, v); err != nil {
				return nil, err
			}
		}
	}
	for i, s := range specs(c, vocab) {
		typ := c.Type
		if len(s.dims) == 1 {
			typ = quant.F32
		}
		data, err := generate(s, typ, c.Seed, uint64(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		if err := b.AddTensor(s.name, typ, s.dims, data); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// chunkRows is the number of rows drawn from one random stream: fixed, so
// the values do not depend on how many goroutines share the work.
const chunkRows = 16

// generate draws s's values and encodes them as typ. Values are uniform with
// standard deviation s.std (norm weights: uniform in [0.9, 1.1]); each chunk
// of rows has its own PCG stream keyed by (seed, tensor, chunk), and chunks
// are quantised in parallel.
func generate(s tensorSpec, typ quant.Type, seed, tensor uint64) ([]byte, error) {
	cols := s.dims[0]
	rows := uint64(1)
	for _, d := range s.dims[1:] {
		rows *= d
	}
	rowBytes, err := quant.RowBytes(typ, cols)
	if err != nil {
		return nil, err
	}
	out := make([]byte, rows*rowBytes)
	nChunks := (rows + chunkRows - 1) / chunkRows
	var (
		next    = make(chan uint64)
		wg      sync.WaitGroup
		mu      sync.Mutex
		lastErr error
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			vals := make([]float32, chunkRows*cols)
			for ch := range next {
				r0, r1 := ch*chunkRows, min((ch+1)*chunkRows, rows)
				v := vals[:(r1-r0)*cols]
				rng := rand.New(rand.NewPCG(seed, tensor<<32|ch))
				half := math.Sqrt(3) * s.std // uniform on [-half, half] has std s.std
				for i := range v {
					u := 2*rng.Float64() - 1
					if s.norm {
						v[i] = float32(1 + 0.1*u)
					} else {
						v[i] = float32(half * u)
					}
				}
				if err := quant.Quantize(typ, out[r0*rowBytes:r1*rowBytes], v); err != nil {
					mu.Lock()
					lastErr = err
					mu.Unlock()
				}
			}
		})
	}
	for ch := range nChunks {
		next <- ch
	}
	close(next)
	wg.Wait()
	return out, lastErr
}
