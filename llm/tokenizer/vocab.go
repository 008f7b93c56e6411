package tokenizer

import (
	"errors"
	"unicode"
)

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrVocab is wrapped by every error about an unusable vocabulary.
	ErrVocab = errors.New("tokenizer: invalid vocabulary")
	// ErrTokenID is wrapped when a token id is outside the vocabulary.
	ErrTokenID = errors.New("tokenizer: token id out of range")
	// ErrNoToken is wrapped when an operation needs a special token (BOS,
	// EOS, SEP, a byte token) that the vocabulary does not define.
	ErrNoToken = errors.New("tokenizer: required token not in vocabulary")
)

// NoToken marks an unset special-token id.
const NoToken int32 = -1

// TokenType is a token's type as stored in tokenizer.ggml.token_type.
type TokenType int32

// Token types, numbered as in GGUF (and SentencePiece).
const (
	TypeUndefined   TokenType = 0
	TypeNormal      TokenType = 1
	TypeUnknown     TokenType = 2
	TypeControl     TokenType = 3
	TypeUserDefined TokenType = 4
	TypeUnused      TokenType = 5
	TypeByte        TokenType = 6
)

// Model names, the values of tokenizer.ggml.model this package implements.
const (
	ModelSPM = "llama" // SentencePiece BPE with byte fallback
	ModelBPE = "gpt2"  // byte-level BPE
	ModelWPM = "bert"  // WordPiece
)

// Vocab is everything a Tokenizer is built from: the token list and the
// settings llama.cpp reads from GGUF metadata. FromGGUF fills it with
// llama.cpp's defaults; code that builds one by hand sets every field it
// needs (ids that are absent must be NoToken).
type Vocab struct {
	Model  string      // ModelSPM, ModelBPE or ModelWPM
	Pre    string      // BPE pre-tokenizer name (tokenizer.ggml.pre); "" means "default"
	Name   string      // general.name; llama.cpp keys a few token attributes on it
	Tokens []string    // token texts, indexed by id
	Scores []float32   // SPM merge scores (optional for other models)
	Types  []TokenType // token types (absent means all TypeNormal)
	Merges []string    // BPE merges "left right", highest priority first

	// Special token ids, NoToken when absent.
	BOS, EOS, EOT, EOM, UNK, SEP, PAD, Mask int32

	AddBOS         bool // Encode with AddSpecial prepends BOS
	AddEOS         bool // Encode with AddSpecial appends EOS
	AddSpacePrefix bool // SPM: prepend a space to text that follows BOS/special tokens or starts the input
	CleanSpaces    bool // Decode removes spaces before punctuation, as llama.cpp's clean_spaces
	IgnoreMerges   bool // BPE: a pre-token that is already in the vocabulary is emitted whole
	Lowercase      bool // WPM: lower-case the input
	StripAccents   bool // WPM: NFD-decompose and drop combining marks
}

// Token attribute bits, as llama.cpp's llama_token_attr.
type attr uint16

const (
	attrUnknown attr = 1 << iota
	attrUnused
	attrNormal
	attrControl
	attrUserDefined
	attrByte
	attrNormalized
	attrLStrip
	attrRStrip
)

func typeAttr(t TokenType) attr {
	switch t {
	case TypeUnknown:
		return attrUnknown
	case TypeUnused:
		return attrUnused
	case TypeNormal:
		return attrNormal
	case TypeControl:
		return attrControl
	case TypeUserDefined:
		return attrUserDefined
	case TypeByte:
		return attrByte
	}
	return 0
}

func toLower(r rune) rune { return unicode.ToLower(r) }

// eotTexts are the token texts llama.cpp recognises as end-of-turn when no
// EOT id is given; eogTexts additionally end generation.
var (
	eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>"}
	eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>"}
)

// byteToUnicode is GPT-2's reversible byte -> codepoint map: printable
// Latin-1 bytes map to themselves, the rest to U+0100 upwards in byte order.
var byteToUnicode, unicodeToByte = func() (b2u [256]rune, u2b map[rune]byte) {
	u2b = make(map[rune]byte, 256)
	n := 0
	for c := 0; c < 256; c++ {
		if (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF) {
			b2u[c] = rune(c)
		} else {
			b2u[c] = rune(256 + n)
			n++
		}
		u2b[b2u[c]] = byte(c)
	}
	return b2u, u2b
}()

// byteEncoded holds the UTF-8 of byteToUnicode for each byte.
var byteEncoded = func() (t [256]string) {
	for c := range t {
		t[c] = string(byteToUnicode[c])
	}
	return t
}()
