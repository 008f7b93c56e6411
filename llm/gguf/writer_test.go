package gguf

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/quant"
)

// TestRoundTrip parses every test file, rewrites it with FromFile and
// compares the output with the original bytes.
func TestRoundTrip(t *testing.T) {
	for _, name := range testFiles {
		t.Run(name, func(t *testing.T) {
			path := testdata.Path(t, name)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(orig)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			b, err := FromFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n, err := b.WriteTo(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(buf.Len()) {
				t.Errorf("WriteTo returned %d, wrote %d", n, buf.Len())
			}
			if got := buf.Bytes(); !bytes.Equal(got, orig) {
				i := 0
				for i < len(got) && i < len(orig) && got[i] == orig[i] {
					i++
				}
				t.Fatalf("output differs from the original at byte %d (lengths %d, %d)", i, len(got), len(orig))
			}
		})
	}
}

// buildSample writes a small v3 file with every value type and two tensors.
func buildSample(t testing.TB, version uint32) []byte {
	t.Helper()
	b := NewBuilder()
	b.Version = version
	vals := []any{
		uint8(1), int8(-2), uint16(3), int16(-4), uint32(5), int32(-6), uint64(7), int64(-8),
		float32(0.5), float64(-0.25), true, "hello",
		[]uint8{1, 2}, []int8{-1}, []uint16{3}, []int16{-3}, []uint32{4, 5}, []int32{-5, 6},
		[]uint64{7}, []int64{-7}, []float32{1.5, 2.5}, []float64{3.5}, []bool{true, false}, []string{"a", "", "bc"},
		[]Value{{Type: TypeArray, ElemType: TypeInt32, V: []int32{1, 2}}, {Type: TypeArray, ElemType: TypeString, V: []string{"x"}}},
	}
	for i, x := range vals {
		v, err := NewValue(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Meta.Set("k"+string(rune('a'+i)), v); err != nil {
			t.Fatal(err)
		}
	}
	arch, _ := NewValue("llama")
	_ = b.Meta.Set("general.architecture", arch)
	if err := b.AddTensor("w", quant.F32, []uint64{3, 2}, make([]byte, 24)); err != nil {
		t.Fatal(err)
	}
	q := make([]byte, 34)
	q[0] = 0xaa
	if err := b.AddTensor("q", quant.Q8_0, []uint64{32}, q); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBuilderAllTypes(t *testing.T) {
	for _, version := range []uint32{1, 2, 3} {
		data := buildSample(t, version)
		f, err := Parse(data)
		if err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		if f.Version != version || f.Meta.Len() != 26 || len(f.Tensors) != 2 {
			t.Fatalf("v%d: version %d, %d keys, %d tensors", version, f.Version, f.Meta.Len(), len(f.Tensors))
		}
		v, _ := f.Meta.Lookup("ky")
		if v.String() != `[[1 2] ["x"]]` {
			t.Errorf("nested array = %s", v)
		}
		if q, _ := f.Tensor("q"); q == nil || q.Offset != 32 || q.Data[0] != 0xaa || len(q.Data) != 34 {
			t.Errorf("tensor q = %+v", q)
		}
		var again bytes.Buffer
		if err := rewrite(f, &again); err != nil || !bytes.Equal(again.Bytes(), data) {
			t.Errorf("v%d: rewrite differs (%v)", version, err)
		}
	}
}

func TestBuilderErrors(t *testing.T) {
	b := NewBuilder()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"size", b.AddTensor("a", quant.F32, []uint64{4}, make([]byte, 15)), "needs 16 bytes, got 15"},
		{"dims", b.AddTensor("b", quant.F32, []uint64{1, 1, 1, 1, 1}, make([]byte, 4)), "5 dimensions"},
		{"block", b.AddTensor("c", quant.Q4_0, []uint64{16, 2}, make([]byte, 18)), "block size 32"},
		{"type", b.AddTensor("d", quant.Type(4), []uint64{32}, nil), "unknown tensor type"},
		{"ok", b.AddTensor("e", quant.F32, []uint64{1}, make([]byte, 4)), ""},
		{"dup", b.AddTensor("e", quant.F32, []uint64{1}, make([]byte, 4)), "duplicate tensor name"},
		{"overlap", func() error {
			b2 := NewBuilder()
			_ = b2.AddTensor("x", quant.F32, []uint64{16}, make([]byte, 64))
			_ = b2.AddTensorAt("y", quant.F32, []uint64{1}, make([]byte, 4), 32)
			_, err := b2.WriteTo(&bytes.Buffer{})
			return err
		}(), "overlaps"},
		{"align", func() error {
			b2 := NewBuilder()
			_ = b2.Meta.Set(KeyAlignment, Value{Type: TypeUint32, V: uint32(24)})
			_, err := b2.WriteTo(&bytes.Buffer{})
			return err
		}(), "not a power of two"},
		{"badvalue", NewBuilder().Meta.Set("k", Value{Type: TypeUint32, V: "x"}), "uint32 value holds string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == "" {
				if tc.err != nil {
					t.Fatal(tc.err)
				}
				return
			}
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", tc.err, tc.want)
			}
			if !errors.Is(tc.err, ErrWrite) && !errors.Is(tc.err, ErrKeyType) {
				t.Errorf("error %v wraps neither ErrWrite nor ErrKeyType", tc.err)
			}
		})
	}
}

// rewrite writes f back out through FromFile.
func rewrite(f *File, w *bytes.Buffer) error {
	b, err := FromFile(f)
	if err != nil {
		return err
	}
	_, err = b.WriteTo(w)
	return err
}
