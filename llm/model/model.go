package model

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"sync"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/tensor"
)

// DefaultMaxContext caps the context length taken from metadata when
// Options.Context is 0, so that a model trained on 128k tokens does not
// allocate a cache for all of them by default.
const DefaultMaxContext = 4096

// DefaultBatch is the default largest prompt chunk one Program processes.
const DefaultBatch = 64

// Options configure Load.
type Options struct {
	// Context is the number of positions the cache holds; 0 means the
	// model's training context, capped at DefaultMaxContext.
	Context int
	// Batch is the largest number of prompt tokens one run processes
	// (rounded up to a power of two); 0 means DefaultBatch.
	Batch int
	// Device runs the Programs; nil means the CPU. Weights are expanded
	// to f32 for a device that cannot hold quantised blocks.
	Device backend.Device
	// Dense expands every weight to f32 at load instead of keeping
	// quantised blocks in place (slower, more memory; for checking).
	Dense bool
	// HalfKV rounds keys, values, queries and attention weights to half
	// precision, as llama.cpp's default f16 cache does (its attention
	// multiplies f16 operands). The cache is still stored as f32 unless KV
	// says otherwise.
	HalfKV bool
	// KV is the key/value cache's storage type: tensor.F32 (the default,
	// also for the zero value), tensor.F16 or tensor.BF16. A half type
	// halves the cache's bytes: keys and values are rounded to it once,
	// when appended, and widened to f32 when attended (the chunk being
	// processed attends to its own rows as rounded too, as later steps
	// will see them). The CPU and WebGPU store half types; a device
	// without half storage (backend.HalfStorage) keeps an f32 cache.
	KV tensor.DType
	// LlamaCppArith reproduces llama.cpp's CPU arithmetic where Aether's
	// default differs, for bit-level parity checks. Attention becomes an
	// emulation of ggml's flash attention over its default f16 cache:
	// queries, keys and values are rounded to f16, keys are visited one at
	// a time with an online softmax, and the weighted sum of values is
	// kept in f16 after every step; scores are the f16 dot products rounded
	// once to f32 (ggml_vec_dot_f16 for heads under 64 elements). RoPE
	// takes ggml's angles and fuses one product of each rotated pair. Both
	// single roundings are built from error-free f32 transformations, so
	// they run on any device. On a device that computes float64
	// (backend.Caps.Float64) RMSNorm also sums the squares in float64,
	// SwiGLU follows ggml's AVX-512 exp and the softmax takes a correctly
	// rounded expf, as ggml does; elsewhere those three use the device's
	// own f32 operations (on the test files a difference of at most 3e-5
	// in probabilities). Attention costs a graph step per cache row (the
	// Programs grow with the context), so this is meant for short
	// contexts.
	LlamaCppArith bool
}

// Model is a loaded model with its key/value cache. Its methods are safe
// for concurrent use but serialised: the cache holds one sequence.
type Model struct {
	cfg    Config
	ctxLen int // positions the cache may hold
	batch  int // largest chunk
	slack  int // cache rows past ctxLen, so a padded chunk never wraps
	dev    backend.Device
	bytes  int64
	halfKV bool
	flash  bool         // Options.LlamaCppArith
	f64    bool         // the device computes float64 (LlamaCppArith's exact steps)
	rope   *ropeTables  // nil: the graph's RoPE (partial rotary dims without LlamaCppArith)
	kv     tensor.DType // cache storage: F32, F16 or BF16

	g      *graph.Graph
	tokEmb graph.Tensor // [vocab, embd]
	out    graph.Tensor // [vocab, embd]
	norm   graph.Tensor // [embd]
	layers []layer

	mu     sync.Mutex
	progs  map[[2]int]*program // by chunk size and attended cache length
	logits []float32
}

// layer holds one transformer block's weights and its cache.
type layer struct {
	attnNorm, ffnNorm      graph.Tensor // [embd]
	attnPost, ffnPost      graph.Tensor // [embd] (gemma2)
	wq, wk, wv, wqkv, wo   graph.Tensor // [heads·headDim, embd] ... ; wqkv fused (phi3)
	bq, bk, bv             graph.Tensor // optional biases (qwen2)
	gate, up, gateUp, down graph.Tensor // gateUp fused [2·ff, embd] (phi3)
	kCache, vCache         graph.Tensor // [kvHeads, cache, headDim] Variables of dtype kv
	sliding                bool
}

// program is one compiled chunk size with its reusable feeds.
type program struct {
	p      *graph.Program
	tokens *tensor.Array // i32 [n]
	pos    *tensor.Array // i64 scalar: position of the first token
	last   *tensor.Array // i64 scalar: row whose logits are returned
	feeds  graph.Feeds
}

