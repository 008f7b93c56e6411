package quant_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/aethertensor/aether/llm/quant"
)

func readF32(t testing.TB, path string) []float32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(raw)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return x
}

// TestQuantizeMatchesGGML compares every quantiser with blocks ggml's own C
// quantisers made from edge-case input (testdata/ggml, see its README),
// including the types no llama.cpp model file here uses: Q8_1, Q8_K and
// IQ4_XS.
func TestQuantizeMatchesGGML(t *testing.T) {
	x := readF32(t, "testdata/ggml/input.f32")
	for _, typ := range []quant.Type{
		quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0, quant.Q8_1,
		quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K, quant.Q8_K,
		quant.IQ4_NL, quant.IQ4_XS,
	} {
		t.Run(typ.String(), func(t *testing.T) {
			want, err := os.ReadFile("testdata/ggml/" + typ.String() + ".bin")
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			if err := quant.Quantize(typ, got, x); err != nil {
				t.Fatal(err)
			}
			l, _ := quant.LayoutOf(typ)
			for b := 0; b < len(got); b += l.TypeSize {
				if string(got[b:b+l.TypeSize]) != string(want[b:b+l.TypeSize]) {
					t.Errorf("block %d (input block %d):\n got % x\nwant % x", b/l.TypeSize, b/l.TypeSize*l.BlockSize/256, got[b:b+l.TypeSize], want[b:b+l.TypeSize])
				}
			}
		})
	}
}

// TestDequantizeMatchesGGML checks the dequantisers of the two types whose
// output no model file covers against ggml's dequantize_row_*.
func TestDequantizeMatchesGGML(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q8_K, quant.IQ4_XS} {
		t.Run(typ.String(), func(t *testing.T) {
			src, err := os.ReadFile("testdata/ggml/" + typ.String() + ".bin")
			if err != nil {
				t.Fatal(err)
			}
			want := readF32(t, "testdata/ggml/"+typ.String()+".f32")
			got := make([]float32, len(want))
			if err := quant.Dequantize(typ, got, src); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("element %d = %g, want %g", i, got[i], want[i])
				}
			}
		})
	}
}

// TestConversionsExhaustive compares the conversions over every input with
// hashes printed by a C program using F16C's _cvtss_sh/_cvtsh_ss and
// ggml's fp32-to-bf16 (see testdata/README.md). Set
// AETHER_QUANT_EXHAUSTIVE=1 to run it (about 15 s).
func TestConversionsExhaustive(t *testing.T) {
	if os.Getenv("AETHER_QUANT_EXHAUSTIVE") == "" {
		t.Skip("set AETHER_QUANT_EXHAUSTIVE=1 to convert all 2^32 float32 values")
	}
	var hF16, hF32, hBF16 uint64
	for i := uint64(0); i < 1<<32; i++ {
		f := math.Float32frombits(uint32(i))
		hF16 = hF16*1000003 + uint64(quant.F32ToF16(f))
		hBF16 = hBF16*1000003 + uint64(quant.F32ToBF16(f))
	}
	for i := 0; i < 1<<16; i++ {
		hF32 = hF32*1000003 + uint64(math.Float32bits(quant.F16ToF32(uint16(i))))
	}
	got := fmt.Sprintf("%016x %016x %016x", hF16, hF32, hBF16)
	if want := "15a74e73b1ca8000 72aa076759800000 322d27b1b4ca8000"; got != want {
		t.Errorf("hashes %s, want %s", got, want)
	}
}
