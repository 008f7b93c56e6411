package tokenizer_test

import (
	"fmt"

	"github.com/aethertensor/aether/llm/tokenizer"
)

// A tiny SentencePiece vocabulary built by hand. Real ones come from GGUF
// files through tokenizer.Open or tokenizer.FromGGUF.
func ExampleNew() {
	v := &tokenizer.Vocab{
		Model:  tokenizer.ModelSPM,
		Tokens: []string{"<unk>", "<s>", "</s>", "▁", "h", "i", "hi", "▁hi", "<0x21>"},
		Types: []tokenizer.TokenType{tokenizer.TypeUnknown, tokenizer.TypeControl, tokenizer.TypeControl,
			tokenizer.TypeNormal, tokenizer.TypeNormal, tokenizer.TypeNormal, tokenizer.TypeNormal,
			tokenizer.TypeNormal, tokenizer.TypeByte},
		Scores: []float32{0, 0, 0, -5, -6, -7, -1, -2, 0},
		BOS:    1, EOS: 2, UNK: 0,
		EOT: tokenizer.NoToken, EOM: tokenizer.NoToken, SEP: tokenizer.NoToken,
		PAD: tokenizer.NoToken, Mask: tokenizer.NoToken,
		AddBOS: true, AddSpacePrefix: true,
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		panic(err)
	}
	ids, err := tok.Encode("hi hi!", tokenizer.AddSpecial)
	if err != nil {
		panic(err)
	}
	fmt.Println(ids)
	text, _ := tok.Decode(ids[1:]) // without BOS, the prefix space is dropped
	fmt.Printf("%q\n", text)
	// Output:
	// [1 7 7 8]
	// "hi hi!"
}

// Decoding generated tokens one at a time.
func ExampleStreamDecoder() {
	v := &tokenizer.Vocab{
		Model:  tokenizer.ModelSPM,
		Tokens: []string{"<unk>", "▁ok", "<0xC3>", "<0xA9>"},
		Types:  []tokenizer.TokenType{tokenizer.TypeUnknown, tokenizer.TypeNormal, tokenizer.TypeByte, tokenizer.TypeByte},
		BOS:    tokenizer.NoToken, EOS: tokenizer.NoToken, UNK: 0,
		EOT: tokenizer.NoToken, EOM: tokenizer.NoToken, SEP: tokenizer.NoToken,
		PAD: tokenizer.NoToken, Mask: tokenizer.NoToken,
		AddSpacePrefix: true,
	}
	tok, _ := tokenizer.New(v)
	d := tok.NewStreamDecoder()
	for _, id := range []int32{1, 2, 3} { // "▁ok", then "é" as two byte tokens
		s, _ := d.Next(id)
		fmt.Printf("%q\n", s)
	}
	// Output:
	// "ok"
	// ""
	// "é"
}

// Loading the tokenizer of a model file.
func ExampleOpen() {
	tok, err := tokenizer.Open("model.gguf")
	if err != nil {
		fmt.Println(err)
		return
	}
	ids, _ := tok.Encode("Hello world", tokenizer.AddSpecial)
	fmt.Println(ids)
}
