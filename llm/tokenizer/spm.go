package tokenizer

import (
	"fmt"
	"math"
)

// symbol is one piece of the text being merged: bytes [start, start+n) and
// its neighbours in the linked list (-1 at the ends). n == 0 marks a symbol
// merged into its left neighbour.
type symbol struct {
	prev, next int32
	start, n   int32
}

// bigram is a candidate merge of two adjacent symbols. key orders the queue
// (smallest first): for SPM the score, highest first, for BPE the merge rank,
// lowest first; ties go to the leftmost pair, as in llama.cpp's priority
// queues. Packing both into one integer keeps the heap comparisons cheap.
type bigram struct {
	key         uint64
	left, right int32
	size        int32
}

// spmKey orders by descending score, then ascending left index.
func spmKey(score float32, left int32) uint64 {
	if score == 0 {
		score = 0 // -0 and +0 compare equal in llama.cpp's float comparison
	}
	b := math.Float32bits(score)
	if b&0x80000000 != 0 {
		b = ^b
	} else {
		b |= 0x80000000
	}
	// b now increases with score; invert it so higher scores come first.
	return uint64(^b)<<32 | uint64(uint32(left))
}

// bpeKey orders by ascending rank, then ascending left index.
func bpeKey(rank, left int32) uint64 {
	return uint64(uint32(rank))<<32 | uint64(uint32(left))
}

// session holds per-call scratch buffers, pooled by the Tokenizer.
type session struct {
	syms  []symbol
	heap  bigramHeap
	key   []byte
	word  []byte
	split splitScratch
}

// bigramHeap is a binary min-heap on bigram.key.
type bigramHeap []bigram

func (q *bigramHeap) push(b bigram) {
	h := append(*q, b)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].key <= h[i].key {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*q = h
}

func (q *bigramHeap) pop() bigram {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h[r].key < h[l].key {
			m = r
		}
		if h[i].key <= h[m].key {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// encodeSPM is llama.cpp's SentencePiece tokenizer: start from single UTF-8
// characters, repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring token, then emit each symbol as a token or, failing that,
// as byte tokens.
func (t *Tokenizer) encodeSPM(s *session, text string, out []int32) ([]int32, error) {
	// No merge can join two characters that are never adjacent inside a
	// token, so the text splits there into runs that merge independently
	// (the queue order within each run is unchanged). Splitting before
	// "▁" where allowed keeps the heaps small on long inputs.
	start, prev := 0, ""
	for off := 0; off < len(text); {
		n := min(utf8Len(text[off]), len(text)-off)
		c := text[off : off+n]
		if c == "▁" && off > start && !t.spaceJoin[prev] {
			var err error
			if out, err = t.encodeSPMRun(s, text[start:off], out); err != nil {
				return nil, err
			}
			start = off
		}
		prev = c
		off += n
	}
	return t.encodeSPMRun(s, text[start:], out)
}

// spaceJoins returns the characters that precede "▁" inside some token:
// the only places where encodeSPM may not split before a "▁".
func spaceJoins(tokens []string) map[string]bool {
	m := map[string]bool{}
	for _, tok := range tokens {
		prev := ""
		for off := 0; off < len(tok); {
			n := min(utf8Len(tok[off]), len(tok)-off)
			c := tok[off : off+n]
			if c == "▁" && prev != "" {
				m[prev] = true
			}
			prev = c
			off += n
		}
	}
	return m
}

// encodeSPMRun runs the merge loop on one run of text.
func (t *Tokenizer) encodeSPMRun(s *session, text string, out []int32) ([]int32, error) {
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
	q := s.heap[:0]
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
		q.push(bigram{key: spmKey(score, l), left: l, right: r, size: a.n + b.n})
	}
	for i := 1; i < len(syms); i++ {
		tryAdd(int32(i-1), int32(i))
	}
	for len(q) > 0 {
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
	s.syms, s.heap = syms, q
	return out, nil
}
