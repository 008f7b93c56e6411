package model

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aethertensor/aether/backend/cpu/qdot"
	"github.com/aethertensor/aether/backend/wgpu"
)

// webgpuParity lists the files TestParityWebGPU runs by default (llvmpipe
// compiles many pipelines per model, ~3–15 s a file); AETHER_WGPU_ALL=1
// runs every file of parityModels. On 2026-11-25 all 15 gave llama.cpp's
// 32 greedy ids on llvmpipe.
var webgpuParity = []string{"stories260K", "synth-llama-256-F16", "synth-llama-256-Q8_0", "synth-llama-256-Q6_K"}

// webgpuTol bounds the first-step top-10 probability gaps to llama.cpp of
// the synthetic quantised files on the WebGPU backend (the others must be
// within the 1e-3), set about 25% above what llvmpipe gave on
// 2026-11-25: Q8_0 0.0044, Q6_K 0.0063, Q4_0 0.0027, Q4_K_S 0.0017 (run
// by qmatmul8, which rounds activations to 8 bits as llama.cpp does), and
// for files loaded dense BF16 0.0015, Q5_1 0.0024, Q5_0 0.0022, Q5_K_S
// 0.0064, Q4_1 0.021, IQ4_NL 0.0025, Q3_K_S 0.018, Q2_K 0.0035.
var webgpuTol = map[string]float64{
	"synth-llama-256-Q8_0": 0.0055, "synth-llama-256-Q6_K": 0.008, "synth-llama-256-Q4_0": 0.0035,
	"synth-llama-256-Q4_K_S": 0.0025, "synth-llama-256-BF16": 0.002, "synth-llama-256-Q5_1": 0.003,
	"synth-llama-256-Q5_0": 0.003, "synth-llama-256-Q5_K_S": 0.008, "synth-llama-256-Q4_1": 0.026,
	"synth-llama-256-IQ4_NL": 0.0032, "synth-llama-256-Q3_K_S": 0.023, "synth-llama-256-Q2_K": 0.0045,
}

// webgpuQ8 lists the files whose every matmul runs qdot's arithmetic on
// WebGPU (qmatmul8): their probabilities must equal the CPU backend's
// (llvmpipe, 2026-11-25: Q8_0, Q4_0, Q4_K_S |Δp| 0, Q6_K 2.7e-7).
var webgpuQ8 = []string{"synth-llama-256-Q8_0", "synth-llama-256-Q6_K", "synth-llama-256-Q4_0", "synth-llama-256-Q4_K_S"}

// TestParityWebGPU runs the parity models on the WebGPU backend (llvmpipe
// in CI) and checks llama.cpp's greedy ids and first-step probabilities.
//
// The quantized matmuls of the types WebGPU keeps in blocks (Q4_0, Q8_0,
// Q4_K, Q6_K) round activations to 8-bit blocks and add the block terms
// as qdot's Go kernels do, so the first-step probabilities equal the CPU
// backend's under the same options (checked below, with qdot at its
// Generic level). What remains of the gap to llama.cpp on the synthetic
// files is the arithmetic Options.LlamaCppArith emulates on the CPU
// (ggml's flash attention order, RMSNorm summed in float64), which WebGPU
// cannot run (no f64): these files' large random activations turn its
// last-bit differences into whole quantisation steps (webgpuTol). Files
// whose weights the shaders do not decode run dense in f32.
func TestParityWebGPU(t *testing.T) {
	if testing.Short() {
		t.Skip("compiling WebGPU pipelines is slow")
	}
	dev := webgpuDevice(t)
	prev, err := qdot.SetLevel(qdot.Generic)
	if err != nil {
		t.Fatal(err)
	}
	defer qdot.SetLevel(prev)
	all := os.Getenv("AETHER_WGPU_ALL") == "1"
	for _, tc := range parityModels {
		name := strings.TrimSuffix(filepath.Base(tc.file), ".gguf")
		if !all && !slices.Contains(webgpuParity, name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			tol := 1e-3
			if b, ok := webgpuTol[name]; ok {
				tol = b
			}
			ref := readReference(t, name)
			m := openModel(t, tc.file, Options{Context: 64, Device: dev, HalfKV: true})
			ctx := context.Background()
			logits, err := m.Forward(ctx, ref.PromptIDs, 0)
			if err != nil {
				t.Fatal(err)
			}
			p := softmax(logits)
			gap := top10Gap(p, ref)
			t.Logf("first-step top-10 max |Δp| %.2g (tolerance %.2g)", gap, tol)
			if gap > tol {
				t.Errorf("first-step probabilities differ from llama.cpp's by %.2g (tolerance %.2g)", gap, tol)
			}
			if slices.Contains(webgpuQ8, name) {
				// The CPU with the same options: the device's 8-bit
				// quantized matmuls should give its probabilities.
				c := openModel(t, tc.file, Options{Context: 64, HalfKV: true})
				cl, err := c.Forward(ctx, ref.PromptIDs, 0)
				if err != nil {
					t.Fatal(err)
				}
				pc := softmax(cl)
				var d float64
				for _, e := range ref.Top10 {
					d = math.Max(d, math.Abs(p[int(e[0])]-pc[int(e[0])]))
				}
				t.Logf("first-step top-10 max |Δp| to the CPU backend %.2g", d)
				if d > 1e-6 {
					t.Errorf("first-step probabilities differ from the CPU backend's by %.2g", d)
				}
			}
			var got []int32
			for pos := len(ref.PromptIDs); len(got) < len(ref.IDs); pos++ {
				id := argmax(logits)
				got = append(got, id)
				if logits, err = m.Forward(ctx, []int32{id}, pos); err != nil {
					t.Fatal(err)
				}
			}
			if tc.ids && !slices.Equal(got, ref.IDs) {
				t.Errorf("ids %v\nllama.cpp %v", got, ref.IDs)
			}
		})
	}
}

// webgpuDevice opens the WebGPU device for a test: skipped without an
// adapter, failed without one in CI; closed when the test ends.
func webgpuDevice(t *testing.T) *wgpu.Device {
	t.Helper()
	dev, err := wgpu.New()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no WebGPU adapter in CI: %v", err)
		}
		t.Skipf("no WebGPU adapter: %v", err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}
