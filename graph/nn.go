package graph

import (
	"math"

	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// The operations in this file are compositions of primitives, so autograd
// and every backend handle them with no rules of their own.

// LayerNorm normalises over the last axis to zero mean and unit variance,
// then scales by w and shifts by b. Pass the zero Tensor for w or b to skip
// them.
func (t Tensor) LayerNorm(w, b Tensor, eps float64) Tensor {
	if !t.Valid() {
		return t
	}
	if err := t.checkAffine("layer_norm", w, b); err != nil {
		return t.g.fail("layer_norm", err)
	}
	xc := t.Sub(t.MeanKeep(-1))
	y := xc.Mul(xc.Square().MeanKeep(-1).AddScalar(eps).Rsqrt())
	if w.Valid() {
		y = y.Mul(w)
	}
	if b.Valid() {
		y = y.Add(b)
	}
	return y
}

// RMSNorm divides by the root mean square over the last axis, then scales
// by w (the zero Tensor skips it).
func (t Tensor) RMSNorm(w Tensor, eps float64) Tensor {
	if !t.Valid() {
		return t
	}
	if err := t.checkAffine("rms_norm", w, Tensor{}); err != nil {
		return t.g.fail("rms_norm", err)
	}
	y := t.Mul(t.Square().MeanKeep(-1).AddScalar(eps).Rsqrt())
	if w.Valid() {
		y = y.Mul(w)
	}
	return y
}

// checkAffine checks that norm weights are float vectors over the last axis.
func (t Tensor) checkAffine(name string, ws ...Tensor) error {
	if !t.DType().IsFloat() || t.Rank() == 0 {
		return errorf(ErrDType, "input is %v%v, want a float tensor with at least one axis", t.DType(), t.Shape())
	}
	n := t.Shape()[t.Rank()-1]
	for _, w := range ws {
		if w.g == nil {
			continue
		}
		if !w.Valid() {
			return errorf(ErrTensor, "invalid weight")
		}
		if w.DType() != t.DType() || !w.Shape().Equal(tensor.Shape{n}) {
			return errorf(ErrShape, "weight %v%v for input %v%v: want %v[%d]", w.DType(), w.Shape(), t.DType(), t.Shape(), t.DType(), n)
		}
	}
	return nil
}

// RoPE configures rotary position embeddings.
type RoPE struct {
	Dims  int     // leading features of each head that rotate; 0 means all
	Base  float64 // frequency base; 0 means 10000
	Scale float64 // positions are multiplied by Scale (linear scaling); 0 means 1
	// NeoX pairs feature i with i+Dims/2 (GPT-NeoX, Qwen2, Phi-3, Gemma);
	// otherwise features 2i and 2i+1 rotate together (GPT-J, LLaMA as
	// stored in GGUF).
	NeoX bool
}

// RoPE rotates t, shaped [..., seq, heads, headDim], by the angles
// pos·Base^(-2i/Dims) for the integer positions pos, shaped [seq].
func (t Tensor) RoPE(pos Tensor, cfg RoPE) Tensor {
	g, ok := check("rope", t, pos)
	if !ok {
		return Tensor{g, -1}
	}
	r := t.Rank()
	if r < 3 || !t.DType().IsFloat() {
		return g.fail("rope", errorf(ErrShape, "input %v%v: want float [..., seq, heads, headDim]", t.DType(), t.Shape()))
	}
	seq, hd := t.Shape()[r-3], t.Shape()[r-1]
	if !pos.DType().IsInt() || !pos.Shape().Equal(tensor.Shape{seq}) {
		return g.fail("rope", errorf(ErrShape, "positions %v%v: want i32 or i64 [%d]", pos.DType(), pos.Shape(), seq))
	}
	dims := cfg.Dims
	if dims == 0 {
		dims = hd
	}
	if dims%2 != 0 || dims > hd || dims < 0 {
		return g.fail("rope", errorf(ErrArg, "rotary dims %d for head size %d: want an even number up to it", dims, hd))
	}
	base, scale := cfg.Base, cfg.Scale
	if base == 0 {
		base = 10000
	}
	if scale == 0 {
		scale = 1
	}
	half := dims / 2
	freq := make([]float64, half)
	for i := range freq {
		freq[i] = scale * math.Pow(base, -2*float64(i)/float64(dims))
	}
	fa, _ := tensor.FromFloat64(freq, 1, half)
	f := g.Const(fa).Cast(t.DType())
	theta := pos.Cast(t.DType()).Reshape(seq, 1).Mul(f) // [seq, half]
	lead := t.Shape()[:r-1].Clone()
	xr := t
	if dims < hd {
		xr = t.SliceAxis(-1, 0, dims, 1)
	}
	var x0, x1, cos, sin Tensor
	if cfg.NeoX {
		p := xr.Reshape(append(lead.Clone(), 2, half)...)
		x0, x1 = p.SliceAxis(-2, 0, 1, 1), p.SliceAxis(-2, 1, 2, 1)
		cos, sin = theta.Cos().Reshape(seq, 1, 1, half), theta.Sin().Reshape(seq, 1, 1, half)
	} else {
		p := xr.Reshape(append(lead.Clone(), half, 2)...)
		x0, x1 = p.SliceAxis(-1, 0, 1, 1), p.SliceAxis(-1, 1, 2, 1)
		cos, sin = theta.Cos().Reshape(seq, 1, half, 1), theta.Sin().Reshape(seq, 1, half, 1)
	}
	axis := -2
	if !cfg.NeoX {
		axis = -1
	}
	rot := Concat(axis, x0.Mul(cos).Sub(x1.Mul(sin)), x0.Mul(sin).Add(x1.Mul(cos)))
	out := rot.Reshape(append(lead.Clone(), dims)...)
	if dims < hd {
		out = Concat(-1, out, t.SliceAxis(-1, dims, hd, 1))
	}
	return out
}

// Attention configures scaled dot-product attention.
type Attention struct {
	Causal bool    // query i sees keys up to i + (keys - queries)
	Scale  float64 // 0 means 1/√headDim
}

// ScaledDotProductAttention computes softmax(q·kᵀ·scale + mask)·v for q
// [..., heads, queries, headDim] and k, v [..., kvHeads, keys, headDim].
// When kvHeads divides heads, each group of heads/kvHeads query heads shares
// one key/value head (grouped-query attention).
func ScaledDotProductAttention(q, k, v Tensor, cfg Attention) Tensor {
	g, ok := check("attention", q, k, v)
	if !ok {
		return Tensor{g, -1}
	}
	r := q.Rank()
	if r < 3 || k.Rank() != r || v.Rank() != r || !q.DType().IsFloat() {
		return g.fail("attention", errorf(ErrShape, "q %v, k %v, v %v: want float [..., heads, seq, headDim] of one rank", q.Shape(), k.Shape(), v.Shape()))
	}
	qs, ks, vs := q.Shape(), k.Shape(), v.Shape()
	hq, tq, d := qs[r-3], qs[r-2], qs[r-1]
	hk, tk := ks[r-3], ks[r-2]
	if ks[r-1] != d || !ks.Equal(vs) || hk == 0 || hq%hk != 0 || !qs[:r-3].Equal(ks[:r-3]) {
		return g.fail("attention", errorf(ErrShape, "q %v, k %v, v %v: head size, batch or head grouping disagree", qs, ks, vs))
	}
	if grp := hq / hk; grp > 1 {
		k, v = repeatHeads(k, grp), repeatHeads(v, grp)
	}
	scale := cfg.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(d))
	}
	s := q.MatMul(k.Transpose()).Scale(scale)
	if cfg.Causal {
		mask := make([]bool, tq*tk)
		for i := 0; i < tq; i++ {
			for j := 0; j < tk; j++ {
				mask[i*tk+j] = j <= i+tk-tq
			}
		}
		ma, _ := tensor.FromBool(mask, tq, tk)
		s = Where(g.Const(ma), s, s.like(math.Inf(-1)))
	}
	return s.Softmax(-1).MatMul(v)
}

