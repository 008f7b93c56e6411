package tokenizer

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// vectorVocabs are the vocabularies that have llama.cpp vectors here.
var vectorVocabs = []string{"ggml-vocab-llama-spm", "ggml-vocab-phi-3", "ggml-vocab-gpt-2", "ggml-vocab-mpt",
	"ggml-vocab-deepseek-coder", "ggml-vocab-deepseek-llm", "ggml-vocab-bert-bge"}

// TestRoundTrip checks that the bytes of the pieces of encode(s) give s back
// for every vector input, which holds for all but the lossy WordPiece (see
// the test-data README), and that Decode does so for SentencePiece, where
// llama.cpp's detokenizer removes exactly the prefix space it added.
func TestRoundTrip(t *testing.T) {
	for _, name := range vectorVocabs {
		if name == "ggml-vocab-bert-bge" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			tok := openTokenizer(t, "vocab/"+name+".gguf")
			for i, c := range readVectors(t, name) {
				ids, err := tok.Encode(c.input, 0)
				if err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				for _, id := range ids {
					p, err := tok.Piece(id)
					if err != nil {
						t.Fatal(err)
					}
					b.WriteString(p)
				}
				got := b.String()
				if tok.Vocab().AddSpacePrefix && c.input != "" {
					got = strings.TrimPrefix(got, " ")
				}
				if got != c.input {
					t.Errorf("case %d: pieces give %q, want %q", i, got, c.input)
				}
				if tok.Vocab().Model == ModelSPM {
					dec, err := tok.Decode(ids)
					if err != nil {
						t.Fatal(err)
					}
					if dec != c.input {
						t.Errorf("case %d: Decode = %q, want %q", i, dec, c.input)
					}
				}
			}
		})
	}
}

// TestModelFiles loads tokenizers from real model files and checks encodes
// whose ids follow from the vocabularies themselves.
func TestModelFiles(t *testing.T) {
	t.Run("stories260K", func(t *testing.T) {
		tok := openTokenizer(t, "models/stories260K.gguf")
		if tok.Len() != 512 {
			t.Fatalf("Len = %d, want 512", tok.Len())
		}
		// Every word of the phrase is a whole "▁word" token of this
		// SentencePiece BPE vocabulary (▁Once 403, ▁upon 407, ▁a 261,
		// ▁time 378), reachable by merges, so BOS + those four ids.
		want := []int32{1}
		for _, w := range []string{"▁Once", "▁upon", "▁a", "▁time"} {
			id, ok := tok.ID(w)
			if !ok {
				t.Fatalf("%q not in vocabulary", w)
			}
			want = append(want, id)
		}
		if !equalIDs(want, []int32{1, 403, 407, 261, 378}) {
			t.Fatalf("vocabulary ids changed: %v", want)
		}
		got, err := tok.Encode("Once upon a time", AddSpecial)
		if err != nil {
			t.Fatal(err)
		}
		if !equalIDs(got, want) {
			t.Errorf("Encode = %v, want %v", got, want)
		}
		// The padding and separator ids are 2^32-1 in this file: ignored.
		if v := tok.Vocab(); v.PAD != NoToken || v.SEP != NoToken {
			t.Errorf("PAD, SEP = %d, %d, want NoToken", v.PAD, v.SEP)
		}
		// As in llama.cpp, only a sequence that does not start with BOS
		// loses the prefix space: with BOS (kept or removed) it stays.
		for _, c := range []struct {
			ids  []int32
			o    DecodeOptions
			want string
		}{
			{got, DecodeOptions{}, " Once upon a time"},
			{got, DecodeOptions{RemoveSpecial: true}, " Once upon a time"},
			{got[1:], DecodeOptions{}, "Once upon a time"},
		} {
			if dec, err := tok.DecodeWith(c.ids, c.o); err != nil || dec != c.want {
				t.Errorf("DecodeWith(%v, %+v) = %q, %v; want %q", c.ids, c.o, dec, err, c.want)
			}
		}
	})
	t.Run("llama-2-tiny-random", func(t *testing.T) {
		// Same tokens, scores and types as ggml-vocab-llama-spm, so the
		// llama-spm vectors apply.
		tok := openTokenizer(t, "models/llama-2-tiny-random.gguf")
		got, err := tok.Encode("Hello world", AddSpecial)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int32{1, 15043, 3186}; !equalIDs(got, want) {
			t.Errorf("Encode = %v, want %v", got, want)
		}
		for i, c := range readVectors(t, "ggml-vocab-llama-spm") {
			got, err := tok.Encode(c.input, 0)
			if err != nil || !equalIDs(got, c.want) {
				t.Errorf("case %d %q: got %v (%v), want %v", i, c.input, got, err, c.want)
			}
		}
	})
	t.Run("tinyllamas-v1", func(t *testing.T) {
		a := openTokenizer(t, "models/tinyllamas-stories-260k-f32.gguf")
		b := openTokenizer(t, "models/stories260K.gguf")
		for _, s := range []string{"Once upon a time", "Lily & Tom said: \"hi!\" 🦙"} {
			x, err1 := a.Encode(s, AddSpecial)
			y, err2 := b.Encode(s, AddSpecial)
			if err1 != nil || err2 != nil || !equalIDs(x, y) {
				t.Errorf("%q: v1 file %v (%v), v3 file %v (%v)", s, x, err1, y, err2)
			}
		}
	})
}

