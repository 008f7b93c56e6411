package tokenizer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Tokenizer converts between text and token ids exactly as llama.cpp does for
// the same vocabulary. It is safe for concurrent use.
type Tokenizer struct {
	v      Vocab
	ids    map[string]int32
	attrs  []attr
	pieces []string // decoded piece of every token, as if rendering specials
	eog    map[int32]bool

	special []int32 // CONTROL, USER_DEFINED and UNKNOWN tokens, longest first

	// SPM
	byteTok   [256]int32      // <0xNN> (or the raw byte) token per byte, NoToken if none
	spaceJoin map[string]bool // characters that precede "▁" inside a token

	// BPE
	ranks map[string]int32 // "left right" -> merge rank
	split *splitter

	// WPM
	maxTokenLen int

	scratch sync.Pool
}

// EncodeFlags select optional Encode behaviour.
type EncodeFlags uint8

const (
	// AddSpecial adds the tokens the vocabulary asks for around the text
	// (BOS and/or EOS; CLS and SEP for WordPiece).
	AddSpecial EncodeFlags = 1 << iota
	// ParseSpecial matches CONTROL (and UNKNOWN) token texts in the input,
	// e.g. "<|im_start|>", and emits their ids. USER_DEFINED tokens are
	// always matched, as in llama.cpp.
	ParseSpecial
)

// New checks v and builds a Tokenizer from it. It copies what it keeps, so v
// may be changed or reused afterwards.
func New(v *Vocab) (*Tokenizer, error) {
	if v == nil || len(v.Tokens) == 0 {
		return nil, fmt.Errorf("%w: no tokens", ErrVocab)
	}
	n := len(v.Tokens)
	if n > 1<<31-1 {
		return nil, fmt.Errorf("%w: %d tokens", ErrVocab, n)
	}
	if v.Scores != nil && len(v.Scores) < n {
		return nil, fmt.Errorf("%w: %d scores for %d tokens", ErrVocab, len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) < n {
		return nil, fmt.Errorf("%w: %d token types for %d tokens", ErrVocab, len(v.Types), n)
	}
	t := &Tokenizer{v: *v, ids: make(map[string]int32, n), attrs: make([]attr, n), eog: map[int32]bool{}}
	t.v.Tokens = append([]string(nil), v.Tokens...)
	t.v.Scores = append([]float32(nil), v.Scores...)
	t.v.Types = append([]TokenType(nil), v.Types...)
	t.v.Merges = append([]string(nil), v.Merges...)
	if v.Scores == nil {
		t.v.Scores = nil
	}
	if v.Types == nil {
		t.v.Types = nil
	}
	for i, s := range t.v.Tokens {
		if s == "" {
			// llama.cpp renames empty tokens so they stay unique.
			s = "[EMPTY_" + strconv.Itoa(i) + "]"
			t.v.Tokens[i] = s
		}
		if _, dup := t.ids[s]; dup {
			return nil, fmt.Errorf("%w: duplicate token %q (ids %d and %d)", ErrVocab, s, t.ids[s], i)
		}
		t.ids[s] = int32(i)
		t.maxTokenLen = max(t.maxTokenLen, len(s))
		t.attrs[i] = attrNormal
		if v.Types != nil {
			t.attrs[i] = typeAttr(v.Types[i])
		}
	}
	for _, p := range []*int32{&t.v.BOS, &t.v.EOS, &t.v.EOT, &t.v.EOM, &t.v.UNK, &t.v.SEP, &t.v.PAD, &t.v.Mask} {
		if *p < NoToken || *p >= int32(n) {
			return nil, fmt.Errorf("%w: special token id %d outside vocabulary of %d", ErrVocab, *p, n)
		}
	}

	switch v.Model {
	case ModelSPM:
		t.spaceJoin = spaceJoins(t.v.Tokens)
		for b := range t.byteTok {
			t.byteTok[b] = NoToken
			if id, ok := t.ids[fmt.Sprintf("<0x%02X>", b)]; ok {
				t.byteTok[b] = id
			} else if id, ok := t.ids[string([]byte{byte(b)})]; ok {
				t.byteTok[b] = id
			}
		}
	case ModelBPE:
		pre := v.Pre
		if pre == "" {
			pre = "default"
		}
		spec, ok := preSpecs[pre]
		if !ok {
			return nil, fmt.Errorf("%w: unknown pre-tokenizer %q", ErrVocab, v.Pre)
		}
		sp, err := compileSplitter(spec.exprs)
		if err != nil {
			return nil, err
		}
		t.split = sp
		t.ranks = make(map[string]int32, len(v.Merges))
		for i, m := range v.Merges {
			if _, dup := t.ranks[m]; !dup && strings.IndexByte(m[min(1, len(m)):], ' ') >= 0 {
				t.ranks[m] = int32(i)
			}
		}
	case ModelWPM:
	default:
		return nil, fmt.Errorf("%w: unsupported tokenizer model %q", ErrVocab, v.Model)
	}

	t.markSpecialTexts()

	for id, a := range t.attrs {
		if a&(attrControl|attrUserDefined|attrUnknown) != 0 {
			t.special = append(t.special, int32(id))
		}
	}
	sort.SliceStable(t.special, func(i, j int) bool {
		return len(t.v.Tokens[t.special[i]]) > len(t.v.Tokens[t.special[j]])
	})

	// llama.cpp marks every special token of Phi-3 models RSTRIP (it eats
	// the whitespace after it), except a few, keyed on the model name.
	if name := strings.ToLower(v.Name); strings.Contains(name, "phi-3") || strings.Contains(name, "phi3") {
		for _, id := range t.special {
			t.attrs[id] |= attrRStrip
		}
		if id, ok := t.ids["</s>"]; ok {
			t.attrs[id] |= attrRStrip
		}
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			if id, ok := t.ids[s]; ok {
				t.attrs[id] &^= attrRStrip
			}
		}
	}

	t.pieces = make([]string, n)
	for id := range t.pieces {
		t.pieces[id] = t.renderPiece(int32(id))
	}
	t.scratch.New = func() any { return new(session) }
	return t, nil
}

