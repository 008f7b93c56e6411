package tokenizer

// encodeBPE is llama.cpp's byte-level BPE: pre-tokenize, map each piece's
// bytes through the GPT-2 byte map, then merge adjacent symbols by merge rank
// (lowest first) and emit the resulting tokens.
func (t *Tokenizer) encodeBPE(s *session, text string, out []int32) ([]int32, error) {
	sc := &s.split
	sc.cpts = cptsFromUTF8(text, sc.cpts)
	offs, err := t.split.split(sc)
	if err != nil {
		return nil, err
	}
	start := 0
	for _, n := range offs {
		// Rebuild the piece from codepoints (invalid input became U+FFFD),
		// then byte-encode it.
		w := s.word[:0]
		var tmp [4]byte
		for _, r := range sc.cpts[start : start+n] {
			for _, c := range appendCpt(tmp[:0], r) {
				w = append(w, byteEncoded[c]...)
			}
		}
		start += n
		s.word = w
		out = t.bpeWord(s, string(w), out)
	}
	return out, nil
}

// bpeWord merges one byte-encoded pre-token.
func (t *Tokenizer) bpeWord(s *session, word string, out []int32) []int32 {
	if word == "" {
		return out
	}
	syms := s.syms[:0]
	if t.v.IgnoreMerges {
		if id, ok := t.ids[word]; ok {
			return append(out, id)
		}
	}
	for off := 0; off < len(word); {
		n := min(utf8Len(word[off]), len(word)-off)
		idx := int32(len(syms))
		next := idx + 1
		if off+n == len(word) {
			next = -1
		}
		syms = append(syms, symbol{prev: idx - 1, next: next, start: int32(off), n: int32(n)})
		off += n
	}
	q := s.heap[:0]
	key := s.key
	tryAdd := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		a, b := &syms[l], &syms[r]
		key = append(key[:0], word[a.start:a.start+a.n]...)
		key = append(key, ' ')
		key = append(key, word[b.start:b.start+b.n]...)
		rank, ok := t.ranks[string(key)]
		if !ok {
			return
		}
		q.push(bigram{key: bpeKey(rank, l), left: l, right: r, size: a.n + b.n})
	}
	for i := 1; i < len(syms); i++ {
		tryAdd(int32(i-1), int32(i))
	}
	for len(q) > 0 {
		bg := q.pop()
		l, r := &syms[bg.left], &syms[bg.right]
		// Symbols only grow, so a size mismatch is exactly llama.cpp's
		// "text changed since queued" test.
		if l.n == 0 || r.n == 0 || l.n+r.n != bg.size {
			continue
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
	for i := int32(0); i != -1; i = syms[i].next {
		sym := syms[i]
		piece := word[sym.start : sym.start+sym.n]
		if id, ok := t.ids[piece]; ok {
			out = append(out, id)
			continue
		}
		// Not a token: llama.cpp looks up each byte of the piece as a
		// one-byte token and drops those it cannot find.
		for j := 0; j < len(piece); j++ {
			if id, ok := t.ids[piece[j:j+1]]; ok {
				out = append(out, id)
			}
		}
	}
	s.syms, s.heap, s.key = syms, q, key
	return out
}
