package qdot

import (
	"math"

	"github.com/aethertensor/aether/tensor"
)

// acts holds n activation rows prepared for one weight type. For the 8-bit
// kinds, row i's quants are q[i*cols:(i+1)*cols] and its per-block data
// follow at the matching offsets; f holds the float32 rows for actF32.
type acts struct {
	kind actKind
	n    int
	cols int
	f    []float32 // actF32: the rows rounded to f16 (F16) or bf16 (BF16)
	fb   []float32 // actF32: the buffer f points to
	q    []int8    // quantised values
	d    []float32 // one scale per block: 32 (f16-rounded, as Q8_0) or 256 (float32, as Q8_K)
	s    []int32   // act32: sum of q per block of 32; actK: sum per 16 (16 per block)
	s32  []int32   // actK: sum of q per 32 (8 per block)
	// For the assembly kernels of act32 types: dv repeats each block's
	// scale 8 times (a ready ymm operand) and c is the block's offset
	// correction, -bias·Σq, for weights read as unsigned with a bias (8
	// for Q4_0, 16 for Q5_0, 128 for Q8_0 read as w^0x80).
	dv []float32
	c  []int32
	// ms is ggml's Q8_1 s, the factor of Q4_1's and Q5_1's min term: each
	// block's unrounded scale times its quant sum, d·Σq, rounded to f16.
	ms []float32
	// For the eight-block assembly kernels of Q4_0 and Q4_1
	// (dotQ4_0VNNI8, dotQ4_1VNNI8): each row's whole groups of eight
	// blocks with the quants of each pair of blocks interleaved by halves
	// and the scales, corrections and (Q4_1) ms in the order
	// 0,2,4,6,1,3,5,7 (see prepareWide). Same offsets as q, d and c.
	qp []int8
	dp []float32
	cp []int32
	mp []float32
	// For the tile kernels: the activation rows of MatMul's tiles
	// interleaved per unit (see prepareTiles).
	qt    []int8
	dt    []float32
	ct    []int32
	rows  []row      // scratch for MatMul's per-row views
	tiles []tileSpan // scratch for MatMul's tiles
}

// tileSpan is one tile of MatMul's activation rows, i0 to i0+k.rows-1.
type tileSpan struct {
	i0 int
	k  *tileKernel
}

// row is one activation row.
type row struct {
	f   []float32
	q   []int8
	d   []float32
	s   []int32
	s32 []int32
	dv  []float32
	c   []int32
	ms  []float32
	qp  []int8
	dp  []float32
	cp  []int32
	mp  []float32
}

func (a *acts) row(i int) row {
	switch a.kind {
	case actF32:
		return row{f: a.f[i*a.cols : (i+1)*a.cols]}
	case act32:
		nb := a.cols / 32
		r := row{q: a.q[i*a.cols : (i+1)*a.cols], d: a.d[i*nb : (i+1)*nb], s: a.s[i*nb : (i+1)*nb],
			dv: a.dv[8*i*nb : 8*(i+1)*nb], c: a.c[i*nb : (i+1)*nb], ms: a.ms[i*nb : (i+1)*nb]}
		if a.qp != nil {
			r.qp, r.dp, r.cp = a.qp[i*a.cols:(i+1)*a.cols], a.dp[i*nb:(i+1)*nb], a.cp[i*nb:(i+1)*nb]
			r.mp = a.mp[i*nb : (i+1)*nb]
		}
		return r
	}
	nb := a.cols / 256
	return row{q: a.q[i*a.cols : (i+1)*a.cols], d: a.d[i*nb : (i+1)*nb],
		s: a.s[i*nb*16 : (i+1)*nb*16], s32: a.s32[i*nb*8 : (i+1)*nb*8]}
}