// markSpecialTexts applies llama.cpp's text-based detection: a missing EOT id
// is found by its text, such tokens are forced to CONTROL, and the set of
// end-of-generation tokens is built.
func (t *Tokenizer) markSpecialTexts() {
	if t.v.EOT == NoToken {
		for _, s := range eotTexts {
			if id, ok := t.ids[s]; ok {
				t.v.EOT = id
				t.attrs[id] |= attrControl
				break
			}
		}
	}
	if t.v.EOM == NoToken {
		if id, ok := t.ids["<|eom_id|>"]; ok {
			t.v.EOM = id
			t.attrs[id] |= attrControl
		}
	}
	for _, s := range eogTexts {
		if id, ok := t.ids[s]; ok {
			t.eog[id] = true
			t.attrs[id] |= attrControl
		}
	}
	for _, id := range []int32{t.v.EOS, t.v.EOT, t.v.EOM} {
		if id != NoToken {
			t.eog[id] = true
		}
	}
}

// Vocab returns a copy of the settings the Tokenizer was built with (after
// llama.cpp's text-based EOT detection). Its slices are shared: do not
// modify them.
func (t *Tokenizer) Vocab() Vocab { return t.v }

// Len returns the number of tokens in the vocabulary.
func (t *Tokenizer) Len() int { return len(t.v.Tokens) }

// BOS returns the beginning-of-sequence id, or NoToken.
func (t *Tokenizer) BOS() int32 { return t.v.BOS }

// EOS returns the end-of-sequence id, or NoToken.
func (t *Tokenizer) EOS() int32 { return t.v.EOS }

// IsEOG reports whether id ends generation (EOS, EOT, EOM and the
// end-of-turn tokens llama.cpp recognises by their text).
func (t *Tokenizer) IsEOG(id int32) bool { return t.eog[id] }

// Text returns the raw vocabulary text of id (e.g. "▁Hello", "<0x0A>", "Ġworld").
func (t *Tokenizer) Text(id int32) (string, error) {
	if err := t.check(id); err != nil {
		return "", err
	}
	return t.v.Tokens[id], nil
}

// Type returns the stored type of id.
func (t *Tokenizer) Type(id int32) (TokenType, error) {
	if err := t.check(id); err != nil {
		return 0, err
	}
	if t.v.Types == nil {
		return TypeNormal, nil
	}
	return t.v.Types[id], nil
}

// ID returns the id whose vocabulary text is exactly s.
func (t *Tokenizer) ID(s string) (int32, bool) {
	id, ok := t.ids[s]
	return id, ok
}

func (t *Tokenizer) check(id int32) error {
	if id < 0 || int(id) >= len(t.v.Tokens) {
		return fmt.Errorf("%w: %d (vocabulary has %d tokens)", ErrTokenID, id, len(t.v.Tokens))
	}
	return nil
}

// fragment is a piece of input: raw text, or a token matched by text.
type fragment struct {
	text string
	id   int32 // NoToken for raw text
}

