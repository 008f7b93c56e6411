package gguf

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
)

// FuzzParse checks that Parse never panics, that what it accepts satisfies
// its invariants, and that writing an accepted file and parsing it again
// gives the same contents (and a byte-identical second rewrite).
//
// Run: go test ./llm/gguf -run '^$' -fuzz FuzzParse -fuzztime 20s -fuzzminimizetime 5s
// (the minimize limit keeps the fuzzer from stalling on large new inputs).
func FuzzParse(f *testing.F) {
	f.Add(buildSample(f, 3))
	f.Add(buildSample(f, 2))
	f.Add(buildSample(f, 1))
	f.Add(header(3, 0, 0).b)
	// Header and metadata regions of the small real files: the fuzzer
	// mutates their key/values and tensor infos without dragging the
	// megabytes of tensor data through every run.
	for _, name := range []string{"models/stories260K.gguf", "models/tinyllamas-stories-260k-f32.gguf", "models/llama-2-tiny-random.gguf", "models/quant/synth-llama-256-Q4_K_S.gguf"} {
		data, err := os.ReadFile(testdata.Path(f, name))
		if err != nil {
			f.Fatal(err)
		}
		g, err := Parse(data)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(int(g.DataOffset), 8<<10)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		checkInvariants(t, g, data)
		var out bytes.Buffer
		if err := rewrite(g, &out); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		h, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("parse of rewrite: %v", err)
		}
		if !sameContents(g, h) {
			t.Fatal("rewrite changed the contents")
		}
		var again bytes.Buffer
		if err := rewrite(h, &again); err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) {
			t.Fatalf("second rewrite differs (%v)", err)
		}
	})
}

func checkInvariants(t *testing.T, g *File, data []byte) {
	t.Helper()
	if g.Version < 1 || g.Version > 3 || g.Alignment == 0 || g.Alignment&(g.Alignment-1) != 0 {
		t.Fatalf("version %d alignment %d", g.Version, g.Alignment)
	}
	for i := range g.Tensors {
		ti := &g.Tensors[i]
		size, err := tensorBytes(ti.Type, ti.Dims)
		if err != nil || uint64(len(ti.Data)) != size || len(ti.Dims) > MaxDims {
			t.Fatalf("tensor %q: %d bytes, want %d (%v)", ti.Name, len(ti.Data), size, err)
		}
		start := uint64(g.DataOffset) + ti.Offset
		if start+size > uint64(len(data)) || ti.Offset%g.Alignment != 0 {
			t.Fatalf("tensor %q at %d+%d outside %d bytes or unaligned", ti.Name, start, size, len(data))
		}
	}
}

// sameContents compares versions, metadata and tensors of two files.
func sameContents(a, b *File) bool {
	if a.Version != b.Version || a.Alignment != b.Alignment || a.Meta.Len() != b.Meta.Len() || len(a.Tensors) != len(b.Tensors) {
		return false
	}
	for i, k := range a.Meta.Keys() {
		if b.Meta.Keys()[i] != k {
			return false
		}
		va, _ := a.Meta.Lookup(k)
		vb, _ := b.Meta.Lookup(k)
		// Compare through the encoder so NaNs compare by bits.
		if va.Type != vb.Type || va.ElemType != vb.ElemType || !bytes.Equal(encodeValue(va, a.Version), encodeValue(vb, b.Version)) {
			return false
		}
	}
	for i := range a.Tensors {
		x, y := &a.Tensors[i], &b.Tensors[i]
		if x.Name != y.Name || x.Type != y.Type || x.Offset != y.Offset || !equalDims(x.Dims, y.Dims) || !bytes.Equal(x.Data, y.Data) {
			return false
		}
	}
	return true
}

// encodeValue returns the encoded payload of v as the given version writes it.
func encodeValue(v Value, version uint32) []byte {
	var buf bytes.Buffer
	e := &encoder{w: bufio.NewWriter(&buf), wide: version >= 2}
	e.value(v)
	_ = e.w.Flush()
	return buf.Bytes()
}
