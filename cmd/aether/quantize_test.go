package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/quant"
)

// writeGGUF writes a small F32 model: each tensor is (name, dims, values).
func writeGGUF(t *testing.T, path string, tensors []testTensor, meta map[string]any) {
	t.Helper()
	b := gguf.NewBuilder()
	for k, v := range meta {
		val, err := gguf.NewValue(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Meta.Set(k, val); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tensors {
		data := make([]byte, 4*len(tt.vals))
		for i, v := range tt.vals {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
		if err := b.AddTensor(tt.name, quant.F32, tt.dims, data); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

type testTensor struct {
	name string
	dims []uint64
	vals []float32
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func openGGUF(t *testing.T, path string) *gguf.File {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestQuantizeMatchesLlamaQuantize rebuilds a model from the exact F32 rows
// llama-quantize read (llm/quant/testdata/synth-rows.f32), quantises it
// with the command and compares the tensor bytes with llama.cpp's files.
func TestQuantizeMatchesLlamaQuantize(t *testing.T) {
	raw, err := os.ReadFile("../../llm/quant/testdata/synth-rows.f32")
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float32, len(raw)/4)
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	// The table of synth-rows.f32 (see its README).
	layout := []struct {
		name      string
		ne0, rows uint64
	}{
		{"token_embd.weight", 256, 16},
		{"blk.0.attn_q.weight", 256, 16},
		{"blk.3.ffn_down.weight", 768, 8},
		{"output.weight", 256, 16},
	}
	var tensors []testTensor
	for _, l := range layout {
		n := l.ne0 * l.rows
		tensors = append(tensors, testTensor{l.name, []uint64{l.ne0, l.rows}, vals[:n]})
		vals = vals[n:]
	}
	norm := make([]float32, 256)
	for i := range norm {
		norm[i] = 1 + float32(i)/1024
	}
	tensors = append(tensors, testTensor{"output_norm.weight", []uint64{256}, norm})

	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf")
	writeGGUF(t, in, tensors, map[string]any{"general.architecture": "llama", "general.file_type": uint32(0)})

	for _, tc := range []struct {
		arg, file string
		ftype     uint32
		typ       quant.Type
	}{
		{"Q4_0", "Q4_0", 2, quant.Q4_0},
		{"Q5_1", "Q5_1", 9, quant.Q5_1},
		{"q8_0", "Q8_0", 7, quant.Q8_0},
		{"Q2_K", "Q2_K", 10, quant.Q2_K},
		{"Q3_K_S", "Q3_K_S", 11, quant.Q3_K},
		{"Q4_K", "Q4_K_S", 14, quant.Q4_K},
		{"Q5_K_S", "Q5_K_S", 16, quant.Q5_K},
		{"Q6_K", "Q6_K", 18, quant.Q6_K},
		{"IQ4_NL", "IQ4_NL", 25, quant.IQ4_NL},
		{"BF16", "BF16", 32, quant.BF16},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			ref := openGGUF(t, testdata.Path(t, "models/quant/synth-llama-256-"+tc.file+".gguf"))
			out := filepath.Join(dir, tc.file+".gguf")
			code, stdout, stderr := runCmd(t, "quantize", "-q", in, out, tc.arg)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "5 tensors") {
				t.Errorf("summary %q does not mention 5 tensors", stdout)
			}
			f := openGGUF(t, out)
			if got, err := f.Meta.GetUint("general.file_type"); err != nil || got != uint64(tc.ftype) {
				t.Errorf("general.file_type = %d, %v; want %d", got, err, tc.ftype)
			}
			if got, err := f.Meta.GetUint("general.quantization_version"); err != nil || got != 2 {
				t.Errorf("general.quantization_version = %d, %v; want 2", got, err)
			}
			if got, _ := f.Meta.GetString("general.architecture"); got != "llama" {
				t.Errorf("general.architecture = %q, want it copied", got)
			}
			for _, ti := range f.Tensors {
				if ti.Name == "output_norm.weight" {
					if ti.Type != quant.F32 || len(ti.Data) != 4*256 {
						t.Errorf("norm became %s (%d bytes), want it kept F32", ti.Type, len(ti.Data))
					}
					continue
				}
				if ti.Type != tc.typ {
					t.Errorf("%s is %s, want %s", ti.Name, ti.Type, tc.typ)
					continue
				}
				want, ok := ref.Tensor(ti.Name)
				if !ok {
					t.Fatalf("reference has no %s", ti.Name)
				}
				if !bytes.Equal(ti.Data, want.Data[:len(ti.Data)]) {
					t.Errorf("%s: bytes differ from llama-quantize's", ti.Name)
				}
			}
		})
	}
}

// TestQuantizeFallback checks the llama.cpp substitutes for rows that are
// not a whole number of blocks, and that non-weight tensors are kept.
func TestQuantizeFallback(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf")
	mk := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(math.Sin(float64(i)))
		}
		return v
	}
	writeGGUF(t, in, []testTensor{
		{"a.weight", []uint64{64, 4}, mk(256)},     // Q4_K -> Q5_0
		{"b.weight", []uint64{48, 2}, mk(96)},      // Q4_K -> Q5_0 -> F16
		{"c.weight", []uint64{256, 1}, mk(256)},    // one row: ggml_n_dims 1, kept
		{"rope_freqs", []uint64{256, 2}, mk(512)},  // not a weight, kept
		{"d.weight", []uint64{256, 2, 1}, mk(512)}, // quantised
	}, nil)
	out := filepath.Join(dir, "out.gguf")
	code, stdout, stderr := runCmd(t, "quantize", in, out, "Q4_K")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "not a multiple of the Q4_K block") {
		t.Errorf("output does not report the fallback:\n%s", stdout)
	}
	f := openGGUF(t, out)
	want := map[string]quant.Type{"a.weight": quant.Q5_0, "b.weight": quant.F16, "c.weight": quant.F32, "rope_freqs": quant.F32, "d.weight": quant.Q4_K}
	for _, ti := range f.Tensors {
		if ti.Type != want[ti.Name] {
			t.Errorf("%s is %s, want %s", ti.Name, ti.Type, want[ti.Name])
		}
	}
	// Converting the result again needs -allow-requantize.
	code, _, stderr = runCmd(t, "quantize", out, filepath.Join(dir, "re.gguf"), "Q8_0")
	if code != 1 || !strings.Contains(stderr, "allow-requantize") {
		t.Errorf("requantising without the flag: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCmd(t, "quantize", "-allow-requantize", out, filepath.Join(dir, "re.gguf"), "Q8_0")
	if code != 0 {
		t.Errorf("requantising with the flag: exit %d, %q", code, stderr)
	}
}

func TestQuantizeUsage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf")
	writeGGUF(t, in, []testTensor{{"w.weight", []uint64{32, 1}, make([]float32, 32)}}, nil)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no args", []string{"quantize"}, 2, "want IN OUT TYPE"},
		{"bad type", []string{"quantize", in, filepath.Join(dir, "o.gguf"), "Q7_0"}, 2, "unknown type"},
		{"same file", []string{"quantize", in, in, "Q8_0"}, 2, "same file"},
		{"bad flag", []string{"quantize", "-nope", in, filepath.Join(dir, "o.gguf"), "Q8_0"}, 2, "nope"},
		{"bad threads", []string{"quantize", "-threads", "0", in, filepath.Join(dir, "o.gguf"), "Q8_0"}, 2, "threads"},
		{"missing input", []string{"quantize", filepath.Join(dir, "none.gguf"), filepath.Join(dir, "o.gguf"), "Q8_0"}, 1, "none.gguf"},
		{"not gguf", []string{"quantize", "quantize.go", filepath.Join(dir, "o.gguf"), "Q8_0"}, 1, "gguf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "o.gguf")); !os.IsNotExist(err) {
		t.Errorf("a failed run left an output file (%v)", err)
	}
}