// isCSpace is C's isspace in the "C" locale.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// partition splits text around special-token texts, longest tokens first,
// as llama.cpp's tokenizer_st_partition.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	frags := []fragment{{text: text, id: NoToken}}
	var next []fragment
	for _, id := range t.special {
		a := t.attrs[id]
		if !parseSpecial && a&(attrControl|attrUnknown) != 0 {
			continue
		}
		tok := t.v.Tokens[id]
		found := false
		for _, f := range frags {
			if f.id == NoToken && strings.Contains(f.text, tok) {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		next = next[:0]
		for _, f := range frags {
			if f.id != NoToken {
				next = append(next, f)
				continue
			}
			s := f.text
			for {
				i := strings.Index(s, tok)
				if i < 0 {
					if s != "" {
						next = append(next, fragment{text: s, id: NoToken})
					}
					break
				}
				left := s[:i]
				if a&attrLStrip != 0 {
					for len(left) > 0 && isCSpace(left[len(left)-1]) {
						left = left[:len(left)-1]
					}
				}
				if left != "" {
					next = append(next, fragment{text: left, id: NoToken})
				}
				next = append(next, fragment{id: id})
				s = s[i+len(tok):]
				if a&attrRStrip != 0 {
					for len(s) > 0 && isCSpace(s[0]) {
						s = s[1:]
					}
				}
			}
		}
		frags, next = next, frags
	}
	return frags
}

// Encode converts text to token ids. With AddSpecial it adds BOS/EOS as the
// vocabulary asks; with ParseSpecial it recognises control-token texts.
// Invalid UTF-8 is accepted and tokenized as llama.cpp does.
func (t *Tokenizer) Encode(text string, flags EncodeFlags) ([]int32, error) {
	addSpecial := flags&AddSpecial != 0
	var frags []fragment
	if text != "" {
		frags = t.partition(text, flags&ParseSpecial != 0)
	}
	out := make([]int32, 0, len(text)/3+2)
	s := t.scratch.Get().(*session)
	defer t.scratch.Put(s)

	switch t.v.Model {
	case ModelSPM:
		if addSpecial && t.v.AddBOS {
			if t.v.BOS == NoToken {
				return nil, fmt.Errorf("%w: BOS", ErrNoToken)
			}
			out = append(out, t.v.BOS)
		}
		prevSpecial := true
		for _, f := range frags {
			if f.id != NoToken {
				out = append(out, f.id)
				prevSpecial = true
				continue
			}
			txt := f.text
			if t.v.AddSpacePrefix && prevSpecial {
				txt = " " + txt
			}
			var err error
			out, err = t.encodeSPM(s, strings.ReplaceAll(txt, " ", "▁"), out)
			if err != nil {
				return nil, err
			}
			prevSpecial = false
		}
		if addSpecial && t.v.AddEOS {
			if t.v.EOS == NoToken {
				return nil, fmt.Errorf("%w: EOS", ErrNoToken)
			}
			out = append(out, t.v.EOS)
		}
	case ModelBPE:
		if addSpecial && t.v.AddBOS {
			if t.v.BOS == NoToken {
				return nil, fmt.Errorf("%w: BOS", ErrNoToken)
			}
			out = append(out, t.v.BOS)
		}
		for _, f := range frags {
			if f.id != NoToken {
				out = append(out, f.id)
				continue
			}
			var err error
			out, err = t.encodeBPE(s, f.text, out)
			if err != nil {
				return nil, err
			}
		}
		if addSpecial && t.v.AddEOS {
			if t.v.EOS == NoToken {
				return nil, fmt.Errorf("%w: EOS", ErrNoToken)
			}
			out = append(out, t.v.EOS)
		}
	case ModelWPM:
		if addSpecial {
			if t.v.BOS == NoToken {
				return nil, fmt.Errorf("%w: CLS/BOS", ErrNoToken)
			}
			out = append(out, t.v.BOS)
		}
		for _, f := range frags {
			if f.id != NoToken {
				out = append(out, f.id)
				continue
			}
			out = t.encodeWPM(f.text, out)
		}
		if addSpecial {
			if t.v.SEP == NoToken {
				return nil, fmt.Errorf("%w: SEP", ErrNoToken)
			}
			out = append(out, t.v.SEP)
		}
	}
	return out, nil
}

// renderPiece is llama.cpp's token_to_piece with special = true and no
// lstrip: the bytes a token stands for.
func (t *Tokenizer) renderPiece(id int32) string {
	a := t.attrs[id]
	text := t.v.Tokens[id]
	switch {
	case a&(attrUnknown|attrControl|attrUserDefined) != 0:
		return text
	case a&attrNormal != 0:
		if t.v.Model == ModelBPE {
			return decodeByteLevel(text)
		}
		return strings.ReplaceAll(text, "▁", " ")
	case a&attrByte != 0:
		if t.v.Model == ModelWPM {
			return ""
		}
		return string([]byte{hexByte(text)})
	}
	return ""
}

// hexByte parses the "NN" of "<0xNN>" like strtol: stops at the first
// non-hex digit, 0 if none.
func hexByte(text string) byte {
	if len(text) < 4 {
		return 0
	}
	s := text[3:min(5, len(text))]
	var v byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return v
		}
	}
	return v
}

