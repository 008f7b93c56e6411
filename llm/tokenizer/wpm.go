package tokenizer

// encodeWPM is llama.cpp's WordPiece: normalise and split into words, then
// cover each "▁"-prefixed word greedily with the longest vocabulary matches;
// a word that cannot be fully covered becomes UNK.
func (t *Tokenizer) encodeWPM(text string, out []int32) []int32 {
	for _, word := range t.wpmWords(text) {
		w := "▁" + word
		before := len(out)
		for i := 0; i < len(w); i++ {
			matched := false
			for j := min(len(w), i+t.maxTokenLen+1); j > i; j-- {
				if id, ok := t.ids[w[i:j]]; ok {
					out = append(out, id)
					matched = true
					i = j - 1
					break
				}
			}
			if !matched {
				out = out[:before]
				break
			}
		}
		if len(out) == before && t.v.UNK != NoToken {
			out = append(out, t.v.UNK)
		}
	}
	return out
}

// wpmWords is llama.cpp's WordPiece preprocess: split on whitespace, drop
// control characters, optionally lower-case and strip accents, and make
// each punctuation mark, ASCII symbol and CJK ideograph a word of its own.
func (t *Tokenizer) wpmWords(text string) []string {
	var words []string
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	for i := 0; i < len(text); {
		r, n := decodeCpt(text, i)
		i += n
		if t.v.StripAccents {
			r = nfdFirst(r)
		}
		f := flagsOf(r)
		if f.is(flagWhitespace) {
			flush()
			continue
		}
		if r == 0 || r == 0xFFFD || f.is(flagControl) {
			continue
		}
		if t.v.StripAccents && f.is(flagMark) {
			continue
		}
		if t.v.Lowercase {
			r = lowerCpt(r)
		}
		if f.is(flagPunct) || (r < 0x7F && f.is(flagSymbol)) || isChineseChar(r) {
			flush()
			words = append(words, string(appendCpt(nil, r)))
			continue
		}
		cur = appendCpt(cur, r)
	}
	flush()
	return words
}

// isChineseChar is the CJK test of BERT's tokenizer (with HF's 0x2B920 quirk).
func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}