// Load records the model of f as a graph. Quantised weights keep pointing
// into f's data, so f must stay open while the Model is used.
func Load(f *gguf.File, opts Options) (*Model, error) {
	cfg, err := ConfigOf(f)
	if err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, dev: opts.Device, halfKV: opts.HalfKV, flash: opts.LlamaCppArith, progs: map[[2]int]*program{}, g: graph.New()}
	m.f64 = opts.Device == nil
	if c, ok := opts.Device.(backend.Capable); ok {
		m.f64 = c.Caps().Float64
	}
	if m.kv, err = kvType(opts.KV, opts.Device); err != nil {
		return nil, err
	}
	m.ctxLen = opts.Context
	if m.ctxLen <= 0 {
		m.ctxLen = min(cfg.TrainCtx, DefaultMaxContext)
		if m.ctxLen <= 0 {
			m.ctxLen = DefaultMaxContext
		}
	}
	m.batch = opts.Batch
	if m.batch <= 0 {
		m.batch = DefaultBatch
	}
	m.batch = 1 << bits.Len(uint(m.batch-1)) // a power of two
	m.slack = m.batch
	// A device that cannot hold quantised blocks gets dequantised weights.
	_, quantOK := opts.Device.(backend.QuantBinder)
	dense := opts.Dense || (opts.Device != nil && !quantOK)
	if err := m.loadWeights(f, dense, opts.Device); err != nil {
		return nil, err
	}
	if err := m.g.Err(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	rope := graph.RoPE{Dims: cfg.RopeDims, Base: cfg.RopeBase, Scale: cfg.RopeScale, NeoX: cfg.NeoX}
	if m.flash {
		m.rope, _ = newGGMLRopeTables(m.g, m.ctxLen+m.slack, cfg.HeadDim, rope)
	} else {
		m.rope, _ = newRopeTables(m.g, m.ctxLen+m.slack, cfg.HeadDim, rope)
	}
	m.logits = make([]float32, cfg.Vocab)
	return m, nil
}