// decodeByteLevel maps a GPT-2 byte-level token text back to bytes; a
// codepoint outside the map is written as llama.cpp does,
// "[UNK_BYTE_0x<hex>" + text + "]".
func decodeByteLevel(text string) string {
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); {
		r, n := decodeCpt(text, i)
		i += n
		if b, ok := unicodeToByte[r]; ok {
			out = append(out, b)
			continue
		}
		out = append(out, "[UNK_BYTE_0x"...)
		for _, c := range appendCpt(nil, r) {
			out = append(out, fmt.Sprintf("%02x", c)...)
		}
		out = append(out, text...)
		out = append(out, ']')
	}
	return string(out)
}

// piece is token_to_piece: special selects whether CONTROL and UNKNOWN
// tokens render; lstrip drops one leading space.
func (t *Tokenizer) piece(id int32, lstrip, special bool) string {
	if !special && t.attrs[id]&(attrUnknown|attrControl) != 0 {
		return ""
	}
	p := t.pieces[id]
	if lstrip && len(p) > 0 && p[0] == ' ' {
		p = p[1:]
	}
	return p
}

// Piece returns the text one token stands for on its own, as llama.cpp's
// token_to_piece without special rendering: CONTROL and UNKNOWN tokens give
// "", byte tokens give their raw byte (which may be part of a UTF-8
// sequence).
func (t *Tokenizer) Piece(id int32) (string, error) {
	if err := t.check(id); err != nil {
		return "", err
	}
	return t.piece(id, false, false), nil
}

// DecodeOptions tune Decode.
type DecodeOptions struct {
	// RemoveSpecial drops a leading BOS and trailing EOS when the
	// vocabulary adds them.
	RemoveSpecial bool
	// RenderSpecial writes CONTROL and UNKNOWN tokens as their text instead
	// of dropping them.
	RenderSpecial bool
}

// Decode converts ids back to text as llama.cpp's detokenize with default
// options: CONTROL tokens are dropped, BPE/WordPiece vocabularies clean
// spaces before punctuation, and with SentencePiece's add_space_prefix the
// first token loses one leading space. As in llama.cpp that first token may
// be BOS, in which case the space after it stays ("▁Hello" after BOS decodes
// to " Hello"). The result may hold invalid UTF-8 when ids end inside a
// character.
func (t *Tokenizer) Decode(ids []int32) (string, error) {
	return t.DecodeWith(ids, DecodeOptions{})
}

// DecodeWith is Decode with options.
func (t *Tokenizer) DecodeWith(ids []int32, o DecodeOptions) (string, error) {
	for _, id := range ids {
		if err := t.check(id); err != nil {
			return "", err
		}
	}
	removeSpace := t.v.AddSpacePrefix
	if o.RemoveSpecial && t.v.AddBOS && len(ids) > 0 && ids[0] == t.v.BOS {
		removeSpace = false
		ids = ids[1:]
	}
	if o.RemoveSpecial && t.v.AddEOS && len(ids) > 0 && ids[len(ids)-1] == t.v.EOS {
		ids = ids[:len(ids)-1]
	}
	var b []byte
	for _, id := range ids {
		b = append(b, t.piece(id, removeSpace, o.RenderSpecial)...)
		removeSpace = false
	}
	if t.v.CleanSpaces {
		b = cleanSpaces(b)
	}
	return string(b), nil
}

// cleanSpaces is llama.cpp's three clean_spaces passes: drop the space
// before ? ! . , ; turn " ' " into "'"; drop the space before 's 'm 're 've.
func cleanSpaces(text []byte) []byte {
	if len(text) == 0 {
		return text
	}
	// pass 1: " ?", " !", " .", " ,"
	n := 1
	for i := 1; i < len(text); i++ {
		x := text[i]
		if text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			n--
		}
		text[n] = x
		n++
	}
	text = text[:n]
	// pass 2: " ' " -> "'"
	n = 1
	for i := 1; i < len(text); i++ {
		x := text[i]
		if x == '\'' && i+1 < len(text) && text[i-1] == ' ' && text[i+1] == ' ' {
			n--
			// The NUL left over the skipped space keeps the next
			// character from seeing a space before it, as in llama.cpp.
			i++
			text[i] = 0
		}
		text[n] = x
		n++
	}
	text = text[:n]
	// pass 3: " 's", " 'm", " 're", " 've"
	n = 1
	for i := 1; i < len(text); i++ {
		x := text[i]
		if text[i-1] == ' ' && x == '\'' && i+1 < len(text) {
			x1 := text[i+1]
			switch {
			case x1 == 's' || x1 == 'm':
				n--
			case x1 == 't' || x1 == 'd':
			case i+2 < len(text):
				x2 := text[i+2]
				if (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					n--
				}
			}
		}
		text[n] = x
		n++
	}
	return text[:n]
}
