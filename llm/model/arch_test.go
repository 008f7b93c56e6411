package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/quant"
)

// synth is a tiny random model of one architecture, written as a GGUF
// file, with its weights kept for the float64 reference below.
type synth struct {
	arch                        string
	embd, heads, kv, hd, ff     int
	layers, vocab, window       int
	attnCap, finalCap           float64
	w                           map[string][]float64
	fusedQKV, fusedUp, biases   bool
	tied, postNorms, everyOther bool
	neox, geglu                 bool
}

func (s *synth) add(b *gguf.Builder, rng *rand.Rand, name string, std, mean float64, dims ...int) {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float64, n)
	raw := make([]byte, 4*n)
	for i := range v {
		v[i] = float64(float32(mean + std*rng.NormFloat64()))
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(v[i])))
	}
	s.w[name] = v
	ud := make([]uint64, len(dims))
	for i, d := range dims {
		ud[i] = uint64(d)
	}
	if err := b.AddTensor(name, quant.F32, ud, raw); err != nil {
		panic(err)
	}
}

func meta(b *gguf.Builder, key string, v any) {
	val, err := gguf.NewValue(v)
	if err != nil {
		panic(err)
	}
	if err := b.Meta.Set(key, val); err != nil {
		panic(err)
	}
}

// build writes s as a GGUF file and parses it.
func (s *synth) build(t *testing.T) *gguf.File {
	rng := rand.New(rand.NewPCG(1, 2))
	s.w = map[string][]float64{}
	b := gguf.NewBuilder()
	a := s.arch
	meta(b, "general.architecture", a)
	for k, v := range map[string]uint32{"context_length": 64, "embedding_length": uint32(s.embd), "block_count": uint32(s.layers),
		"feed_forward_length": uint32(s.ff), "attention.head_count": uint32(s.heads), "attention.head_count_kv": uint32(s.kv),
		"attention.key_length": uint32(s.hd), "attention.value_length": uint32(s.hd), "vocab_size": uint32(s.vocab)} {
		meta(b, a+"."+k, v)
	}
	meta(b, a+".attention.layer_norm_rms_epsilon", float32(1e-5))
	if s.window > 0 {
		meta(b, a+".attention.sliding_window", uint32(s.window))
	}
	if s.attnCap > 0 {
		meta(b, a+".attn_logit_softcapping", float32(s.attnCap))
		meta(b, a+".final_logit_softcapping", float32(s.finalCap))
	}
	e, q, kv := s.embd, s.heads*s.hd, s.kv*s.hd
	s.add(b, rng, "token_embd.weight", 1, 0, e, s.vocab)
	s.add(b, rng, "output_norm.weight", 0.1, 1, e)
	if !s.tied {
		s.add(b, rng, "output.weight", 0.3, 0, e, s.vocab)
	}
	for l := 0; l < s.layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		s.add(b, rng, p+"attn_norm.weight", 0.1, 1, e)
		if s.fusedQKV {
			s.add(b, rng, p+"attn_qkv.weight", 0.3, 0, e, q+2*kv)
		} else {
			s.add(b, rng, p+"attn_q.weight", 0.3, 0, e, q)
			s.add(b, rng, p+"attn_k.weight", 0.3, 0, e, kv)
			s.add(b, rng, p+"attn_v.weight", 0.3, 0, e, kv)
			if s.biases {
				s.add(b, rng, p+"attn_q.bias", 0.5, 0, q)
				s.add(b, rng, p+"attn_k.bias", 0.5, 0, kv)
				s.add(b, rng, p+"attn_v.bias", 0.5, 0, kv)
			}
		}
		s.add(b, rng, p+"attn_output.weight", 0.3, 0, q, e)
		s.add(b, rng, p+"ffn_norm.weight", 0.1, 1, e)
		if s.fusedUp {
			s.add(b, rng, p+"ffn_up.weight", 0.3, 0, e, 2*s.ff)
		} else {
			s.add(b, rng, p+"ffn_gate.weight", 0.3, 0, e, s.ff)
			s.add(b, rng, p+"ffn_up.weight", 0.3, 0, e, s.ff)
		}
		s.add(b, rng, p+"ffn_down.weight", 0.3, 0, s.ff, e)
		if s.postNorms {
			s.add(b, rng, p+"post_attention_norm.weight", 0.1, 1, e)
			s.add(b, rng, p+"post_ffw_norm.weight", 0.1, 1, e)
		}
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// matvec returns W·x for W stored [rows][cols] row-major.
func matvec(w, x []float64, rows int) []float64 {
	cols := len(x)
	y := make([]float64, rows)
	for r := range y {
		for c, v := range x {
			y[r] += w[r*cols+c] * v
		}
	}
	return y
}

func rmsnorm(x, w []float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	k := 1 / math.Sqrt(ss/float64(len(x))+float64(float32(1e-5)))
	y := make([]float64, len(x))
	for i := range x {
		y[i] = x[i] * k * w[i]
	}
	return y
}

func addTo(x, y []float64) {
	for i := range x {
		x[i] += y[i]
	}
}

// rope rotates each head of x in place at position pos.
func (s *synth) rope(x []float64, heads, pos int) {
	d := s.hd
	for h := 0; h < heads; h++ {
		v := x[h*d : (h+1)*d]
		for j := 0; j < d/2; j++ {
			th := float64(pos) * math.Pow(10000, -2*float64(j)/float64(d))
			a, b := 2*j, 2*j+1
			if s.neox {
				a, b = j, j+d/2
			}
			c, sn := math.Cos(th), math.Sin(th)
			v[a], v[b] = v[a]*c-v[b]*sn, v[a]*sn+v[b]*c
		}
	}
}

// reference is a float64 forward pass written from the architectures'
// definitions, independent of the graph code; it returns the logits after
// the last token.
func (s *synth) reference(tokens []int32) []float64 {
	e, q, kvd, n := s.embd, s.heads*s.hd, s.kv*s.hd, len(tokens)
	scale := 1.0
	if s.geglu {
		scale = math.Sqrt(float64(e))
	}
	x := make([][]float64, n)
	for i, tk := range tokens {
		x[i] = make([]float64, e)
		for j := range x[i] {
			x[i][j] = s.w["token_embd.weight"][int(tk)*e+j] * scale
		}
	}
	for l := 0; l < s.layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		Q, K, V := make([][]float64, n), make([][]float64, n), make([][]float64, n)
		for i := range x {
			h := rmsnorm(x[i], s.w[p+"attn_norm.weight"])
			if s.fusedQKV {
				all := matvec(s.w[p+"attn_qkv.weight"], h, q+2*kvd)
				Q[i], K[i], V[i] = all[:q], all[q:q+kvd], all[q+kvd:]
			} else {
				Q[i], K[i], V[i] = matvec(s.w[p+"attn_q.weight"], h, q), matvec(s.w[p+"attn_k.weight"], h, kvd), matvec(s.w[p+"attn_v.weight"], h, kvd)
				if s.biases {
					addTo(Q[i], s.w[p+"attn_q.bias"])
					addTo(K[i], s.w[p+"attn_k.bias"])
					addTo(V[i], s.w[p+"attn_v.bias"])
				}
			}
			s.rope(Q[i], s.heads, i)
			s.rope(K[i], s.kv, i)
		}
		sliding := s.window > 0 && (!s.everyOther || l%2 == 0)
		attn := make([][]float64, n)
		for i := range x {
			o := make([]float64, q)
			for h := 0; h < s.heads; h++ {
				g := h / (s.heads / s.kv)
				sc := make([]float64, i+1)
				mx := math.Inf(-1)
				for j := 0; j <= i; j++ {
					sc[j] = math.Inf(-1)
					if sliding && i-j >= s.window {
						continue
					}
					var d float64
					for c := 0; c < s.hd; c++ {
						d += Q[i][h*s.hd+c] * K[j][g*s.hd+c]
					}
					d /= math.Sqrt(float64(s.hd))
					if s.attnCap > 0 {
						d = s.attnCap * math.Tanh(d/s.attnCap)
					}
					sc[j] = d
					mx = math.Max(mx, d)
				}
				var sum float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range sc {
					for c := 0; c < s.hd; c++ {
						o[h*s.hd+c] += sc[j] / sum * V[j][g*s.hd+c]
					}
				}
			}
			attn[i] = matvec(s.w[p+"attn_output.weight"], o, e)
			if s.postNorms {
				attn[i] = rmsnorm(attn[i], s.w[p+"post_attention_norm.weight"])
			}
		}
		for i := range x {
			addTo(x[i], attn[i])
			h := rmsnorm(x[i], s.w[p+"ffn_norm.weight"])
			var gate, up []float64
			if s.fusedUp {
				gu := matvec(s.w[p+"ffn_up.weight"], h, 2*s.ff)
				gate, up = gu[:s.ff], gu[s.ff:]
			} else {
				gate, up = matvec(s.w[p+"ffn_gate.weight"], h, s.ff), matvec(s.w[p+"ffn_up.weight"], h, s.ff)
			}
			for j, v := range gate {
				if s.geglu {
					v = 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
				} else {
					v = v / (1 + math.Exp(-v))
				}
				gate[j] = v * up[j]
			}
			f := matvec(s.w[p+"ffn_down.weight"], gate, e)
			if s.postNorms {
				f = rmsnorm(f, s.w[p+"post_ffw_norm.weight"])
			}
			addTo(x[i], f)
		}
	}
	h := rmsnorm(x[n-1], s.w["output_norm.weight"])
	out := s.w["output.weight"]
	if s.tied {
		out = s.w["token_embd.weight"]
	}
	logits := matvec(out, h, s.vocab)
	if s.finalCap > 0 {
		for i := range logits {
			logits[i] = s.finalCap * math.Tanh(logits[i]/s.finalCap)
		}
	}
	return logits
}