func (m *Model) loadWeights(f *gguf.File, dense bool, dev backend.Device) error {
	c := m.cfg
	l := &loader{f: f, g: m.g, dense: dense}
	l.kinds, _ = dev.(backend.QuantKernels)
	var err error
	// The embedding table is gathered by rows; quantised rows are expanded
	// one by one as they are read.
	if m.tokEmb, err = l.matrix("token_embd.weight", c.Vocab, c.Embd); err != nil {
		return err
	}
	if m.norm, err = l.vector("output_norm.weight", c.Embd); err != nil {
		return err
	}
	m.out = m.tokEmb // tied output embeddings
	if l.has("output.weight") {
		if m.out, err = l.matrix("output.weight", c.Vocab, c.Embd); err != nil {
			return err
		}
	}
	qDim, kvDim, vDim := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.KVHeads*c.ValueDim
	cache := m.ctxLen + m.slack
	m.layers = make([]layer, c.Layers)
	for i := range m.layers {
		ly := &m.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		var errs [16]error
		ly.attnNorm, errs[0] = l.vector(p+"attn_norm.weight", c.Embd)
		if l.has(p + "attn_qkv.weight") {
			ly.wqkv, errs[1] = l.matrix(p+"attn_qkv.weight", qDim+kvDim+vDim, c.Embd)
		} else {
			ly.wq, errs[1] = l.matrix(p+"attn_q.weight", qDim, c.Embd)
			ly.wk, errs[2] = l.matrix(p+"attn_k.weight", kvDim, c.Embd)
			ly.wv, errs[3] = l.matrix(p+"attn_v.weight", vDim, c.Embd)
			ly.bq, errs[4] = l.optVector(p+"attn_q.bias", qDim)
			ly.bk, errs[5] = l.optVector(p+"attn_k.bias", kvDim)
			ly.bv, errs[6] = l.optVector(p+"attn_v.bias", vDim)
		}
		ly.wo, errs[7] = l.matrix(p+"attn_output.weight", c.Embd, c.Heads*c.ValueDim)
		ly.ffnNorm, errs[8] = l.vector(p+"ffn_norm.weight", c.Embd)
		if l.has(p + "ffn_gate.weight") {
			ly.gate, errs[9] = l.matrix(p+"ffn_gate.weight", c.FF, c.Embd)
			ly.up, errs[10] = l.matrix(p+"ffn_up.weight", c.FF, c.Embd)
		} else {
			ly.gateUp, errs[9] = l.matrix(p+"ffn_up.weight", 2*c.FF, c.Embd)
		}
		ly.down, errs[11] = l.matrix(p+"ffn_down.weight", c.Embd, c.FF)
		if c.PostNorms {
			ly.attnPost, errs[12] = l.vector(p+"post_attention_norm.weight", c.Embd)
			ly.ffnPost, errs[13] = l.vector(p+"post_ffw_norm.weight", c.Embd)
		}
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		ly.sliding = c.SlidingWindow > 0 && (!c.SlidingEveryOther || i%2 == 0)
		ly.kCache = m.g.Variable(p+"k_cache", tensor.MustZeros(m.kv, tensor.Shape{c.KVHeads, cache, c.HeadDim}))
		ly.vCache = m.g.Variable(p+"v_cache", tensor.MustZeros(m.kv, tensor.Shape{c.KVHeads, cache, c.ValueDim}))
	}
	m.bytes = l.bytes
	return nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Context returns the number of positions the cache holds.
func (m *Model) Context() int { return m.ctxLen }

// WeightBytes returns the bytes of the file's weight tensors the model
// uses (read per token by a decode step).
func (m *Model) WeightBytes() int64 { return m.bytes }

// Forward runs tokens at positions start, start+1, ... through the model,
// storing their keys and values in the cache, and returns the logits
// after the last token. Cache entries at and after start are replaced;
// those before it must hold the same sequence's earlier tokens. The
// returned slice is owned by the Model and overwritten by the next call.
func (m *Model) Forward(ctx context.Context, tokens []int32, start int) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%w: no tokens", ErrInput)
	}
	if start < 0 || start+len(tokens) > m.ctxLen {
		return nil, fmt.Errorf("%w: %d tokens at position %d do not fit a context of %d", ErrContext, len(tokens), start, m.ctxLen)
	}
	for i, id := range tokens {
		if id < 0 || int(id) >= m.cfg.Vocab {
			return nil, fmt.Errorf("%w: token %d (at %d) is outside the vocabulary of %d", ErrInput, id, i, m.cfg.Vocab)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(tokens) > 0 {
		n := min(len(tokens), m.batch)
		size := 1 << bits.Len(uint(n-1)) // chunks are padded to a power of two
		pr, err := m.program(size, m.window(start+size))
		if err != nil {
			return nil, err
		}
		tk := pr.tokens.Int32s()
		copy(tk, tokens[:n])
		clear(tk[n:]) // padding rows write cache entries past the sequence, which later runs overwrite
		pr.pos.Int64s()[0] = int64(start)
		if pr.last != nil {
			pr.last.Int64s()[0] = int64(n - 1)
		}
		out, err := pr.p.Run(ctx, pr.feeds)
		if err != nil {
			return nil, fmt.Errorf("model: forward: %w", err)
		}
		if len(tokens) == n {
			copy(m.logits, out[0].Float32s())
		}
		tokens, start = tokens[n:], start+n
	}
	return m.logits, nil
}

// minWindow is the shortest cache prefix a Program attends to.
const minWindow = 64

// window returns the cache prefix length a chunk ending before position
// end attends to: a power of two (at least minWindow) or the whole cache.
// Attention reads only that prefix, so short sequences cost less than the
// full context; each length is its own Program.
func (m *Model) window(end int) int {
	w := max(minWindow, 1<<bits.Len(uint(end-1)))
	return min(w, m.ctxLen+m.slack)
}

// Compile compiles the Programs for chunks of the given sizes (rounded
// up to powers of two) attending to the whole cache, which Forward
// otherwise compiles on first use.
func (m *Model) Compile(sizes ...int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range sizes {
		if n < 1 || n > m.batch {
			return fmt.Errorf("%w: chunk size %d outside [1, %d]", ErrInput, n, m.batch)
		}
		if _, err := m.program(1<<bits.Len(uint(n-1)), m.ctxLen+m.slack); err != nil {
			return err
		}
	}
	return nil
}

// program returns the compiled Program for chunks of size tokens that
// attend to the first window cache rows, building and compiling it on
// first use.
func (m *Model) program(size, window int) (*program, error) {
	if p, ok := m.progs[[2]int{size, window}]; ok {
		return p, nil
	}
	g := m.g
	suffix := fmt.Sprintf(".%d.%d", size, window)
	tokens := g.Placeholder("tokens"+suffix, tensor.I32, size)
	pos := g.Placeholder("pos"+suffix, tensor.I64)
	var last graph.Tensor
	if size > 1 {
		last = g.Placeholder("last"+suffix, tensor.I64)
	}
	outs := m.forward(tokens, pos, last, size, window)
	if err := g.Err(); err != nil {
		return nil, fmt.Errorf("model: build: %w", err)
	}
	var copts []graph.Option
	if m.dev != nil {
		copts = append(copts, graph.OnDevice(m.dev))
	}
	p, err := graph.Compile(outs, copts...)
	if err != nil {
		return nil, fmt.Errorf("model: compile: %w", err)
	}
	pr := &program{p: p, tokens: tensor.MustZeros(tensor.I32, tensor.Shape{size}),
		pos: tensor.MustZeros(tensor.I64, tensor.Shape{})}
	pr.feeds = graph.Feeds{"tokens" + suffix: pr.tokens, "pos" + suffix: pr.pos}
	if size > 1 {
		pr.last = tensor.MustZeros(tensor.I64, tensor.Shape{})
		pr.feeds["last"+suffix] = pr.last
	}
	m.progs[[2]int{size, window}] = pr
	return pr, nil
}

// arange returns the i64 constant [0, 1, ..., n-1] shaped dims.
func arange(g *graph.Graph, n int, dims ...int) graph.Tensor {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(i)
	}
	return g.Const(tensor.NewI64(v, dims...))
}

