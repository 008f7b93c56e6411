package tokenizer

import "fmt"

// symbol is one piece of the text being merged: bytes [start, start+n) and
// its neighbours in the linked list (-1 at the ends). n == 0 marks a symbol
// merged into its left neighbour.
type symbol struct {
	prev, next int32
	start, n   int32
}

// bigram is a candidate merge of two adjacent symbols. For SPM, score orders
// it (higher first); for BPE, rank does (lower first). Ties go to the
// leftmost pair, as in llama.cpp's priority queues.
type bigram struct {
	left, right int32
	size        int32
	score       float32
	rank        int32
}

// session holds per-call scratch buffers, pooled by the Tokenizer.
type session struct {
	syms  []symbol
	heap  []bigram
	key   []byte
	word  []byte
	split splitScratch
}

// bigramHeap is a binary heap ordered by less.
type bigramHeap struct {
	h    []bigram
	less func(a, b *bigram) bool
}

func (q *bigramHeap) push(b bigram) {
	q.h = append(q.h, b)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(&q.h[i], &q.h[p]) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *bigramHeap) pop() bigram {
	top := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h = q.h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(q.h) {
			break
		}
		m := l
		if r := l + 1; r < len(q.h) && q.less(&q.h[r], &q.h[l]) {
			m = r
		}
		if !q.less(&q.h[m], &q.h[i]) {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}

func spmLess(a, b *bigram) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

func bpeLess(a, b *bigram) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
}

// encodeSPM is llama.cpp's SentencePiece tokenizer: start from single UTF-8
// characters, repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring token, then emit each symbol as a token or, failing that,
// as byte tokens.
func (t *Tokenizer) encodeSPM(s *session, text string, out []int32) ([]int32, error) {
	syms := s.syms[:0]
	for off := 0; off < len(text); {
		n := min(utf8Len(text[off]), len(text)-off)
		idx := int32(len(syms))
		next := idx + 1
		if off+n == len(text) {
			next = -1
		}
		syms = append(syms, symbol{prev: idx - 1, next: next, start: int32(off), n: int32(n)})
		off += n
	}
	q := bigramHeap{h: s.heap[:0], less: spmLess}
	tryAdd := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		a, b := &syms[l], &syms[r]
		id, ok := t.ids[text[a.start:b.start+b.n]]
		if !ok {
			return
		}
		score := float32(0)
		if t.v.Scores != nil {
			score = t.v.Scores[id]
		}
		q.push(bigram{left: l, right: r, size: a.n + b.n, score: score})
	}
	for i := 1; i < len(syms); i++ {
		tryAdd(int32(i-1), int32(i))
	}
	for len(q.h) > 0 {
		bg := q.pop()
		l, r := &syms[bg.left], &syms[bg.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != bg.size {
			continue // stale: one side was merged since
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = bg.left
		}
		tryAdd(l.prev, bg.left)
		tryAdd(bg.left, l.next)
	}
	for i := int32(0); len(syms) > 0 && i != -1; i = syms[i].next {
		sym := syms[i]
		piece := text[sym.start : sym.start+sym.n]
		if id, ok := t.ids[piece]; ok {
			out = append(out, id)
			continue
		}
		// llama.cpp's resegment would also look the piece up among past
		// merges, but every merged piece is a token, so only single
		// characters get here: emit their bytes.
		for j := 0; j < len(piece); j++ {
			id := t.byteTok[piece[j]]
			if id == NoToken {
				id = t.v.UNK
			}
			if id == NoToken {
				return nil, fmt.Errorf("%w: no byte token for 0x%02X and no UNK", ErrNoToken, piece[j])
			}
			out = append(out, id)
		}
	}
	s.syms, s.heap = syms, q.h
	return out, nil
}