// repeatHeads repeats each head of t [..., h, seq, d] grp times in place.
func repeatHeads(t Tensor, grp int) Tensor {
	s := t.Shape()
	r := len(s)
	e := append(s[:r-2].Clone(), 1, s[r-2], s[r-1])
	x := append(s[:r-2].Clone(), grp, s[r-2], s[r-1])
	out := append(s[:r-3].Clone(), s[r-3]*grp, s[r-2], s[r-1])
	return t.Reshape(e...).Expand(x...).Reshape(out...)
}

// CrossEntropy returns the mean negative log-likelihood of the integer
// class targets [n] under logits [n, classes]. A target outside
// [0, classes) contributes zero.
func CrossEntropy(logits, targets Tensor) Tensor {
	g, ok := check("cross_entropy", logits, targets)
	if !ok {
		return Tensor{g, -1}
	}
	if logits.Rank() != 2 || !logits.DType().IsFloat() || !targets.DType().IsInt() || !targets.Shape().Equal(logits.Shape()[:1]) {
		return g.fail("cross_entropy", errorf(ErrShape, "logits %v%v and targets %v%v: want float [n, classes] and integer [n]", logits.DType(), logits.Shape(), targets.DType(), targets.Shape()))
	}
	n, c := logits.Shape()[0], logits.Shape()[1]
	classes := make([]int64, c)
	for i := range classes {
		classes[i] = int64(i)
	}
	iota := g.Const(tensor.NewI64(classes, 1, c))
	onehot := targets.Cast(tensor.I64).Reshape(n, 1).Eq(iota).Cast(logits.DType())
	return logits.LogSoftmax(-1).Mul(onehot).Sum().Scale(-1 / float64(max(n, 1)))
}