// forward records the model over a chunk of n tokens at run-time position
// pos, attending to the first cache rows of the cache, and returns the
// logits of row last (or the only row); computing them writes the
// chunk's keys and values into the cache.
func (m *Model) forward(tokens, pos, last graph.Tensor, n, cache int) []graph.Tensor {
	g, c := m.g, m.cfg
	qpos := arange(g, n, n).Add(pos) // [n] absolute positions of the chunk
	rope := graph.RoPE{Dims: c.RopeDims, Base: c.RopeBase, Scale: c.RopeScale, NeoX: c.NeoX}

	// Key j is visible to query i when j <= pos+i (and, in a sliding
	// window of w, when pos+i-j < w). Masks add 0 or -inf to the scores.
	kpos := arange(g, cache, 1, cache) // [1, cache]
	qcol := qpos.Reshape(n, 1)         // [n, 1]
	zero, ninf := g.Scalar(tensor.F32, 0), g.Scalar(tensor.F32, math.Inf(-1))
	causal := kpos.Le(qcol)
	mask := graph.Where(causal, zero, ninf) // [n, cache]
	var swMask graph.Tensor
	if c.SlidingWindow > 0 {
		inWin := qcol.Sub(kpos).Lt(g.Scalar(tensor.I64, float64(c.SlidingWindow)))
		swMask = graph.Where(causal, graph.Where(inWin, zero, ninf), ninf)
	}
	var ropeCos, ropeSin graph.Tensor
	if m.rope != nil {
		ropeCos, ropeSin = m.rope.at(qpos)
	}

	x := m.tokEmb.Gather(0, tokens) // [n, embd]
	if c.EmbedScale != 1 {
		x = x.Scale(c.EmbedScale)
	}
	for i := range m.layers {
		ly := &m.layers[i]
		h := m.normOf(x, ly.attnNorm)
		var q, k, v graph.Tensor
		if ly.wqkv.Valid() {
			qkv := linear(h, ly.wqkv, graph.Tensor{})
			qd, kd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
			q = qkv.SliceAxis(-1, 0, qd, 1)
			k = qkv.SliceAxis(-1, qd, qd+kd, 1)
			v = qkv.SliceAxis(-1, qd+kd, qd+kd+c.KVHeads*c.ValueDim, 1)
		} else {
			q = linear(h, ly.wq, ly.bq)
			k = linear(h, ly.wk, ly.bk)
			v = linear(h, ly.wv, ly.bv)
		}
		q, k = q.Reshape(n, c.Heads, c.HeadDim), k.Reshape(n, c.KVHeads, c.HeadDim)
		if m.rope != nil {
			q, k = m.rope.apply(q, ropeCos, ropeSin), m.rope.apply(k, ropeCos, ropeSin)
		} else {
			q, k = q.RoPE(qpos, rope), k.RoPE(qpos, rope)
		}
		v = v.Reshape(n, c.KVHeads, c.ValueDim)
		if m.flash {
			q, k, v = roundHalf(q), roundHalf(k), roundHalf(v)
		} else if m.halfKV {
			q, k, v = roundHalf(q), roundHalf(k), roundHalf(v)
		}

		// The cache is [kvHeads, position, dim]. This chunk's rows go into
		// it now (a half cache rounds them), and attention reads its first
		// rows in place, without a copy.
		kt, vt := k.Permute(1, 0, 2), v.Permute(1, 0, 2) // [kvHeads, n, dim]
		kAll, vAll := g.UpdateSlice(ly.kCache, kt, 1, pos), g.UpdateSlice(ly.vCache, vt, 1, pos)
		if cache < kAll.Shape()[1] {
			kAll, vAll = kAll.SliceAxis(1, 0, cache, 1), vAll.SliceAxis(1, 0, cache, 1)
		}
		kAll, vAll = kAll.Cast(tensor.F32), vAll.Cast(tensor.F32) // widens a half cache; a no-op on f32

		grp := c.Heads / c.KVHeads
		// Query head h uses key/value head h/grp, as in llama.cpp.
		qh := q.Permute(1, 0, 2).Reshape(c.KVHeads, grp, n, c.HeadDim)
		mk := mask
		if ly.sliding {
			mk = swMask
		}
		var s graph.Tensor // [kvHeads, grp, n, cache]; flash: [cache, kvHeads, grp, n]
		if m.flash {
			// ggml_vec_dot_f16 adds the exact f16·f16 products in float64
			// when the head is shorter than its 64-element SIMD step, so the
			// score is the dot product rounded once to f32; a float32 matmul
			// would also make it depend on the chunk size. The scores go
			// keys first, as flashF16 visits them.
			s = dotExact(qh, kAll.Unsqueeze(1)).Permute(3, 0, 1, 2)
			mk = mk.Transpose().Reshape(cache, 1, 1, n)
		} else {
			// The grp query heads of a key/value head share one product
			// with the keys as stored ([cache, dim], read transposed in
			// place), instead of the cache broadcast over grp.
			q2 := qh.Reshape(c.KVHeads, grp*n, c.HeadDim)
			s = q2.MatMul(kAll.Transpose()).Reshape(c.KVHeads, grp, n, cache)
		}
		s = s.Scale(c.AttnScale)
		if c.AttnSoftcap > 0 {
			s = s.Scale(1 / c.AttnSoftcap).Tanh().Scale(c.AttnSoftcap)
		}
		s = s.Add(mk)
		var o graph.Tensor // [kvHeads, grp, n, vdim]
		if m.flash {
			o = flashF16(s, vAll.Unsqueeze(1), m.f64)
		} else {
			pr := s.Softmax(-1)
			if m.halfKV {
				pr = roundHalf(pr)
			}
			o = pr.Reshape(c.KVHeads, grp*n, cache).MatMul(vAll).Reshape(c.KVHeads, grp, n, c.ValueDim)
		}
		o = o.Reshape(c.Heads, n, c.ValueDim).Permute(1, 0, 2).Reshape(n, c.Heads*c.ValueDim)
		a := linear(o, ly.wo, graph.Tensor{})
		if c.PostNorms {
			a = m.normOf(a, ly.attnPost)
		}
		x = x.Add(a)

		h = m.normOf(x, ly.ffnNorm)
		var gate, up graph.Tensor
		if ly.gateUp.Valid() {
			gu := linear(h, ly.gateUp, graph.Tensor{})
			gate, up = gu.SliceAxis(-1, 0, c.FF, 1), gu.SliceAxis(-1, c.FF, 2*c.FF, 1)
		} else {
			gate, up = linear(h, ly.gate, graph.Tensor{}), linear(h, ly.up, graph.Tensor{})
		}
		var act graph.Tensor
		switch {
		case c.FFN == GeGLU:
			act = gate.GELUTanh().Mul(up)
		case m.flash && m.f64:
			act = swiGLU(gate, up)
		default:
			act = gate.SiLU().Mul(up)
		}
		f := linear(act, ly.down, graph.Tensor{})
		if c.PostNorms {
			f = m.normOf(f, ly.ffnPost)
		}
		x = x.Add(f)
	}
	if n > 1 {
		x = x.SliceAt(0, last, 1) // only the last real row's logits are needed
	}
	logits := linear(m.normOf(x, m.norm), m.out, graph.Tensor{}).Reshape(c.Vocab)
	if c.FinalSoftcap > 0 {
		logits = logits.Scale(1 / c.FinalSoftcap).Tanh().Scale(c.FinalSoftcap)
	}
	return []graph.Tensor{logits}
}