// TestVocabsWithoutVectors loads the vocabularies that have no llama.cpp
// vectors and checks round trips on the vector inputs.
func TestVocabsWithoutVectors(t *testing.T) {
	inputs := readVectors(t, "ggml-vocab-llama-spm")
	for _, tc := range []struct {
		file string
		pre  string
	}{
		{"vocab/ggml-vocab-baichuan.gguf", ""},
		{"vocab/ggml-vocab-gpt-neox.gguf", ""}, // missing pre: "default" splitter
	} {
		t.Run(tc.file, func(t *testing.T) {
			tok := openTokenizer(t, tc.file)
			if got := tok.Vocab().Pre; got != tc.pre {
				t.Errorf("Pre = %q, want %q", got, tc.pre)
			}
			for i, c := range inputs {
				ids, err := tok.Encode(c.input, 0)
				if err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				for _, id := range ids {
					p, _ := tok.Piece(id)
					b.WriteString(p)
				}
				got := b.String()
				if tok.Vocab().AddSpacePrefix && c.input != "" {
					got = strings.TrimPrefix(got, " ")
				}
				if got != c.input {
					t.Errorf("case %d: round trip %q, want %q", i, got, c.input)
				}
			}
		})
	}
	// gpt-neox and mpt share tokens and merges; neox has no pre, so it
	// must split like llama.cpp's default list, whose last regexes
	// ("\p{N}+", then "[0-9][0-9][0-9]") cut digit runs into threes.
	neox := openTokenizer(t, "vocab/ggml-vocab-gpt-neox.gguf")
	mpt := openTokenizer(t, "vocab/ggml-vocab-mpt.gguf")
	a, _ := neox.Encode("Hello world", 0)
	b, _ := mpt.Encode("Hello world", 0)
	if !equalIDs(a, b) {
		t.Errorf("neox %v != mpt %v for plain words", a, b)
	}
	// The default list cuts digit runs into threes before merging.
	a, _ = neox.Encode("3333333", 0)
	want := []int32{}
	for _, p := range []string{"333", "333", "3"} {
		id, ok := neox.ID(p)
		if !ok {
			t.Fatalf("%q not in vocabulary", p)
		}
		want = append(want, id)
	}
	if !equalIDs(a, want) {
		t.Errorf("neox digits %v, want %v", a, want)
	}
}

