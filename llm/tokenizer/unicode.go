package tokenizer

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// cptFlags mirrors llama.cpp's per-codepoint flags: one general-category bit
// plus the whitespace property. An out-of-range position is the zero value,
// which is why "in range" is tested as flags != 0.
type cptFlags uint16

const (
	flagUndefined  cptFlags = 1 << iota // Cn, or beyond U+10FFFF
	flagNumber                          // N
	flagLetter                          // L
	flagSeparator                       // Z
	flagMark                            // M
	flagPunct                           // P
	flagSymbol                          // S
	flagControl                         // Cc, Cf, Co, Cs
	flagWhitespace                      // White_Space property

	flagCategories = flagWhitespace - 1
)

// latin1Flags caches the flags of the first 256 codepoints, the hot range.
var latin1Flags = func() (t [256]cptFlags) {
	for r := range t {
		t[r] = computeFlags(rune(r))
	}
	return t
}()

// flagsOf returns the flags of codepoint r.
func flagsOf(r rune) cptFlags {
	if r >= 0 && r < 256 {
		return latin1Flags[r]
	}
	return computeFlags(r)
}

func computeFlags(r rune) cptFlags {
	if r < 0 || r > unicode.MaxRune {
		return flagUndefined
	}
	var f cptFlags
	switch {
	case unicode.IsLetter(r):
		f = flagLetter
	case unicode.IsNumber(r):
		f = flagNumber
	case unicode.IsMark(r):
		f = flagMark
	case unicode.IsPunct(r):
		f = flagPunct
	case unicode.IsSymbol(r):
		f = flagSymbol
	case unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp):
		f = flagSeparator
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs):
		f = flagControl
	default:
		f = flagUndefined
	}
	// Go's IsSpace is exactly the White_Space property llama.cpp uses.
	if unicode.IsSpace(r) {
		f |= flagWhitespace
	}
	return f
}

func (f cptFlags) is(g cptFlags) bool { return f&g != 0 }

// decodeCpt decodes one codepoint the way llama.cpp's unicode_cpt_from_utf8
// does: it checks lead and continuation bits only (no overlong or surrogate
// checks). An invalid sequence yields U+FFFD and consumes one byte. Sequences
// that decode beyond U+10FFFF are treated as invalid too (llama.cpp aborts on
// them later).
func decodeCpt(s string, i int) (rune, int) {
	c := s[i]
	if c < 0x80 {
		return rune(c), 1
	}
	cont := func(k int) bool { return i+k < len(s) && s[i+k]&0xC0 == 0x80 }
	switch {
	case c&0x40 == 0:
		return utf8.RuneError, 1
	case c&0x20 == 0:
		if !cont(1) {
			return utf8.RuneError, 1
		}
		return rune(c&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	case c&0x10 == 0:
		if !cont(1) || !cont(2) {
			return utf8.RuneError, 1
		}
		return rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	case c&0x08 == 0:
		if !cont(1) || !cont(2) || !cont(3) {
			return utf8.RuneError, 1
		}
		r := rune(c&0x07)<<18 | rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F)
		if r > unicode.MaxRune {
			return utf8.RuneError, 1
		}
		return r, 4
	}
	return utf8.RuneError, 1
}

// cptsFromUTF8 decodes s with decodeCpt.
func cptsFromUTF8(s string, dst []rune) []rune {
	dst = dst[:0]
	for i := 0; i < len(s); {
		r, n := decodeCpt(s, i)
		dst = append(dst, r)
		i += n
	}
	return dst
}

// appendCpt appends the UTF-8 encoding of r. Unlike utf8.AppendRune it
// encodes surrogates as-is, as llama.cpp does, so text round-trips.
func appendCpt(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xC0|byte(r>>6), 0x80|byte(r&0x3F))
	case r < 0x10000:
		return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
	default:
		return append(dst, 0xF0|byte(r>>18), 0x80|byte(r>>12&0x3F), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
	}
}

// utf8Len is llama.cpp's unicode_len_utf8: the sequence length implied by a
// lead byte, looked up from its high nibble (continuation bytes count as 1).
func utf8Len(c byte) int {
	switch c >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// nfdFirst returns the first codepoint of r's canonical decomposition, which
// is what llama.cpp's one-codepoint NFD table stores (so "ü" becomes "u" and
// the diaeresis is dropped).
func nfdFirst(r rune) rune {
	if r < 0xC0 {
		return r
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	if norm.NFD.IsNormal(buf[:n]) {
		return r
	}
	d := norm.NFD.Bytes(buf[:n])
	first, _ := utf8.DecodeRune(d)
	return first
}