// Reset clears the cache (not needed between sequences, since Forward
// overwrites from its start position; it releases nothing).
func (m *Model) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.g.Vars() {
		clear(v.Value().Float32s())
		clear(v.Value().Bits()) // a half cache
	}
}

// roundHalf rounds f32 values to the 11-bit significand of half precision
// (to nearest) by Veltkamp splitting: with c = x·(2¹³+1), c-(c-x) keeps the
// top 24-13 bits of x. Half's range limits are not applied.
func roundHalf(x graph.Tensor) graph.Tensor {
	c := x.Scale(1<<13 + 1)
	return c.Sub(c.Sub(x))
}

// flashF16 is softmax(s)·v as ggml's CPU flash attention computes it with
// f16 values (ggml_compute_forward_flash_attn_ext_f16): for each query row
// the keys are visited in order, masked ones (-inf) skipped; a new running
// maximum M rescales the f16 accumulator by exp(Mold-M) (rounded to f16),
// then the accumulator becomes f16(acc + v·exp(s-M)) and the f32 sum S =
// S·ms + vs; the result is acc/S. s is [keys, ..., n], keys first so that
// each key's scores are contiguous, v [..., keys, vdim]; the result is
// [..., n, vdim] with leading dims broadcasting.
func flashF16(s, v graph.Tensor, f64 bool) graph.Tensor {
	g := s.Graph()
	keys := s.Shape()[0]
	ninf := g.Scalar(tensor.F32, math.Inf(-1))
	one, zero := g.Scalar(tensor.F32, 1), g.Scalar(tensor.F32, 0)
	exp := graph.Tensor.Exp
	if f64 {
		exp = expf
	}
	var acc, m, sum graph.Tensor
	for j := 0; j < keys; j++ {
		sj := s.SliceAxis(0, j, j+1, 1).Squeeze(0).Unsqueeze(-1) // [..., n, 1]
		vj := v.SliceAxis(-2, j, j+1, 1)                         // [..., 1, vdim]
		if j == 0 {
			// The first visible key sets M = s, acc = v, S = 1; a masked
			// one leaves acc and S at zero and M at -inf.
			vis := sj.Ne(ninf)
			m = sj
			sum = graph.Where(vis, one, zero)
			acc = graph.Where(vis, one, zero).Mul(vj)
			continue
		}
		masked := sj.Eq(ninf)
		newMax := sj.Gt(m)
		mNew := graph.Where(newMax, sj, m)
		ms := graph.Where(newMax, exp(m.Sub(mNew)), one)
		vs := graph.Where(newMax, one, graph.Where(masked, zero, exp(sj.Sub(mNew))))
		scaled := graph.Where(newMax, roundHalf(acc.Mul(ms)), acc)
		acc = graph.Where(masked, acc, roundHalf(scaled.Add(vj.Mul(vs))))
		sum = graph.Where(masked, sum, sum.Mul(ms).Add(vs))
		m = mNew
	}
	inv := graph.Where(sum.Eq(zero), zero, one.Div(sum))
	return acc.Mul(inv)
}