// Conv configures 2-D convolution and pooling windows. Zero strides and
// dilations mean 1.
type Conv struct {
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
}

func (c Conv) window(kh, kw int) op.Window {
	w := op.Window{Kernel: [2]int{kh, kw}, Stride: c.Stride, Padding: c.Padding, Dilation: c.Dilation}
	for i := range 2 {
		w.Stride[i] = max(w.Stride[i], 1)
		w.Dilation[i] = max(w.Dilation[i], 1)
	}
	return w
}

// Unfold lays out every sliding window of t [n, c, h, w] as
// [n, c, kh, kw, oh, ow] (im2col); positions in the padding read padValue.
func (t Tensor) Unfold(w op.Window, padValue float64) Tensor {
	g, ok := check("unfold", t)
	if !ok {
		return Tensor{g, -1}
	}
	if t.Rank() != 4 || !t.DType().IsFloat() {
		return g.fail("unfold", errorf(ErrShape, "input %v%v: want float [n, c, h, w]", t.DType(), t.Shape()))
	}
	s := t.Shape()
	if !validWindow(w) {
		return g.fail("unfold", errorf(ErrArg, "window %+v", w))
	}
	if !windowFits(w, s[2], s[3]) {
		return g.fail("unfold", errorf(ErrShape, "window %v (stride %v, padding %v, dilation %v) does not fit input %v", w.Kernel, w.Stride, w.Padding, w.Dilation, s))
	}
	oh, ow := w.OutSize(s[2], 0), w.OutSize(s[3], 1)
	out := tensor.Shape{s[0], s[1], w.Kernel[0], w.Kernel[1], oh, ow}
	return g.add(op.Unfold, &op.Attrs{Window: w, PadValue: padValue}, t.DType(), out, t)
}

// validWindow reports whether w has positive kernel, stride and dilation
// and no negative padding; OutSize divides by the stride.
func validWindow(w op.Window) bool {
	for i := range 2 {
		if w.Kernel[i] < 1 || w.Stride[i] < 1 || w.Dilation[i] < 1 || w.Padding[i] < 0 {
			return false
		}
	}
	return true
}

