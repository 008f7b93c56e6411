package model

import (
	"fmt"
	"math"

	"github.com/aethertensor/aether/llm/gguf"
)

// FFN selects the gated feed-forward activation.
type FFN int

// Feed-forward activations.
const (
	SwiGLU FFN = iota // silu(gate)·up (llama, mistral, qwen2, phi3)
	GeGLU             // gelu_tanh(gate)·up (gemma, gemma2)
)

// Config is a model's shape and the per-architecture choices its forward
// pass makes. Load fills it from GGUF metadata.
type Config struct {
	Arch       string
	Vocab      int // number of tokens
	Embd       int // residual width
	Layers     int
	FF         int // feed-forward hidden width
	Heads      int // query heads
	KVHeads    int // key/value heads (grouped-query attention when < Heads)
	HeadDim    int // key and query size per head
	ValueDim   int // value size per head
	TrainCtx   int // context length the model was trained with
	NormEps    float64
	RopeDims   int     // leading features per head that rotate
	RopeBase   float64 // frequency base
	RopeScale  float64 // position multiplier (1/factor for linear scaling)
	NeoX       bool    // rotate feature i with i+dims/2 instead of 2i with 2i+1
	FFN        FFN
	EmbedScale float64 // embeddings are multiplied by this (1 except gemma: √Embd)
	AttnScale  float64 // attention logits scale
	// AttnSoftcap and FinalSoftcap, when non-zero, squash attention and
	// output logits with c·tanh(x/c) (gemma2).
	AttnSoftcap, FinalSoftcap float64
	// SlidingWindow, when non-zero, limits attention to that many most
	// recent positions, on every layer or (SlidingEveryOther, gemma2) on
	// even layers only.
	SlidingWindow     int
	SlidingEveryOther bool
	PostNorms         bool // gemma2: norms after attention and feed-forward
}

// ConfigOf reads the configuration of a GGUF file's model.
func ConfigOf(f *gguf.File) (Config, error) {
	h, err := f.HParams()
	if err != nil {
		return Config{}, fmt.Errorf("model: %w", err)
	}
	c := Config{
		Arch: h.Arch, Vocab: h.VocabSize, Embd: h.EmbeddingLength, Layers: h.BlockCount,
		FF: h.FeedForwardLength, Heads: h.HeadCount, KVHeads: h.HeadCountKV,
		HeadDim: h.KeyLength, ValueDim: h.ValueLength, TrainCtx: h.ContextLength,
		NormEps: h.RMSNormEpsilon, RopeDims: h.RopeDimensionCount, RopeBase: h.RopeFreqBase,
		RopeScale: 1, EmbedScale: 1,
		AttnSoftcap: h.AttnLogitSoftcap, FinalSoftcap: h.FinalLogitSoftcap,
		SlidingWindow: h.SlidingWindow,
	}
	switch h.RopeScalingType {
	case "", "none":
	case "linear":
		if h.RopeScalingFactor > 0 {
			c.RopeScale = 1 / h.RopeScalingFactor
		}
	default:
		return Config{}, fmt.Errorf("%w: rope scaling %q is not implemented", ErrArch, h.RopeScalingType)
	}
	switch h.Arch {
	case "llama", "mistral":
	case "qwen2":
		c.NeoX = true
	case "phi3":
		c.NeoX = true
		if f.Meta.Has("phi3.rope.scaling.attn_factor") {
			return Config{}, fmt.Errorf("%w: phi3 LongRoPE scaling is not implemented", ErrArch)
		}
	case "gemma", "gemma2":
		c.NeoX, c.FFN, c.EmbedScale = true, GeGLU, math.Sqrt(float64(c.Embd))
		if h.Arch == "gemma2" {
			c.PostNorms, c.SlidingEveryOther = true, true
		}
	default:
		return Config{}, fmt.Errorf("%w: %q", ErrArch, h.Arch)
	}
	if _, ok := f.Tensor("rope_freqs.weight"); ok {
		return Config{}, fmt.Errorf("%w: per-frequency rope factors (rope_freqs.weight, LLaMA 3.1 scaling) are not implemented", ErrArch)
	}
	c.AttnScale = 1 / math.Sqrt(float64(c.HeadDim))
	if h.Arch == "gemma2" && c.Embd/c.Heads != c.HeadDim && c.Layers == 46 {
		// gemma2 27B scales queries by 1/√(n_embd/n_head), as llama.cpp does.
		c.AttnScale = 1 / math.Sqrt(float64(c.Embd/c.Heads))
	}
	return c, c.check()
}

func (c Config) check() error {
	switch {
	case c.Vocab <= 0, c.Embd <= 0, c.Layers <= 0, c.FF <= 0, c.Heads <= 0, c.KVHeads <= 0,
		c.HeadDim <= 0, c.ValueDim <= 0, c.Heads%c.KVHeads != 0:
		return fmt.Errorf("%w: %s with vocab %d, embd %d, layers %d, ff %d, heads %d/%d, head dims %d/%d",
			ErrArch, c.Arch, c.Vocab, c.Embd, c.Layers, c.FF, c.Heads, c.KVHeads, c.HeadDim, c.ValueDim)
	case c.RopeDims <= 0 || c.RopeDims > c.HeadDim || c.RopeDims%2 != 0:
		return fmt.Errorf("%w: rope dimension %d for head size %d", ErrArch, c.RopeDims, c.HeadDim)
	case c.NormEps <= 0:
		return fmt.Errorf("%w: %s needs an RMS norm epsilon", ErrArch, c.Arch)
	}
	return nil
}