// expf is a correctly rounded float32 exp (through float64), as the C
// library's expf that ggml's flash attention calls; the CPU backend's own
// float32 exp may be a few ulp off.
func expf(x graph.Tensor) graph.Tensor { return x.Cast(tensor.F64).Exp().Cast(tensor.F32) }

// swiGLU is silu(gate)·up as ggml_vec_swiglu_f32 computes it on AVX-512
// (the CPU build llama.cpp picks on the machines the references come
// from): in each whole 16-element group of a row, silu(x) = x/(1+e) with
// e = ggml_v_expf(-x), a range reduction to b = -x - n·ln2 and a degree-5
// polynomial in fused multiply-adds scaled by 2^n (vscalefps), 0 or +inf
// where |n| > 192; the row's last len%16 elements use libm's expf. The
// next matmul quantises this to 8 bits, so an ulp off the library's
// result can move a quantisation step.
func swiGLU(gate, up graph.Tensor) graph.Tensor {
	g := gate.Graph()
	n := gate.Shape()[gate.Rank()-1]
	whole := n &^ 15
	if whole < n {
		head := swiGLU(gate.SliceAxis(-1, 0, whole, 1), up.SliceAxis(-1, 0, whole, 1))
		x, u := gate.SliceAxis(-1, whole, n, 1), up.SliceAxis(-1, whole, n, 1)
		tail := x.Div(expf(x.Neg()).AddScalar(1)).Mul(u)
		if whole == 0 {
			return tail
		}
		return graph.Concat(-1, head, tail)
	}
	f32 := func(v float64) graph.Tensor { return g.Scalar(tensor.F32, v) }
	// fma is a float32 fused multiply-add through float64 (the product is
	// exact there; the double rounding differs only in rare ties).
	fma := func(a, b, c graph.Tensor) graph.Tensor {
		return a.Cast(tensor.F64).Mul(b.Cast(tensor.F64)).Add(c.Cast(tensor.F64)).Cast(tensor.F32)
	}
	const shifter = 0x1.8p23 // adding it rounds to an integer
	x := gate.Neg()
	nn := fma(x, f32(0x1.715476p+0), f32(shifter)).AddScalar(-shifter) // round(x·log2 e)
	b := fma(nn, f32(-0x1.62e4p-1), x)
	b = fma(nn, f32(-0x1.7f7d1cp-20), b)
	sq := b.Mul(b)
	j := fma(fma(fma(b, f32(0x1.0e4020p-7), f32(0x1.573e2ep-5)), sq, fma(f32(0x1.555e66p-3), b, f32(0x1.fffdb6p-2))),
		sq, fma(f32(0x1.ffffecp-1), b, f32(1)))
	// j·2^n: exact in float64, then rounded once to float32 (or to ±0 and
	// inf out of range, as vscalefps does).
	e := j.Cast(tensor.F64).Mul(g.Scalar(tensor.F64, 2).Pow(nn.Cast(tensor.F64))).Cast(tensor.F32)
	big := nn.Abs().Gt(f32(192))
	e = graph.Where(big, graph.Where(nn.Le(f32(0)), f32(0), f32(math.Inf(1))), e)
	return gate.Div(e.AddScalar(1)).Mul(up)
}

