package gguf

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/quant"
)

// testFiles lists every GGUF file in the shared test data, relative to it.
var testFiles = []string{
	"models/stories260K.gguf",
	"models/tinyllamas-stories-260k-f32.gguf",
	"models/llama-2-tiny-random.gguf",
	"models/quant/synth-llama-256-BF16.gguf",
	"models/quant/synth-llama-256-F16.gguf",
	"models/quant/synth-llama-256-IQ4_NL.gguf",
	"models/quant/synth-llama-256-Q2_K.gguf",
	"models/quant/synth-llama-256-Q3_K_S.gguf",
	"models/quant/synth-llama-256-Q4_0.gguf",
	"models/quant/synth-llama-256-Q4_1.gguf",
	"models/quant/synth-llama-256-Q4_K_S.gguf",
	"models/quant/synth-llama-256-Q5_0.gguf",
	"models/quant/synth-llama-256-Q5_1.gguf",
	"models/quant/synth-llama-256-Q5_K_S.gguf",
	"models/quant/synth-llama-256-Q6_K.gguf",
	"models/quant/synth-llama-256-Q8_0.gguf",
	"vocab/ggml-vocab-baichuan.gguf",
	"vocab/ggml-vocab-bert-bge.gguf",
	"vocab/ggml-vocab-deepseek-coder.gguf",
	"vocab/ggml-vocab-deepseek-llm.gguf",
	"vocab/ggml-vocab-gpt-2.gguf",
	"vocab/ggml-vocab-gpt-neox.gguf",
	"vocab/ggml-vocab-llama-spm.gguf",
	"vocab/ggml-vocab-mpt.gguf",
	"vocab/ggml-vocab-phi-3.gguf",
}