// prepare fills a with the n rows of x (n×cols) for weight type t,
// reusing a's buffers when they are large enough.
func (a *acts) prepare(t Type, x []float32, n, cols int) {
	kind := formats[t].act
	a.kind, a.n, a.cols = kind, n, cols
	switch kind {
	case actF32:
		a.f = x[:n*cols]
		// ggml's vec_dot_type of F16 is F16 and of BF16 is BF16: the
		// activations are rounded to the weights' type (to nearest even)
		// before the dot.
		switch t {
		case F16:
			a.fb = grow(a.fb, n*cols)
			for i, v := range a.f {
				a.fb[i] = tensor.F16ToF32(tensor.F32ToF16(v))
			}
			a.f = a.fb
		case BF16:
			a.fb = grow(a.fb, n*cols)
			for i, v := range a.f {
				a.fb[i] = tensor.BF16ToF32(tensor.F32ToBF16(v))
			}
			a.f = a.fb
		}
		return
	case act32:
		nb := n * cols / 32
		a.q, a.d, a.s = grow(a.q, n*cols), grow(a.d, nb), grow(a.s, nb)
		a.dv, a.c, a.ms = grow(a.dv, 8*nb), grow(a.c, nb), grow(a.ms, nb)
		var bias int32
		switch t {
		case Q4_0:
			bias = 8
		case Q5_0:
			bias = 16
		case Q8_0:
			bias = 128
		}
		if q32 := active.quant32; q32 != nil {
			q32(x[:n*cols], a.q, a.d, a.s, a.ms, a.dv, a.c, bias)
		} else {
			for b := 0; b < nb; b++ {
				a.d[b], a.s[b], a.ms[b] = quantBlock32(a.q[32*b:32*b+32], x[32*b:32*b+32])
				a.c[b] = -bias * a.s[b]
				for k := 0; k < 8; k++ {
					a.dv[8*b+k] = a.d[b]
				}
			}
		}
		a.qp = nil
		if t == Q4_0 || t == Q4_1 {
			a.prepareWide(n, cols/32)
		}
	case actK:
		nb := n * cols / 256
		a.q, a.d, a.s, a.s32 = grow(a.q, n*cols), grow(a.d, nb), grow(a.s, 16*nb), grow(a.s32, 8*nb)
		if qk := active.quantK; qk != nil {
			qk(x[:n*cols], a.q, a.d, a.s, a.s32)
			return
		}
		for b := 0; b < nb; b++ {
			q := a.q[256*b : 256*b+256]
			a.d[b] = quantBlockK(q, x[256*b:256*b+256])
			for j := 0; j < 16; j++ {
				var sum int32
				for _, v := range q[16*j : 16*j+16] {
					sum += int32(v)
				}
				a.s[16*b+j] = sum
			}
			for j := 0; j < 8; j++ {
				a.s32[8*b+j] = a.s[16*b+2*j] + a.s[16*b+2*j+1]
			}
		}
	}
}

// wideOrder is the order of a group's blocks in acts.dp and acts.cp: that
// of the int32 sums after dotQ4_0VNNI8's vphaddd reduction.
var wideOrder = [8]int{0, 2, 4, 6, 1, 3, 5, 7}

// prepareWide fills qp, dp, cp and mp from q, d, c and ms for the whole
// groups of eight blocks of each of the n rows of nb blocks.
func (a *acts) prepareWide(n, nb int) {
	a.qp, a.dp, a.cp, a.mp = grow(a.qp, len(a.q)), grow(a.dp, len(a.d)), grow(a.cp, len(a.c)), grow(a.mp, len(a.ms))
	for i := 0; i < n; i++ {
		for g := i * nb; g+8 <= (i+1)*nb; g += 8 {
			for p := 0; p < 4; p++ {
				qa := a.q[32*(g+2*p) : 32*(g+2*p)+32]
				qb := a.q[32*(g+2*p+1) : 32*(g+2*p+1)+32]
				o := a.qp[32*g+64*p : 32*g+64*p+64]
				copy(o[0:16], qa[:16])
				copy(o[16:32], qb[:16])
				copy(o[32:48], qa[16:])
				copy(o[48:64], qb[16:])
			}
			for k, b := range wideOrder {
				a.dp[g+k], a.cp[g+k], a.mp[g+k] = a.d[g+b], a.c[g+b], a.ms[g+b]
			}
		}
	}
}