// rmsNorm is ggml's rms_norm followed by the weight multiply: the squares
// (f32) are summed in float64, the mean rounded to f32, scale =
// 1/sqrt(mean+eps) in f32, then x·scale·w.
func rmsNorm(x, w graph.Tensor, eps float64) graph.Tensor {
	g := x.Graph()
	n := x.Shape()[x.Rank()-1]
	mean := x.Mul(x).Cast(tensor.F64).SumKeep(-1).Div(g.Scalar(tensor.F64, float64(n))).Cast(tensor.F32)
	scale := g.Scalar(tensor.F32, 1).Div(mean.AddScalar(eps).Sqrt())
	return x.Mul(scale).Mul(w)
}

// normOf is the RMSNorm of x with weight w, ggml's way under LlamaCppArith.
func (m *Model) normOf(x, w graph.Tensor) graph.Tensor {
	if m.flash && m.f64 {
		return rmsNorm(x, w, m.cfg.NormEps)
	}
	return x.RMSNorm(w, m.cfg.NormEps)
}

// kvType resolves Options.KV for dev: the zero value means F32, and a
// half type falls back to F32 on a device without half storage.
func kvType(d tensor.DType, dev backend.Device) (tensor.DType, error) {
	switch d {
	case tensor.Invalid, tensor.F32:
		return tensor.F32, nil
	case tensor.F16, tensor.BF16:
		if dev != nil && !backend.HalfStorage(dev) {
			return tensor.F32, nil
		}
		return d, nil
	}
	return tensor.Invalid, fmt.Errorf("%w: KV cache type %v (want f32, f16 or bf16)", ErrInput, d)
}

// KV returns the key/value cache's storage type (Options.KV as resolved
// for the device).
func (m *Model) KV() tensor.DType { return m.kv }

// CacheBytes returns the bytes the key/value cache occupies.
func (m *Model) CacheBytes() int64 {
	var n int64
	for _, ly := range m.layers {
		for _, c := range []graph.Tensor{ly.kCache, ly.vCache} {
			n += int64(c.Shape().Size() * c.DType().Size())
		}
	}
	return n
}

// ropeTables holds RoPE as a table lookup for the decode and prefill
// Programs: the graph's RoPE recomputes cos and sin of every angle on every
// run, as [..., half, 1] elementwise kernels that run one element per inner
// loop, which cost more than a layer's matrix-vector products. The tables
// give the same float32 bits, and the pair rotation becomes
//
//	out = x·c + swap(x)·s
//
// with swap exchanging each pair's two elements (a 0/1 matrix product,
// exact) and c, s holding cos and ∓sin per element: x0·cos + x1·(-sin) and
// x1·cos + x0·sin are the graph's x0·cos - x1·sin and x0·sin + x1·cos.
type ropeTables struct {
	cos, sin graph.Tensor // [positions, headDim] f32 consts
	swap     graph.Tensor // [headDim, headDim] f32 permutation
	// fused, in ggml's tables only, is [headDim] bool: true where the
	// element's own product x·cos is the one fused into the multiply-add
	// (see newGGMLRopeTables).
	fused graph.Tensor
}

// newRopeTables builds the tables for positions [0, n) as graph.RoPE
// computes them: angle = float32(p) · float32(scale·base^(-2i/dims)) in
// float32, cos and sin of it in float64 rounded to float32. It returns
// false for partial rotary dims, which keep the graph's RoPE.
func newRopeTables(g *graph.Graph, n, headDim int, cfg graph.RoPE) (*ropeTables, bool) {
	dims := cfg.Dims
	if dims == 0 {
		dims = headDim
	}
	if dims != headDim || dims%2 != 0 || n < 1 {
		return nil, false
	}
	base, scale := cfg.Base, cfg.Scale
	if base == 0 {
		base = 10000
	}
	if scale == 0 {
		scale = 1
	}
	half := dims / 2
	// pair(i) is element i's partner and slot its angle index.
	pair := func(i int) (partner, slot int, first bool) {
		if cfg.NeoX {
			if i < half {
				return i + half, i, true
			}
			return i - half, i - half, false
		}
		return i ^ 1, i / 2, i%2 == 0
	}
	freq := make([]float32, half)
	for i := range freq {
		freq[i] = float32(scale * math.Pow(base, -2*float64(i)/float64(dims)))
	}
	cosT, sinT := make([]float32, n*dims), make([]float32, n*dims)
	for p := range n {
		for i := range dims {
			_, slot, first := pair(i)
			a := float64(float32(p) * freq[slot])
			cosT[p*dims+i] = float32(math.Cos(a))
			if s := float32(math.Sin(a)); first {
				sinT[p*dims+i] = -s
			} else {
				sinT[p*dims+i] = s
			}
		}
	}
	swap := make([]float32, dims*dims)
	for j := range dims {
		partner, _, _ := pair(j)
		swap[partner*dims+j] = 1 // column j picks row partner
	}
	return &ropeTables{
		cos:  g.Const(tensor.NewF32(cosT, n, dims)),
		sin:  g.Const(tensor.NewF32(sinT, n, dims)),
		swap: g.Const(tensor.NewF32(swap, dims, dims)),
	}, true
}

