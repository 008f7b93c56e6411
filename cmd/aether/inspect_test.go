package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
)

func TestInspectText(t *testing.T) {
	path := testdata.Path(t, "models/stories260K.gguf")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"inspect", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// Compare with runs of spaces collapsed, so column widths do not matter.
	s := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"version: 3",
		"alignment: 32",
		"data offset: 14176",
		"tensors: 48",
		"metadata: 19 keys",
		`general.architecture string "llama"`,
		`tokenizer.ggml.tokens [512]string ["<unk>" "<s>" "</s>" "<0x00>" "<0x01>" "<0x02>" "<0x03>" "<0x04>" … 504 more]`,
		"llama.attention.layer_norm_rms_epsilon float32 1e-05",
		"NAME TYPE DIMS OFFSET BYTES",
		"token_embd.weight F32 64×512 0 131072",
		"blk.4.ffn_norm.weight F32 64 1170944 256",
		"(total) 1171200",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q\n%s", want, out.String())
		}
	}
}

func TestInspectJSON(t *testing.T) {
	for _, args := range [][]string{{"--json", "FILE"}, {"FILE", "--json"}} {
		path := testdata.Path(t, "models/tinyllamas-stories-260k-f32.gguf")
		for i, a := range args {
			if a == "FILE" {
				args[i] = path
			}
		}
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"inspect"}, args...), &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		var r inspectJSON
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if r.Version != 1 || r.TensorCount != 48 || len(r.Tensors) != 48 || r.KeyCount != 18 || len(r.Metadata) != 18 || r.Alignment != 32 {
			t.Fatalf("header: %+v", r)
		}
		if r.Tensors[0].Type != "F32" || r.Tensors[0].Bytes == 0 {
			t.Errorf("tensor 0: %+v", r.Tensors[0])
		}
		var toks *inspectKV
		for i := range r.Metadata {
			if r.Metadata[i].Key == "tokenizer.ggml.tokens" {
				toks = &r.Metadata[i]
			}
		}
		if toks == nil || toks.Type != "array" || toks.ElemType != "string" || *toks.Len != 512 || !toks.Truncated {
			t.Fatalf("tokens: %+v", toks)
		}
		if items := toks.Value.([]any); len(items) != inspectJSONItems || items[1] != "<s>" {
			t.Errorf("token items: %v", items)
		}
		if r.Metadata[0].Key != "general.architecture" || r.Metadata[0].Value != "llama" {
			t.Errorf("first key: %+v", r.Metadata[0])
		}
	}
}

func TestInspectErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.gguf")
	if err := os.WriteFile(bad, []byte("GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"inspect"}, 2, "want exactly one FILE"},
		{[]string{"inspect", "a", "b"}, 2, "got 2"},
		{[]string{"inspect", "--nope", "a"}, 2, "flag provided but not defined"},
		{[]string{"inspect", filepath.Join(t.TempDir(), "missing.gguf")}, 1, "no such file"},
		{[]string{"inspect", bad}, 1, "key/value count at offset 16"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d containing %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
}

// TestInspectJSONOddValues: NaN and infinities (which encoding/json rejects)
// and nested arrays must still give valid JSON.
func TestInspectJSONOddValues(t *testing.T) {
	b := gguf.NewBuilder()
	for k, x := range map[string]any{
		"nan":    float32(math.NaN()),
		"infs":   []float64{math.Inf(1), math.Inf(-1), 1},
		"nested": []gguf.Value{{Type: gguf.TypeArray, ElemType: gguf.TypeUint8, V: []uint8{1, 2}}},
	} {
		v, err := gguf.NewValue(x)
		if err != nil {
			t.Fatal(err)
		}
		_ = b.Meta.Set(k, v)
	}
	path := filepath.Join(t.TempDir(), "odd.gguf")
	fd, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteTo(fd); err != nil {
		t.Fatal(err)
	}
	fd.Close()
	for _, args := range [][]string{{"inspect", "--json", path}, {"inspect", path}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		if args[1] != "--json" {
			if !strings.Contains(out.String(), "[[1 2]]") || !strings.Contains(out.String(), "NaN") {
				t.Errorf("text output:\n%s", out.String())
			}
			continue
		}
		var r inspectJSON
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		got := map[string]string{}
		for _, kv := range r.Metadata {
			j, _ := json.Marshal(kv.Value)
			got[kv.Key] = string(j)
		}
		want := map[string]string{
			"nan":    `"NaN"`,
			"infs":   `["+Inf","-Inf",1]`,
			"nested": `[{"elem_type":"uint8","len":2,"type":"array","value":[1,2]}]`,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
	}
}