func TestSpecialTokens(t *testing.T) {
	phi := openTokenizer(t, "vocab/ggml-vocab-phi-3.gguf")
	user, _ := phi.ID("<|user|>")
	end, _ := phi.ID("<|end|>")
	asst, _ := phi.ID("<|assistant|>")
	hi, _ := phi.ID("▁Hi")
	tests := []struct {
		name  string
		tok   *Tokenizer
		text  string
		flags EncodeFlags
		want  []int32
	}{
		// Phi-3's special tokens strip the whitespace after them (llama.cpp
		// keys this on the model name), and SPM text after a special token
		// gets the prefix space.
		{"phi3 chat", phi, "<|user|>\nHi<|end|>\n<|assistant|>", ParseSpecial | AddSpecial, []int32{1, user, hi, end, asst}},
		{"phi3 control as text", phi, "<|user|>", 0, []int32{529, 29989, 1792, 29989, 29958}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.tok.Encode(tc.text, tc.flags)
			if err != nil {
				t.Fatal(err)
			}
			if !equalIDs(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// USER_DEFINED tokens are matched even without ParseSpecial: deepseek
	// stores "ü" as one, and decoding writes it verbatim.
	ds := openTokenizer(t, "vocab/ggml-vocab-deepseek-coder.gguf")
	uu, ok := ds.ID("ü")
	if !ok {
		t.Fatal("no ü token")
	}
	if typ, _ := ds.Type(uu); typ != TypeUserDefined {
		t.Fatalf("ü has type %d", typ)
	}
	ids, _ := ds.Encode("ü", 0)
	if !equalIDs(ids, []int32{uu}) {
		t.Errorf("Encode(ü) = %v, want [%d]", ids, uu)
	}
	// add_bos_token is true in this file.
	ids, _ = ds.Encode("a", AddSpecial)
	if len(ids) == 0 || ids[0] != 32013 {
		t.Errorf("AddSpecial: %v, want BOS 32013 first", ids)
	}

	// Control tokens decode to "" unless rendered.
	eos := phi.EOS()
	if s, _ := phi.Decode([]int32{hi, eos}); s != "Hi" {
		t.Errorf("Decode = %q", s)
	}
	if s, _ := phi.DecodeWith([]int32{hi, eos}, DecodeOptions{RenderSpecial: true}); s != "Hi<|endoftext|>" {
		t.Errorf("DecodeWith(RenderSpecial) = %q", s)
	}
	if !phi.IsEOG(eos) || !phi.IsEOG(end) || phi.IsEOG(hi) {
		t.Error("IsEOG wrong")
	}

	// WordPiece adds CLS ... SEP.
	bert := openTokenizer(t, "vocab/ggml-vocab-bert-bge.gguf")
	ids, _ = bert.Encode("Hello world", AddSpecial)
	if want := []int32{101, 7592, 2088, 102}; !equalIDs(ids, want) {
		t.Errorf("bert AddSpecial = %v, want %v", ids, want)
	}
	// Word-initial pieces carry "▁", which decodes to a space that
	// llama.cpp keeps (BERT has no add_space_prefix).
	if s, _ := bert.Decode([]int32{7592, 2088}); s != " hello world" {
		t.Errorf("bert Decode = %q", s)
	}
}

func TestDecodeCleanSpaces(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Hello , world !", "Hello, world!"},
		{"a ' b", "a'b"},
		{"it 's he 're we 've I 'm", "it's he're we've I'm"},
		{"don 't I 'd", "don 't I 'd"},
		{" ?", "?"},
		{"x ' ' y", "x'' y"}, // the NUL over the skipped space blocks a second match
	}
	for _, tc := range tests {
		if got := string(cleanSpaces([]byte(tc.in))); got != tc.want {
			t.Errorf("cleanSpaces(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	tok := openTokenizer(t, "models/stories260K.gguf")
	for _, id := range []int32{-1, 512, 1 << 30} {
		if _, err := tok.Decode([]int32{1, id}); !errors.Is(err, ErrTokenID) {
			t.Errorf("Decode(%d): %v, want ErrTokenID", id, err)
		}
		if _, err := tok.Piece(id); !errors.Is(err, ErrTokenID) {
			t.Errorf("Piece(%d): %v", id, err)
		}
		if _, err := tok.NewStreamDecoder().Next(id); !errors.Is(err, ErrTokenID) {
			t.Errorf("Next(%d): %v", id, err)
		}
	}
	bad := []struct {
		name string
		v    *Vocab
	}{
		{"nil", nil},
		{"empty", &Vocab{Model: ModelSPM}},
		{"model", &Vocab{Model: "rwkv", Tokens: []string{"a"}, BOS: NoToken, EOS: NoToken, EOT: NoToken, EOM: NoToken, UNK: NoToken, SEP: NoToken, PAD: NoToken, Mask: NoToken}},
		{"dup", &Vocab{Model: ModelSPM, Tokens: []string{"a", "a"}, BOS: NoToken, EOS: NoToken, EOT: NoToken, EOM: NoToken, UNK: NoToken, SEP: NoToken, PAD: NoToken, Mask: NoToken}},
		{"bos range", &Vocab{Model: ModelSPM, Tokens: []string{"a"}, BOS: 5, EOS: NoToken, EOT: NoToken, EOM: NoToken, UNK: NoToken, SEP: NoToken, PAD: NoToken, Mask: NoToken}},
		{"scores", &Vocab{Model: ModelSPM, Tokens: []string{"a", "b"}, Scores: []float32{1}}},
		{"pre", &Vocab{Model: ModelBPE, Pre: "no-such-pre", Tokens: []string{"a"}, BOS: NoToken, EOS: NoToken, EOT: NoToken, EOM: NoToken, UNK: NoToken, SEP: NoToken, PAD: NoToken, Mask: NoToken}},
	}
	for _, tc := range bad {
		if _, err := New(tc.v); !errors.Is(err, ErrVocab) {
			t.Errorf("%s: %v, want ErrVocab", tc.name, err)
		}
	}
	// AddSpecial with no BOS id.
	v := tok.Vocab()
	v.BOS = NoToken
	nb, err := New(&v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nb.Encode("x", AddSpecial); !errors.Is(err, ErrNoToken) {
		t.Errorf("Encode without BOS: %v, want ErrNoToken", err)
	}
}

// TestHandBuiltVocab builds a tiny SPM vocabulary by hand: merges follow
// scores, and characters without a token fall back to byte tokens.
func TestHandBuiltVocab(t *testing.T) {
	toks := []string{"<unk>", "<s>", "</s>", "▁", "a", "b", "ab", "▁ab"}
	types := []TokenType{TypeUnknown, TypeControl, TypeControl, TypeNormal, TypeNormal, TypeNormal, TypeNormal, TypeNormal}
	for b := 0; b < 256; b++ {
		toks = append(toks, "<0x"+strings.ToUpper(hex2(byte(b)))+">")
		types = append(types, TypeByte)
	}
	scores := make([]float32, len(toks))
	scores[6], scores[7] = -1, -2
	v := &Vocab{Model: ModelSPM, Tokens: toks, Types: types, Scores: scores, BOS: 1, EOS: 2, UNK: 0,
		EOT: NoToken, EOM: NoToken, SEP: NoToken, PAD: NoToken, Mask: NoToken, AddBOS: true, AddSpacePrefix: true}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Encode("ab c", AddSpecial)
	if err != nil {
		t.Fatal(err)
	}
	// "▁ab▁c": "ab" (score -1) merges before "▁ab" (-2); "c" has no token so
	// it becomes <0x63>, which is id 8+0x63.
	want := []int32{1, 7, 3, 8 + 'c'}
	if !equalIDs(ids, want) {
		t.Errorf("Encode = %v, want %v", ids, want)
	}
	if s, _ := tok.Decode(ids[1:]); s != "ab c" {
		t.Errorf("Decode = %q", s)
	}
}

func hex2(b byte) string {
	const h = "0123456789abcdef"
	return string([]byte{h[b>>4], h[b&15]})
}

func TestStreamDecoder(t *testing.T) {
	tok := openTokenizer(t, "vocab/ggml-vocab-llama-spm.gguf")
	// 🦙 has no token in LLaMA's vocabulary: four byte tokens.
	ids, _ := tok.Encode("🦙!", 0)
	d := tok.NewStreamDecoder()
	var parts []string
	for _, id := range ids {
		s, err := d.Next(id)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s)
	}
	parts = append(parts, d.Flush())
	joined := strings.Join(parts, "")
	if joined != "🦙!" {
		t.Errorf("stream gives %q (parts %q), want %q", joined, parts, "🦙!")
	}
	for _, p := range parts {
		if !utf8.ValidString(p) {
			t.Errorf("part %q is not valid UTF-8", p)
		}
	}

	// On every vector input, streaming equals Decode (SPM does no space
	// cleaning).
	for i, c := range readVectors(t, "ggml-vocab-llama-spm") {
		ids, _ := tok.Encode(c.input, 0)
		d := tok.NewStreamDecoder()
		var b strings.Builder
		for _, id := range ids {
			s, _ := d.Next(id)
			b.WriteString(s)
		}
		b.WriteString(d.Flush())
		want, _ := tok.Decode(ids)
		if b.String() != want {
			t.Errorf("case %d: stream %q, Decode %q", i, b.String(), want)
		}
	}
}

func TestCompletePrefix(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"a\xf0", 1},
		{"a\xf0\x9f", 1},
		{"a\xf0\x9f\xa6", 1},
		{"a\xf0\x9f\xa6\x99", 5},
		{"\xc3", 0},
		{"\xc3\xa9", 2},
		{"a\xff", 2},     // never valid: not held back
		{"a\xc0", 2},     // overlong lead: never valid
		{"a\xe2\x41", 3}, // broken sequence
		{"\x80", 1},
	}
	for _, tc := range tests {
		if got := completePrefix([]byte(tc.in)); got != tc.want {
			t.Errorf("completePrefix(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestConcurrentEncode shares one Tokenizer between goroutines (run with
// -race to check the pooled scratch buffers).
func TestConcurrentEncode(t *testing.T) {
	tok := openTokenizer(t, "vocab/ggml-vocab-gpt-2.gguf")
	cases := readVectors(t, "ggml-vocab-gpt-2")
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for _, c := range cases {
				got, err := tok.Encode(c.input, 0)
				if err != nil || !equalIDs(got, c.want) {
					done <- errors.New("mismatch on " + c.input)
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestSPMRunsIndependent checks that splitting SentencePiece input at
// unjoinable "▁" (encodeSPM) gives the same ids as merging the whole text at
// once (encodeSPMRun), as llama.cpp does.
func TestSPMRunsIndependent(t *testing.T) {
	tok := openTokenizer(t, "vocab/ggml-vocab-llama-spm.gguf")
	inputs := splitterInputs(t)
	s := new(session)
	for _, in := range inputs {
		text := strings.ReplaceAll(" "+in, " ", "▁")
		a, err1 := tok.encodeSPM(s, text, nil)
		b, err2 := tok.encodeSPMRun(s, text, nil)
		if err1 != nil || err2 != nil || !equalIDs(a, b) {
			t.Errorf("%q: runs %v (%v), whole %v (%v)", in, a, err1, b, err2)
		}
	}
}