// TestArchitectures checks every architecture against the float64
// reference on a tiny random model, through one prefill chunk and through
// token-by-token decoding (so masks, windows and cache reads agree).
func TestArchitectures(t *testing.T) {
	base := synth{embd: 64, heads: 4, kv: 2, hd: 16, ff: 96, layers: 2, vocab: 40}
	cases := map[string]func(s *synth){
		"llama":   func(s *synth) {},
		"mistral": func(s *synth) { s.window = 5 },
		"qwen2":   func(s *synth) { s.biases, s.neox, s.tied = true, true, true },
		"phi3":    func(s *synth) { s.fusedQKV, s.fusedUp, s.neox = true, true, true },
		"gemma":   func(s *synth) { s.neox, s.geglu, s.tied = true, true, true },
		"gemma2": func(s *synth) {
			s.neox, s.geglu, s.tied, s.postNorms, s.everyOther = true, true, true, true, true
			s.window, s.attnCap, s.finalCap = 4, 5, 3
		},
	}
	tokens := []int32{1, 7, 3, 22, 9, 15, 2, 39, 11, 5, 0, 18}
	for arch, set := range cases {
		t.Run(arch, func(t *testing.T) {
			s := base
			s.arch = arch
			set(&s)
			f := s.build(t)
			want := s.reference(tokens)
			for _, batch := range []int{16, 1} {
				m, err := Load(f, Options{Context: 32, Batch: batch})
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.Forward(context.Background(), tokens, 0)
				if err != nil {
					t.Fatal(err)
				}
				var d float64
				for i := range want {
					d = math.Max(d, math.Abs(float64(got[i])-want[i]))
				}
				if d > 1e-3 {
					t.Errorf("batch %d: logits differ from the float64 reference by %g", batch, d)
				}
			}
		})
	}
}