// ropeAt returns the cos and sin rows of positions pos [seq], shaped
// [seq, 1, headDim] to broadcast over heads.
func (r *ropeTables) at(pos graph.Tensor) (cos, sin graph.Tensor) {
	seq, dims := pos.Shape()[0], r.swap.Shape()[0]
	return r.cos.Gather(0, pos).Reshape(seq, 1, dims), r.sin.Gather(0, pos).Reshape(seq, 1, dims)
}

// apply rotates x [seq, heads, headDim] by the rows cos, sin from at.
func (r *ropeTables) apply(x, cos, sin graph.Tensor) graph.Tensor {
	if r.fused.Valid() {
		// One product fused, the other rounded to f32 first: an f32 FMA
		// built from error-free transforms, so it runs without float64.
		xs := x.MatMul(r.swap) // partners
		a := graph.Where(r.fused, x, xs)
		b := graph.Where(r.fused, cos, sin)
		rounded := graph.Where(r.fused, xs.Mul(sin), x.Mul(cos))
		return fmaF32(a, b, rounded)
	}
	return x.Mul(cos).Add(x.MatMul(r.swap).Mul(sin))
}

// newGGMLRopeTables builds RoPE tables for positions [0, n) as ggml's CPU
// rope (ggml_compute_forward_rope_f32, no YaRN) computes them, for
// LlamaCppArith. The angle of pair k is freq_scale·θ_k in float32, with
// θ_0 = p and θ_k = θ_{k-1}·powf(base, -2/dims) (a float32 recurrence),
// and its cos and sin are glibc's sincosf. The x86 build contracts the
// rotation into fused multiply-adds: the pair (x0, x1) becomes
// fma(x0, cos, -(x1·sin)) and fma(x0, sin, x1·cos), so the first element
// fuses its own product and the second its partner's. Features past a
// partial rotary dims are copied (cos 1, sin 0). powf is taken as the
// correctly rounded power, as glibc's is for the usual bases and head
// sizes (of 13 bases × 256 dims checked, only base 40000 with 118 dims
// differs). The graph's RoPE rounds each product and takes each angle
// from its own power, so about a fifth of the rotated values differ from
// ggml's in the last bit, which the next matmul's 8-bit activation
// quantisation can turn into a whole step.
func newGGMLRopeTables(g *graph.Graph, n, headDim int, cfg graph.RoPE) (*ropeTables, bool) {
	dims := cfg.Dims
	if dims == 0 {
		dims = headDim
	}
	if dims > headDim || dims%2 != 0 || n < 1 {
		return nil, false
	}
	base, scale := float32(cfg.Base), float32(cfg.Scale)
	if base == 0 {
		base = 10000
	}
	if scale == 0 {
		scale = 1
	}
	half := dims / 2
	thetaScale := float32(math.Pow(float64(base), float64(float32(-2)/float32(dims))))
	// pairs lists each rotated pair's first and second element.
	pairs := make([][2]int, half)
	for k := range pairs {
		if cfg.NeoX {
			pairs[k] = [2]int{k, k + half}
		} else {
			pairs[k] = [2]int{2 * k, 2*k + 1}
		}
	}
	cosT, sinT := make([]float32, n*headDim), make([]float32, n*headDim)
	for p := range n {
		row := p * headDim
		for i := dims; i < headDim; i++ {
			cosT[row+i] = 1
		}
		theta := float32(p)
		for _, pr := range pairs {
			s, c := sincosf(scale * theta)
			cosT[row+pr[0]], sinT[row+pr[0]] = c, -s
			cosT[row+pr[1]], sinT[row+pr[1]] = c, s
			theta *= thetaScale
		}
	}
	swap := make([]float32, headDim*headDim)
	fused := make([]float32, headDim)
	for i := dims; i < headDim; i++ {
		swap[i*headDim+i] = 1
		fused[i] = 1
	}
	for _, pr := range pairs {
		swap[pr[1]*headDim+pr[0]] = 1 // column pr[0] picks row pr[1]
		swap[pr[0]*headDim+pr[1]] = 1
		fused[pr[0]] = 1
	}
	return &ropeTables{
		cos:   g.Const(tensor.NewF32(cosT, n, headDim)),
		sin:   g.Const(tensor.NewF32(sinT, n, headDim)),
		swap:  g.Const(tensor.NewF32(swap, headDim, headDim)),
		fused: g.Const(tensor.NewF32(fused, headDim)).Gt(g.Scalar(tensor.F32, 0)),
	}, true
}
