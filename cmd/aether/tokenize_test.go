package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
)

func TestTokenize(t *testing.T) {
	spm := testdata.Path(t, "vocab/ggml-vocab-llama-spm.gguf")
	phi := testdata.Path(t, "vocab/ggml-vocab-phi-3.gguf")
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
		code  int
	}{
		// " 15043 3186" is llama.cpp's expected output for "Hello world".
		{"plain", []string{"tokenize", "-m", spm, "Hello world"}, "", "15043 3186\n", 0},
		{"add special", []string{"tokenize", "-m", spm, "--add-special", "Hello world"}, "", "1 15043 3186\n", 0},
		{"flags after text", []string{"tokenize", "Hello world", "-m", spm, "--add-special"}, "", "1 15043 3186\n", 0},
		{"stdin", []string{"tokenize", "-m", spm, "-"}, "Hello world", "15043 3186\n", 0},
		{"empty", []string{"tokenize", "-m", spm, ""}, "", "\n", 0},
		{"parse special", []string{"tokenize", "-m", phi, "--parse-special", "<|user|>"}, "", "32010\n", 0},
		{"no text", []string{"tokenize", "-m", spm}, "", "", 2},
		{"no model", []string{"tokenize", "Hello"}, "", "", 2},
		{"bad flag", []string{"tokenize", "--nope", "-m", spm, "x"}, "", "", 2},
		{"missing file", []string{"tokenize", "-m", "/nonexistent.gguf", "x"}, "", "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tokenizeStdin = strings.NewReader(tc.stdin)
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, errb.String())
			}
			if code == 0 && out.String() != tc.want {
				t.Errorf("stdout %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestTokenizeJSON(t *testing.T) {
	spm := testdata.Path(t, "vocab/ggml-vocab-llama-spm.gguf")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"tokenize", "-m", spm, "--json", "Hello world"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got struct {
		IDs    []int32  `json:"ids"`
		Tokens []string `json:"tokens"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v in %q", err, out.String())
	}
	if len(got.IDs) != 2 || got.IDs[0] != 15043 || got.IDs[1] != 3186 || got.Tokens[0] != "▁Hello" || got.Tokens[1] != "▁world" {
		t.Errorf("got %+v", got)
	}
}
