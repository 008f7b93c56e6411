package quant_test

import (
	"encoding/binary"
	"math"
	"os"
	"testing"

	"github.com/aethertensor/aether/llm/quant"
)

// goldenRows is the table of testdata/synth-rows.f32 (see synth_rows.py):
// the leading rows of tensors of the F32 model that llama-quantize turned
// into the files of shared/testdata/models/quant.
var goldenRows = []struct {
	name string
	rows int
}{
	{"token_embd.weight", 16},
	{"blk.0.attn_q.weight", 16},
	{"blk.3.ffn_down.weight", 8},
	{"output.weight", 16},
}

// TestQuantizeMatchesLlamaCpp is the byte-equality check of the
// quantisers: the exact F32 rows llama-quantize read, quantised here, must
// give the very bytes llama.cpp wrote, for every type in the test files.
func TestQuantizeMatchesLlamaCpp(t *testing.T) {
	raw, err := os.ReadFile("testdata/synth-rows.f32")
	if err != nil {
		t.Fatal(err)
	}
	all := make([]float32, len(raw)/4)
	for i := range all {
		all[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	for _, tc := range quantFiles {
		t.Run(tc.name, func(t *testing.T) {
			f := openQuantFile(t, tc.name)
			rest := all
			for _, g := range goldenRows {
				ti, ok := f.Tensor(g.name)
				if !ok {
					t.Fatalf("no tensor %s", g.name)
				}
				n := int(ti.Dims[0]) * g.rows
				if n > len(rest) {
					t.Fatalf("synth-rows.f32 too short for %s", g.name)
				}
				x := rest[:n]
				rest = rest[n:]
				rb, err := quant.RowBytes(ti.Type, uint64(n))
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, rb)
				if err := quant.Quantize(ti.Type, got, x); err != nil {
					t.Fatal(err)
				}
				if want := ti.Data[:rb]; string(got) != string(want) {
					l, _ := quant.LayoutOf(ti.Type)
					for b := 0; b < len(got); b += l.TypeSize {
						if string(got[b:b+l.TypeSize]) != string(want[b:b+l.TypeSize]) {
							t.Errorf("%s: block %d differs:\n got % x\nwant % x", g.name, b/l.TypeSize, got[b:b+l.TypeSize], want[b:b+l.TypeSize])
							break
						}
					}
				}
			}
			if len(rest) != 0 {
				t.Errorf("%d values of synth-rows.f32 unused", len(rest))
			}
		})
	}
}

// requantBounds records, per type, how much of a llama.cpp file survives
// quantise(dequantise(file)) unchanged, and the error against the F16 file.
//
// For the block types whose scale is a pure function of the block's
// extreme value (Q4_0 … Q8_0 and F16/BF16), the dequantised extreme maps
// back to the same f16 scale and every value back to its level, so 100% of
// blocks come back. The K-quants and IQ4_NL pick their scales by weighted
// least-squares searches over the data; the dequantised values are a
// different input to that search (they sit exactly on the old grid, and the
// weights x², |x| or rms+|x| change), so some blocks settle on another
// scale. The fractions below are measured (floored) and deterministic.
// A second round (fixed point) is exact except for Q3_K and Q5_K, whose
// searches can still move.
//
// maxNRMSE bounds ||dequant(file) - F16 file|| / ||F16 file|| over the 30
// weight tensors (measured value rounded up).
var requantBounds = map[string]struct {
	minSame  float64 // fraction of blocks identical after one round
	fixed    bool    // second round reproduces the first exactly
	minFixed float64 // else: fraction identical between rounds one and two
	maxNRMSE float64
}{
	"F16":    {1, true, 1, 1e-9},
	"BF16":   {1, true, 1, 0.00170},
	"Q8_0":   {1, true, 1, 0.00540},
	"Q6_K":   {0.80, true, 1, 0.0178},
	"Q5_1":   {1, true, 1, 0.0380},
	"Q5_0":   {1, true, 1, 0.0429},
	"Q5_K_S": {0.914, false, 0.994, 0.0363},
	"Q4_1":   {1, true, 1, 0.0783},
	"Q4_0":   {1, true, 1, 0.0861},
	"Q4_K_S": {0.9995, true, 1, 0.0716},
	"IQ4_NL": {0.992, true, 1, 0.0763},
	"Q3_K_S": {0.534, false, 0.988, 0.151},
	"Q2_K":   {0.992, true, 1, 0.297},
}

func sameBlocks(a, b []byte, size int) (same, total int) {
	for i := 0; i < len(a); i += size {
		total++
		if string(a[i:i+size]) == string(b[i:i+size]) {
			same++
		}
	}
	return same, total
}

// TestRequantizeFiles re-quantises every dequantised weight of each file.
func TestRequantizeFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("reads every test file twice")
	}
	f16 := openQuantFile(t, "F16")
	for _, tc := range quantFiles {
		t.Run(tc.name, func(t *testing.T) {
			bound := requantBounds[tc.name]
			f := openQuantFile(t, tc.name)
			l, _ := quant.LayoutOf(tc.typ)
			var same1, same2, total int
			var se, ss float64
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				if ti.Type != tc.typ {
					continue
				}
				deq := dequantTensor(t, ti)
				re := make([]byte, len(ti.Data))
				if err := quant.Quantize(ti.Type, re, deq); err != nil {
					t.Fatal(err)
				}
				s, n := sameBlocks(re, ti.Data, l.TypeSize)
				same1 += s
				total += n
				deq2 := make([]float32, len(deq))
				if err := quant.Dequantize(ti.Type, deq2, re); err != nil {
					t.Fatal(err)
				}
				re2 := make([]byte, len(re))
				if err := quant.Quantize(ti.Type, re2, deq2); err != nil {
					t.Fatal(err)
				}
				s, _ = sameBlocks(re2, re, l.TypeSize)
				same2 += s

				ref, ok := f16.Tensor(ti.Name)
				if !ok {
					t.Fatalf("F16 file has no %s", ti.Name)
				}
				for k, r := range dequantTensor(t, ref) {
					d := float64(deq[k]) - float64(r)
					se += d * d
					ss += float64(r) * float64(r)
				}
			}
			frac1 := float64(same1) / float64(total)
			frac2 := float64(same2) / float64(total)
			nrmse := math.Sqrt(se / ss)
			t.Logf("requantised identical %d/%d blocks (%.4f%%); second round %.4f%%; NRMSE vs F16 %.6f", same1, total, 100*frac1, 100*frac2, nrmse)
			if frac1 < bound.minSame {
				t.Errorf("only %.4f%% of blocks requantise identically, want >= %.4f%%", 100*frac1, 100*bound.minSame)
			}
			if bound.fixed && same2 != total {
				t.Errorf("second round changed %d blocks, want a fixed point", total-same2)
			}
			if !bound.fixed && frac2 < bound.minFixed {
				t.Errorf("second round kept %.4f%% of blocks, want >= %.4f%%", 100*frac2, 100*bound.minFixed)
			}
			if nrmse > bound.maxNRMSE {
				t.Errorf("NRMSE vs F16 = %.6f, want <= %.6f", nrmse, bound.maxNRMSE)
			}
		})
	}
}
