package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncodeDecode encodes arbitrary input with an SPM, a BPE and a
// WordPiece vocabulary: no errors or panics, and for valid UTF-8 SPM
// round-trips through Decode (unless the text holds "▁", which reads as a
// space) and BPE through its pieces. Invalid UTF-8 does not round-trip in
// llama.cpp either: BPE turns it into U+FFFD, and SPM can group a stray lead
// byte with the bytes of an escaped space.
func FuzzEncodeDecode(f *testing.F) {
	spm := openTokenizer(f, "models/stories260K.gguf")
	bpe := openTokenizer(f, "vocab/ggml-vocab-gpt-2.gguf")
	wpm := openTokenizer(f, "vocab/ggml-vocab-bert-bge.gguf")
	for _, c := range readVectors(f, "ggml-vocab-gpt-2") {
		f.Add(c.input)
	}
	f.Add("\xff\xfe\xe2\x41 <s></s><unk><|endoftext|>")
	f.Fuzz(func(t *testing.T, s string) {
		for _, flags := range []EncodeFlags{0, AddSpecial | ParseSpecial} {
			for _, tok := range []*Tokenizer{spm, bpe, wpm} {
				ids, err := tok.Encode(s, flags)
				if err != nil {
					t.Fatalf("%s Encode(%q): %v", tok.v.Model, s, err)
				}
				if _, err := tok.Decode(ids); err != nil {
					t.Fatalf("%s Decode: %v", tok.v.Model, err)
				}
				d := tok.NewStreamDecoder()
				for _, id := range ids {
					if _, err := d.Next(id); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		ids, _ := spm.Encode(s, 0)
		if got, _ := spm.Decode(ids); utf8.ValidString(s) && !strings.Contains(s, "▁") && got != s {
			t.Errorf("SPM round trip %q -> %v -> %q", s, ids, got)
		}
		if utf8.ValidString(s) {
			ids, _ := bpe.Encode(s, 0)
			var b strings.Builder
			for _, id := range ids {
				p, _ := bpe.Piece(id)
				b.WriteString(p)
			}
			if b.String() != s {
				t.Errorf("BPE round trip %q -> %v -> %q", s, ids, b.String())
			}
		}
	})
}
