package model

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aethertensor/aether/backend/cpu/qdot"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/tensor"
)

// reference is one file written by scripts/llamacpp_ref.sh: llama.cpp's
// greedy continuation of "Once upon a time" and its first-step top-10.
type reference struct {
	PromptIDs []int32      `json:"prompt_ids"`
	IDs       []int32      `json:"ids"`
	Text      string       `json:"text"`
	MS        float64      `json:"ms"`
	Top10     [][2]float64 `json:"top10"`
}

func readReference(t *testing.T, name string) reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "llamacpp", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// parityModels lists the files with a committed llama.cpp reference;
// ids says whether the 32 greedy ids must match exactly (not for
// llama-2-tiny-random, whose logits have near-ties), tol is the absolute
// tolerance on the first-step top-10 probabilities (the issue asks for 1e-3).
//
// The references come from llama.cpp's CPU backend (amd64) with flash
// attention on (node-llama-cpp's "auto") over an f16 cache, which
// Options.LlamaCppArith emulates along with ggml's RMSNorm, SwiGLU
// (TestSwiGLUMatchesGGML) and RoPE (TestRoPEMatchesGGML: float32 angle
// recurrence, glibc's sincosf, the rotation's products fused as the x86
// build contracts them), and the test runs qdot's generic kernels, which
// add block products in the order of the x86 kernels llama.cpp runs: the
// AVX2 vec_dot for Q3_K, Q5_K and Q6_K (8 integer lanes, one FMA per lane
// and block), the repacked 8x8 gemv for Q4_0, Q2_K and IQ4_NL (one FMA
// per block). The synthetic files have random weights and large
// activations (token_embd std 4), and their 8-bit activation quantisation
// turns last-bit float differences into whole quantisation steps, so the
// probabilities agree within 1e-3 only when the arithmetic is llama.cpp's
// to the bit. With the reference library's intermediate tensors dumped
// (python ctypes on libllama, llama_context_params.cb_eval), the
// first-step logits of the Q8_0, Q6_K, Q5_1, Q5_0, Q5_K_S, Q4_1, Q4_0,
// Q4_K_S, IQ4_NL, Q3_K_S and Q2_K files are bit-identical to llama.cpp's
// (the up to 1.3e-6 left here comes after the logits: llama.cpp's float32
// softmax against the test's float64 one). Not matched, a few
// ulp off: F32, F16 and BF16 matmuls (llama.cpp uses tinyBLAS for two or
// more activation rows and ggml_vec_dot_f16/bf16/f32 for one, and applies
// the last layer's FFN to the output row only), and the Q2_K gemm over
// groups of four activation rows (it adds per 128-element half).
//
// Q5_K_S was at 0.0029 until RoPE was computed ggml's way (now 4e-7): the
// graph's RoPE rounds both products, so about a fifth of the rotated
// values were an ulp off ggml's (an earlier try with ggml's angles but
// both products rounded left the gap unchanged). How it was found: GGUF
// variants mixing the Q5_K_S and Q8_0 files' tensors (same source
// weights) showed no single tensor class to blame (token_embd, output,
// each projection class alone, all blk tensors alone: all within 1.2e-6),
// but token_embd with all blk tensors gave 0.006, i.e. a rare event whose
// odds grow with the Q5_K weights' activations. Replaying each dumped op
// on its dumped inputs: every MUL_MAT, RMS_NORM·weight, flash attention
// and SWIGLU was bit-identical; ROPE differed in 229 of 1280 values of
// Qcur-0. The other files hid the same last-bit differences because
// their activation quantisation rounded them to the same steps.
var parityModels = []struct {
	file string
	ids  bool
	tol  float64
}{
	{"models/stories260K.gguf", true, 1e-3},
	{"models/llama-2-tiny-random.gguf", false, 1e-3},
	{"models/quant/synth-llama-256-F16.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q8_0.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-BF16.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q6_K.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q5_1.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q5_0.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q5_K_S.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q4_1.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q4_0.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q4_K_S.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-IQ4_NL.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q3_K_S.gguf", true, 1e-3},
	{"models/quant/synth-llama-256-Q2_K.gguf", true, 1e-3},
}

