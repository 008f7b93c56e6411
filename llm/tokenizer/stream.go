package tokenizer

import "unicode/utf8"

// StreamDecoder decodes generated tokens one at a time. It returns text as
// soon as it forms complete UTF-8 and holds back the bytes of a character
// split across byte tokens until the rest arrives. Like Decode it drops
// CONTROL tokens and SentencePiece's leading space on the first token; it
// does not apply Decode's clean-spaces pass, which needs lookahead.
//
// A StreamDecoder is not safe for concurrent use.
type StreamDecoder struct {
	t           *Tokenizer
	pending     []byte
	removeSpace bool
	special     bool
}

// NewStreamDecoder returns a decoder for a new sequence.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t, removeSpace: t.v.AddSpacePrefix}
}

// RenderSpecial makes the decoder write CONTROL tokens as their text.
func (d *StreamDecoder) RenderSpecial(on bool) { d.special = on }

// Next adds one token and returns the text that is now complete, possibly "".
func (d *StreamDecoder) Next(id int32) (string, error) {
	if err := d.t.check(id); err != nil {
		return "", err
	}
	d.pending = append(d.pending, d.t.piece(id, d.removeSpace, d.special)...)
	d.removeSpace = false
	n := completePrefix(d.pending)
	out := string(d.pending[:n])
	d.pending = append(d.pending[:0], d.pending[n:]...)
	return out, nil
}

// Flush returns any held-back bytes (an incomplete character at the end of
// the sequence) and resets the decoder for a new sequence.
func (d *StreamDecoder) Flush() string {
	out := string(d.pending)
	d.pending = d.pending[:0]
	d.removeSpace = d.t.v.AddSpacePrefix
	return out
}

// completePrefix returns the length of b without a trailing incomplete UTF-8
// sequence: one that is a valid start of a character that more bytes could
// complete. Invalid bytes are not held back, since no later byte fixes them.
func completePrefix(b []byte) int {
	// A character is at most 4 bytes, so only the last 3 can be incomplete.
	for k := 1; k <= 3 && k <= len(b); k++ {
		i := len(b) - k
		c := b[i]
		if c < 0x80 {
			return len(b) // ASCII: nothing incomplete after it
		}
		if c < 0xC0 {
			continue // continuation byte; look further back for the lead
		}
		need := utf8Len(c)
		if need > k && utf8.FullRune(b[i:]) == false && validPrefix(b[i:]) {
			return i
		}
		return len(b)
	}
	return len(b)
}

// validPrefix reports whether p (a lead byte and continuation bytes) can
// still become a valid UTF-8 character.
func validPrefix(p []byte) bool {
	for _, c := range p[1:] {
		if c&0xC0 != 0x80 {
			return false
		}
	}
	// Pad with the smallest continuation bytes and check validity, which
	// rejects overlong and out-of-range leads.
	var buf [4]byte
	copy(buf[:], p)
	n := utf8Len(p[0])
	for i := len(p); i < n; i++ {
		buf[i] = 0x80
	}
	if ok := utf8.Valid(buf[:n]); ok {
		return true
	}
	// The minimum padding is not valid for some leads (E0, F0 need larger
	// second bytes), so try the largest too.
	for i := len(p); i < n; i++ {
		buf[i] = 0xBF
	}
	return utf8.Valid(buf[:n])
}