// TestTestFilesListed makes sure testFiles keeps up with the shared data.
func TestTestFilesListed(t *testing.T) {
	dir := testdata.Dir()
	if dir == "" {
		t.Skip("no test data")
	}
	var found []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".gguf") {
			rel, _ := filepath.Rel(dir, p)
			found = append(found, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, f := range testFiles {
		listed[f] = true
	}
	for _, f := range found {
		if !listed[f] {
			t.Errorf("%s is not in testFiles", f)
		}
	}
}

// TestOpenAll opens every test file and checks the invariants the parser
// promises: tensor data inside the file, aligned, sized by quant.RowBytes.
func TestOpenAll(t *testing.T) {
	for _, name := range testFiles {
		t.Run(name, func(t *testing.T) {
			f, err := Open(testdata.Path(t, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Version < 1 || f.Version > 3 {
				t.Errorf("version %d", f.Version)
			}
			if f.DataOffset%int64(f.Alignment) != 0 {
				t.Errorf("data offset %d not aligned to %d", f.DataOffset, f.Alignment)
			}
			if len(f.Meta.Keys()) == 0 {
				t.Error("no metadata")
			}
			if _, err := f.Meta.GetString("general.architecture"); err != nil {
				t.Error(err)
			}
			var end uint64
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				want, err := quant.RowBytes(ti.Type, ti.NumElements())
				if err != nil {
					t.Fatal(err)
				}
				if uint64(len(ti.Data)) != want {
					t.Errorf("%s: %d data bytes, want %d", ti.Name, len(ti.Data), want)
				}
				if got, ok := f.Tensor(ti.Name); !ok || got != ti {
					t.Errorf("Tensor(%q) lookup failed", ti.Name)
				}
				end = max(end, uint64(f.DataOffset)+ti.Offset+want)
			}
			if len(f.Tensors) > 0 && end != uint64(f.Size()) {
				t.Errorf("last tensor ends at %d, file is %d bytes", end, f.Size())
			}
		})
	}
}

// TestV1MatchesV3: the v1 and v3 copies of stories260K hold byte-identical
// tensors, so reading both must give the same Data for all 48.
func TestV1MatchesV3(t *testing.T) {
	v3, err := Open(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer v3.Close()
	v1, err := Open(testdata.Path(t, "models/tinyllamas-stories-260k-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer v1.Close()
	if v1.Version != 1 || v3.Version != 3 {
		t.Fatalf("versions %d and %d, want 1 and 3", v1.Version, v3.Version)
	}
	if len(v1.Tensors) != 48 || len(v3.Tensors) != 48 {
		t.Fatalf("%d and %d tensors, want 48", len(v1.Tensors), len(v3.Tensors))
	}
	for _, a := range v3.Tensors {
		b, ok := v1.Tensor(a.Name)
		if !ok {
			t.Errorf("%s missing from v1 file", a.Name)
			continue
		}
		if a.Type != b.Type || !equalDims(a.Dims, b.Dims) || !bytes.Equal(a.Data, b.Data) {
			t.Errorf("%s differs: %s%v vs %s%v", a.Name, a.Type, a.Dims, b.Type, b.Dims)
		}
	}
	for _, k := range []string{"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"} {
		a, _ := v3.Meta.Lookup(k)
		b, _ := v1.Meta.Lookup(k)
		if a.Len() != 512 || a.String() != b.String() {
			t.Errorf("%s differs between v1 and v3 (len %d, %d)", k, a.Len(), b.Len())
		}
	}
}

func equalDims(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestStoriesMetadata checks values listed in the test data README.
func TestStoriesMetadata(t *testing.T) {
	f, err := Open(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := len(f.Meta.Keys()); n != 19 {
		t.Errorf("%d keys, want 19", n)
	}
	checks := []struct {
		key  string
		want uint64
	}{
		{"llama.embedding_length", 64},
		{"llama.block_count", 5},
		{"llama.attention.head_count", 8},
		{"llama.attention.head_count_kv", 4},
		{"llama.feed_forward_length", 172},
		{"llama.rope.dimension_count", 8},
		{"llama.context_length", 2048},
		{"tokenizer.ggml.padding_token_id", math.MaxUint32},
	}
	for _, c := range checks {
		got, err := f.Meta.GetUint(c.key)
		if err != nil || got != c.want {
			t.Errorf("%s = %d, %v; want %d", c.key, got, err, c.want)
		}
	}
	eps, err := f.Meta.GetFloat("llama.attention.layer_norm_rms_epsilon")
	if err != nil || float32(eps) != 1e-5 {
		t.Errorf("rms eps = %v, %v", eps, err)
	}
	toks, err := f.Meta.GetStrings("tokenizer.ggml.tokens")
	if err != nil || len(toks) != 512 {
		t.Fatalf("tokens: %d, %v", len(toks), err)
	}
	emb, _ := f.Tensor("token_embd.weight")
	out, _ := f.Tensor("output.weight")
	if emb == nil || out == nil || !bytes.Equal(emb.Data, out.Data) {
		t.Error("token_embd.weight and output.weight should be byte-identical")
	}
	if emb.Type != quant.F32 || !equalDims(emb.Dims, []uint64{64, 512}) {
		t.Errorf("token_embd.weight is %s%v", emb.Type, emb.Dims)
	}
}

func TestCloseTwice(t *testing.T) {
	f, err := Open(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if f.Tensors[0].Data != nil {
		t.Error("Data still set after Close")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.gguf")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(empty); !errors.Is(err, ErrFormat) {
		t.Errorf("empty file: %v, want ErrFormat", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}

// TestZeroSizedTensors: ggml rejects only negative dims, so an empty tensor
// (a zero dim) and a scalar (no dims) are accepted.
func TestZeroSizedTensors(t *testing.T) {
	data := header(3, 2, 0).tensor("empty", 0, 0, 0, 4).tensor("scalar", 0, 0).pad(32).u32(0).b
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := f.Tensor("empty")
	s, _ := f.Tensor("scalar")
	if e.NumElements() != 0 || len(e.Data) != 0 || s.NumElements() != 1 || len(s.Data) != 4 {
		t.Errorf("empty: %d elements %d bytes; scalar: %d elements %d bytes", e.NumElements(), len(e.Data), s.NumElements(), len(s.Data))
	}
}