func openModel(t *testing.T, rel string, opts Options) *Model {
	t.Helper()
	f, err := gguf.Open(testdata.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := Load(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func softmax(logits []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	p := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		p[i] = math.Exp(float64(v) - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

func argmax(logits []float32) int32 {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return int32(best)
}

// TestParityLlamaCpp checks greedy ids and first-step probabilities
// against llama.cpp on the same files.
func TestParityLlamaCpp(t *testing.T) {
	prev, err := qdot.SetLevel(qdot.Generic)
	if err != nil {
		t.Fatal(err)
	}
	// The parallel subtests run inside the group, before the level returns.
	t.Run("group", func(t *testing.T) { parity(t) })
	qdot.SetLevel(prev)
}

func parity(t *testing.T) {
	for _, tc := range parityModels {
		name := strings.TrimSuffix(filepath.Base(tc.file), ".gguf")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ref := readReference(t, name)
			m := openModel(t, tc.file, Options{Context: 64, LlamaCppArith: true})
			ctx := context.Background()
			logits, err := m.Forward(ctx, ref.PromptIDs, 0)
			if err != nil {
				t.Fatal(err)
			}
			p := softmax(logits)
			gap := top10Gap(p, ref)
			t.Logf("first-step top-10 max |Δp| %.2g (tolerance %.2g)", gap, tc.tol)
			if got := top(p, 1)[0]; got != int(ref.Top10[0][0]) {
				t.Errorf("step 0: most probable id %d, llama.cpp %v", got, ref.Top10[0][0])
			}
			for _, e := range ref.Top10 {
				id, want := int(e[0]), e[1]
				if d := math.Abs(p[id] - want); d > tc.tol {
					t.Errorf("step 0: p(%d) = %.6f, llama.cpp %.6f (|Δ| %.2g)", id, p[id], want, d)
				}
			}
			pos := len(ref.PromptIDs)
			var got []int32
			for range ref.IDs {
				id := argmax(logits)
				got = append(got, id)
				if logits, err = m.Forward(ctx, []int32{id}, pos); err != nil {
					t.Fatal(err)
				}
				pos++
			}
			if !tc.ids {
				return
			}
			for i := range got {
				if got[i] != ref.IDs[i] {
					t.Fatalf("greedy ids differ from llama.cpp at step %d:\n got %v\nwant %v", i, got, ref.IDs)
				}
			}
		})
	}
}

// top returns the n most probable ids, for messages.
func top(p []float64, n int) []int {
	ids := make([]int, len(p))
	for i := range ids {
		ids[i] = i
	}
	sort.Slice(ids, func(a, b int) bool { return p[ids[a]] > p[ids[b]] })
	return ids[:n]
}

// TestSwiGLUMatchesGGML checks swiGLU against ggml_vec_swiglu_f32 of the
// reference build, bit for bit, on rows with a 16-element SIMD part and a
// libm tail, from small arguments to ones where exp over- and underflows.
func TestSwiGLUMatchesGGML(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "llamacpp", "swiglu.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Rows, Cols int
		X, G, Y    []uint32
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	n := ref.Rows * ref.Cols
	if len(ref.X) != n || len(ref.G) != n || len(ref.Y) != n {
		t.Fatalf("swiglu.json: %d×%d with %d/%d/%d values", ref.Rows, ref.Cols, len(ref.X), len(ref.G), len(ref.Y))
	}
	floats := func(u []uint32) []float32 {
		f := make([]float32, len(u))
		for i, v := range u {
			f[i] = math.Float32frombits(v)
		}
		return f
	}
	g := graph.New()
	y := swiGLU(g.Const(tensor.NewF32(floats(ref.X), ref.Rows, ref.Cols)), g.Const(tensor.NewF32(floats(ref.G), ref.Rows, ref.Cols)))
	p, err := graph.Compile([]graph.Tensor{y})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, got := range out[0].Float32s() {
		if want := math.Float32frombits(ref.Y[i]); math.Float32bits(got) != ref.Y[i] {
			t.Errorf("row %d col %d: silu(%g)·%g = %g, ggml %g", i/ref.Cols, i%ref.Cols, math.Float32frombits(ref.X[i]), math.Float32frombits(ref.G[i]), got, want)
		}
	}
}

// top10Gap is the largest difference between p and llama.cpp's first-step
// top-10 probabilities.
func top10Gap(p []float64, ref reference) float64 {
	var gap float64
	for _, e := range ref.Top10 {
		gap = math.Max(gap, math.Abs(p[int(e[0])]-e[1]))
	}
	return gap
}