// prepareTiles fills qt, dt and ct for the tiles of weight type t's tile
// kernels (Q4_0, Q8_0 or Q4_K; other types need nothing): for each tile,
// unit after unit, the quants of the unit in each of the tile's rows one
// after another, and likewise their scales and corrections, so that a tile
// kernel finds each operand at a fixed offset. The tile from row i0 starts
// at unit i0·(units a row) whatever its size. Q4_0's unit is a whole group
// of eight blocks of qp, dp and cp (256 quants, 8 scales, 8 corrections;
// the quants in q40LaneOffsets order for the q40Lanes layout, or Q8_0's
// unit for the q40Blocks layout); Q8_0's is a block of q, d and c (32
// quants, 1 scale, 1 correction); Q4_K's a block of q, d and s32 (256
// quants, 1 scale, 8 sums of 32). All tiles share one layout.
func (a *acts) prepareTiles(t Type, tiles []tileSpan) {
	nb := a.cols / 32
	var (
		per, nq, nd, nc int // units a row, quants, scales and corrections a unit
		dRow, cRow      int // scales and corrections a row
		q               []int8
		d               []float32
		c               []int32
	)
	switch t {
	case Q4_0:
		per, nq, nd, nc, dRow, cRow, q, d, c = nb/8, 256, 8, 8, nb, nb, a.qp, a.dp, a.cp
	case Q8_0:
		per, nq, nd, nc, dRow, cRow, q, d, c = nb, 32, 1, 1, nb, nb, a.q, a.d, a.c
	case Q4_K:
		per, nq, nd, nc, dRow, cRow, q, d, c = nb/8, 256, 1, 8, nb/8, nb, a.q, a.d, a.s32
	default:
		return
	}
	if len(tiles) == 0 {
		return
	}
	if t == Q4_0 {
		switch tiles[0].k.layout {
		case q40Lanes:
			q = a.q // rearranged per dword below
		case q40Blocks:
			per, nq, nd, nc, dRow, cRow, q, d, c = nb, 32, 1, 1, nb, nb, a.q, a.d, a.c
		}
	}
	last := tiles[len(tiles)-1]
	units := (last.i0 + last.k.rows) * per
	a.qt, a.dt, a.ct = grow(a.qt, nq*units), grow(a.dt, nd*units), grow(a.ct, nc*units)
	for _, tl := range tiles {
		for k := 0; k < per; k++ {
			for i := 0; i < tl.k.rows; i++ {
				u, r := tl.i0*per+k*tl.k.rows+i, tl.i0+i
				if t == Q4_0 && tl.k.layout == q40Lanes {
					src, dst := q[r*a.cols+nq*k:r*a.cols+nq*k+nq], a.qt[nq*u:nq*u+nq]
					for j, o := range q40LaneOffsets {
						to, from := dst[4*j:4*j+4], src[o:o+4]
						to[0], to[1], to[2], to[3] = from[0], from[1], from[2], from[3]
					}
				} else {
					copy(a.qt[nq*u:nq*u+nq], q[r*a.cols+nq*k:])
				}
				copy(a.dt[nd*u:nd*u+nd], d[r*dRow+nd*k:])
				copy(a.ct[nc*u:nc*u+nc], c[r*cRow+nc*k:])
			}
		}
	}
}

// q40LaneOffsets is the order of the 64 dwords of a group's 256 quants in the
// tiles of dotQ4_0VBMIx4 (the generator's q40LaneOrder): dword 16c+L is
// elements e..e+3 of block wideOrder[L%8], e = {0, 16, 8, 24}[c] +
// 4·(L/8); q40LaneOffsets holds the offset of its first byte in the group.
var q40LaneOffsets = func() (o [64]int) {
	for c := 0; c < 4; c++ {
		for l := 0; l < 16; l++ {
			o[16*c+l] = 32*wideOrder[l%8] + [4]int{0, 16, 8, 24}[c] + 4*(l/8)
		}
	}
	return o
}()

func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// quantBlock32 quantises 32 values as ggml's x86 quantize_row_q8_0 and
// quantize_row_q8_1 do (the AVX paths llama.cpp runs on amd64): d =
// amax/127, q = round-half-even(x·(127/amax)). The portable ggml reference
// multiplies by 1/d and rounds half away from zero instead, which differs
// on rare elements; the synthetic parity models turn such a one-step
// difference into a visible change of the output probabilities. It returns
// d rounded to binary16 (the scale ggml stores and multiplies by), the sum
// of the quants, and Q8_1's s: the unrounded d times that sum, rounded to
// binary16 (the factor of Q4_1's and Q5_1's min term).
func quantBlock32(q []int8, x []float32) (d float32, sum int32, s float32) {
	var amax float32
	for _, v := range x {
		// Not max(): its NaN and signed-zero handling costs branches.
		if a := math.Float32frombits(math.Float32bits(v) & 0x7fffffff); a > amax {
			amax = a
		}
	}
	d = amax / 127
	var id float32
	if amax != 0 {
		id = 127 / amax
	}
	q = q[:len(x)]
	for j, v := range x {
		// |v·id| <= 127, so nearestInt rounds half to even exactly.
		q[j] = int8(nearestInt(v * id))
		sum += int32(q[j])
	}
	return f16ToF32(f32ToF16(d)), sum, f16ToF32(f32ToF16(d * float32(sum)))
}

// quantBlockK quantises 256 values as ggml's quantize_row_q8_K does: the
// scale comes from the element of largest magnitude (the first on ties),
// iscale = -127/max, q = nearest(iscale*x) capped at 127, d = 1/iscale.
func quantBlockK(q []int8, x []float32) float32 {
	var maxv, amax float32
	for _, v := range x {
		if a := math.Float32frombits(math.Float32bits(v) & 0x7fffffff); amax < a {
			amax, maxv = a, v
		}
	}
	if amax == 0 {
		clear(q)
		return 0
	}
	iscale := -127 / maxv
	for j, v := range x {
		q[j] = int8(min(127, nearestInt(iscale*v)))
	}
	return 1 / iscale
}

// nearestInt rounds to nearest, ties to even, as ggml's nearest_int does by
// adding 1.5*2^23. Valid for |f| <= 2^22, which |iscale*x| <= 127 is.
func nearestInt(f float32) int32 {
	v := f + 12582912
	return int32(math.Float32bits(v)&0x007fffff) - 0x00400000
}
