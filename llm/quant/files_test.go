package quant_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/quant"
)

// quantFiles lists the llama.cpp-made files of testdata/models/quant with
// the weight type of their 30 2-D tensors and the "dequantized sha256" of
// the testdata README: sha256 over every tensor's float32 values (LE) in
// tensor-info order, as ggml's to_float and gguf-py computed them.
var quantFiles = []struct {
	name string
	typ  quant.Type
	sha  string
}{
	{"F16", quant.F16, "0e90b53cea2eb12c5748988afd08b7897e84ac1dda7057c5b4c9dcc57485e0b2"},
	{"BF16", quant.BF16, "0014fad6c5393a916cc27fbc13cb481bf35fd8a237905750831dc1299b88d7ca"},
	{"Q8_0", quant.Q8_0, "dbeb1665d64bfc919a1dfe7ba04809b864530e013cf81dcecd7751b69a72d0fe"},
	{"Q6_K", quant.Q6_K, "ac946ee1b523b74b86e4815d68b59db55be608bb88a6cff09fd41e2f486aac22"},
	{"Q5_1", quant.Q5_1, "2fa46a145c603fd16003dceb76e56e521e105bf88030dbdce0f0d66ada95eea8"},
	{"Q5_0", quant.Q5_0, "90e5d069d31c5cc4a97b4d5164371a568ce0351711d861dd8fb3e11b88a72405"},
	{"Q5_K_S", quant.Q5_K, "210475864f52ae0b7d11579dc95d84523a27317909bb4928943230600286ec32"},
	{"Q4_1", quant.Q4_1, "0b7b5c2a3aa4a45cd8a6512524efb91fb7943d41b3ba8e1f2abe7f03d5ec1d3c"},
	{"Q4_0", quant.Q4_0, "c35f5e7fd70a9ddf288efe22734068ab27558f1f28f2421e0f2b2e9dd8e2fe10"},
	{"Q4_K_S", quant.Q4_K, "6c58bcf2a4dda3582a6a30d2ca7f9b3b9419ade21c1218dcb5489b30af14fa33"},
	{"IQ4_NL", quant.IQ4_NL, "ef4bdd6dbb68f25c35c087b60620512ef7c1cfd209c49b314761af9918bb25a2"},
	{"Q3_K_S", quant.Q3_K, "eb1a70b19c8e908e0ffd144735ccaa850e21ab4ebf1011f71f233778a1453549"},
	{"Q2_K", quant.Q2_K, "d3a5eae73006afd25dfc588073f07b616115e1fc923ba32d755f0d378ca633f6"},
}

func openQuantFile(t testing.TB, name string) *gguf.File {
	t.Helper()
	f, err := gguf.Open(testdata.Path(t, "models/quant/synth-llama-256-"+name+".gguf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func dequantTensor(t testing.TB, ti *gguf.TensorInfo) []float32 {
	t.Helper()
	out := make([]float32, ti.NumElements())
	if err := quant.Dequantize(ti.Type, out, ti.Data); err != nil {
		t.Fatalf("%s: %v", ti.Name, err)
	}
	return out
}

// TestDequantizeFilesSHA256 checks every dequantiser bit for bit against
// ggml: the hash covers all 39 tensors of each file.
func TestDequantizeFilesSHA256(t *testing.T) {
	for _, tc := range quantFiles {
		t.Run(tc.name, func(t *testing.T) {
			f := openQuantFile(t, tc.name)
			h := sha256.New()
			var buf []byte
			nq := 0
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				if ti.Type == tc.typ {
					nq++
				}
				vals := dequantTensor(t, ti)
				buf = buf[:0]
				for _, v := range vals {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				}
				h.Write(buf)
			}
			if nq != 30 {
				t.Errorf("%d tensors of type %s, want 30", nq, tc.typ)
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != tc.sha {
				t.Errorf("dequantized sha256 = %s, want %s", got, tc.sha)
			}
		})
	}
}