// windowFits reports whether a valid window fits at least once in an
// h×wd image with its padding. OutSize alone is not enough: integer
// division truncates toward zero, so a window one element too wide still
// counts one position when the stride is above 1.
func windowFits(w op.Window, h, wd int) bool {
	for i, n := range [2]int{h, wd} {
		if n < 1 || w.Dilation[i]*(w.Kernel[i]-1)+1 > n+2*w.Padding[i] {
			return false
		}
	}
	return true
}

// Fold is the adjoint of Unfold: it sums windows t [n, c, kh, kw, oh, ow]
// back into an image [n, c, h, w].
func (t Tensor) Fold(w op.Window, h, wd int) Tensor {
	g, ok := check("fold", t)
	if !ok {
		return Tensor{g, -1}
	}
	s := t.Shape()
	if !validWindow(w) {
		return g.fail("fold", errorf(ErrArg, "window %+v", w))
	}
	if t.Rank() != 6 || !windowFits(w, h, wd) || s[2] != w.Kernel[0] || s[3] != w.Kernel[1] || w.OutSize(h, 0) != s[4] || w.OutSize(wd, 1) != s[5] {
		return g.fail("fold", errorf(ErrShape, "windows %v do not fold into [%d %d] with %+v", s, h, wd, w))
	}
	out := tensor.Shape{s[0], s[1], h, wd}
	return g.add(op.Fold, &op.Attrs{Window: w, Shape: out}, t.DType(), out, t)
}

// Conv2D convolves t [n, c, h, w] with filters w [o, c, kh, kw] and adds
// bias [o] unless it is the zero Tensor. The result is [n, o, oh, ow].
func (t Tensor) Conv2D(w, bias Tensor, cfg Conv) Tensor {
	g, ok := check("conv2d", t, w)
	if !ok {
		return Tensor{g, -1}
	}
	if t.Rank() != 4 || w.Rank() != 4 || t.Shape()[1] != w.Shape()[1] || t.DType() != w.DType() {
		return g.fail("conv2d", errorf(ErrShape, "input %v%v and filters %v%v: want [n, c, h, w] and [o, c, kh, kw]", t.DType(), t.Shape(), w.DType(), w.Shape()))
	}
	ws := w.Shape()
	o, ck := ws[0], ws[1]*ws[2]*ws[3]
	if bias.g != nil && (!bias.Valid() || !bias.Shape().Equal(tensor.Shape{o}) || bias.DType() != t.DType()) {
		return g.fail("conv2d", errorf(ErrShape, "bias %v%v: want %v[%d]", bias.DType(), bias.Shape(), t.DType(), o))
	}
	cols := t.Unfold(cfg.window(ws[2], ws[3]), 0)
	if !cols.Valid() {
		return cols
	}
	cs := cols.Shape()
	n, oh, ow := cs[0], cs[4], cs[5]
	y := w.Reshape(o, ck).MatMul(cols.Reshape(n, ck, oh*ow)).Reshape(n, o, oh, ow)
	if bias.Valid() {
		y = y.Add(bias.Reshape(o, 1, 1))
	}
	return y
}

// MaxPool2D takes the maximum over kh×kw windows of t [n, c, h, w];
// padding never wins.
func (t Tensor) MaxPool2D(kh, kw int, cfg Conv) Tensor {
	if cfg.Stride == [2]int{} {
		cfg.Stride = [2]int{kh, kw}
	}
	return t.Unfold(cfg.window(kh, kw), math.Inf(-1)).Max(2, 3)
}

// AvgPool2D averages over kh×kw windows of t [n, c, h, w], counting padded
// positions as zeros (PyTorch's count_include_pad).
func (t Tensor) AvgPool2D(kh, kw int, cfg Conv) Tensor {
	if cfg.Stride == [2]int{} {
		cfg.Stride = [2]int{kh, kw}
	}
	return t.Unfold(cfg.window(kh, kw), 0).Mean(2, 3)
}
