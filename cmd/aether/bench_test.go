package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm"
	"github.com/aethertensor/aether/llm/gguf"
)

func TestBenchOutput(t *testing.T) {
	model := testdata.Path(t, "models/stories260K.gguf")
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	tests := []struct {
		name string
		args []string
		want []string // regexps stdout must match
		code int
	}{
		{"pp and tg", []string{"bench", "-m", model, "-p", "8", "-n", "4", "-r", "2", "--threads", "1"},
			[]string{`(?m)^pp8 +[0-9.]+ ± [0-9.]+$`, `(?m)^tg4 +[0-9.]+ ± [0-9.]+$`, `(?m)^decode reads [0-9]+ bytes`, `1 threads`}, 0},
		{"prefill only, profiled", []string{"bench", "-m", model, "-p", "4", "-n", "0", "-r", "1", "-cpuprofile", prof},
			[]string{`(?m)^pp4 `}, 0},
		{"no model", []string{"bench", "-p", "4"}, nil, 2},
		{"bad p", []string{"bench", "-m", model, "-p", "0"}, nil, 2},
		{"over context", []string{"bench", "-m", model, "-c", "8", "-p", "8", "-n", "4"}, nil, 2},
		{"bad profile path", []string{"bench", "-m", model, "-p", "4", "-n", "1", "-r", "1", "-cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir")}, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), tc.args, &out, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errb.String())
			}
			for _, re := range tc.want {
				if !regexp.MustCompile(re).MatchString(out.String()) {
					t.Errorf("stdout does not match %q:\n%s", re, out.String())
				}
			}
		})
	}
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Errorf("profile not written: %v", err)
	}
}

// TestDecodeBytes checks the weight bytes a decode step reads: every weight
// but the embedding table, of which one row, when the output matrix is
// separate; everything when the embedding is tied to the output.
func TestDecodeBytes(t *testing.T) {
	path := testdata.Path(t, "models/stories260K.gguf")
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var total, emb int64
	for _, ti := range f.Tensors {
		total += int64(len(ti.Data))
		if ti.Name == "token_embd.weight" {
			emb = int64(len(ti.Data))
		}
	}
	// The same file without output.weight ties the embedding.
	tiedPath := filepath.Join(t.TempDir(), "tied.gguf")
	tied := gguf.NewBuilder()
	tied.Meta = f.Meta
	for _, ti := range f.Tensors {
		if ti.Name != "output.weight" {
			if err := tied.AddTensor(ti.Name, ti.Type, ti.Dims, ti.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	w, err := os.Create(tiedPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tied.WriteTo(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.Close()

	for _, tc := range []struct {
		name string
		path string
		want func(model int64) int64
	}{
		{"separate output", path, func(m int64) int64 { return m - emb + emb/512 }},
		{"tied output", tiedPath, func(m int64) int64 { return m }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := llm.Load(tc.path, llm.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			m := r.Model()
			got, err := decodeBytes(tc.path, m.WeightBytes(), m.Config().Vocab)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(m.WeightBytes()); got != want {
				t.Errorf("decodeBytes = %d, want %d (model weights %d, file tensors %d)", got, want, m.WeightBytes(), total)
			}
		})
	}
	if _, err := decodeBytes(filepath.Join(t.TempDir(), "missing.gguf"), 1, 1); err == nil {
		t.Error("missing file: no error")
	}
}
