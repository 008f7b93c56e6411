package model

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/backend/cpu/qdot"
	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/tensor"
)

// greedy runs the prompt and n greedy decode steps, returning the chosen
// ids and the logits each was chosen from.
func greedy(t *testing.T, m *Model, prompt []int32, n int) ([]int32, [][]float32) {
	t.Helper()
	ctx := context.Background()
	logits, err := m.Forward(ctx, prompt, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int32
	var all [][]float32
	pos := len(prompt)
	for range n {
		all = append(all, append([]float32(nil), logits...))
		id := argmax(logits)
		ids = append(ids, id)
		if logits, err = m.Forward(ctx, []int32{id}, pos); err != nil {
			t.Fatal(err)
		}
		pos++
	}
	return ids, all
}

// arenaBytes is the planned scratch memory of m's decode Programs.
func arenaBytes(m *Model) int {
	n := 0
	for key, p := range m.progs {
		if key[0] == 1 && p.p.MemoryPlan() != nil {
			n += p.p.MemoryPlan().Size
		}
	}
	return n
}

// TestHalfKVCache checks that an f16 or bf16 cache takes half the bytes of
// the f32 one and changes neither the greedy ids nor the logits by more
// than a stated bound. With LlamaCppArith (which rounds keys and values to
// f16 precision anyway) an f16 cache must change no logit at all, and the
// greedy ids must stay llama.cpp's, which come from a real f16 cache.
// Prefill in one chunk must agree with token-by-token decoding over the
// half cache, and a decode step must allocate nothing.
func TestHalfKVCache(t *testing.T) {
	prev, err := qdot.SetLevel(qdot.Generic) // llama.cpp's block order, as in TestParityLlamaCpp
	if err != nil {
		t.Fatal(err)
	}
	defer qdot.SetLevel(prev)
	cases := []struct {
		file  string
		kv    tensor.DType
		arith bool // Options.LlamaCppArith; also compare ids with llama.cpp's
		steps int
		bound float64 // max |Δlogit| against the f32 cache over all steps
		chunk float64 // max |Δlogit| of one chunk against decode steps; 0: not checked
	}{
		{"models/stories260K.gguf", tensor.F16, false, 32, 2e-2, 1e-4},
		{"models/stories260K.gguf", tensor.BF16, false, 32, 2e-1, 2e-3},
		// Random weights and large activations (token_embd std 4): logits
		// move more, and 8-bit activation rounding makes chunked runs
		// differ even over an f32 cache, so no chunk check.
		{"models/quant/synth-llama-256-Q4_0.gguf", tensor.F16, false, 32, 3e-1, 0},
		// Flash emulation costs a graph step per cache row: fewer steps.
		{"models/quant/synth-llama-256-Q8_0.gguf", tensor.F16, true, 12, 0, 0},
	}
	for _, tc := range cases {
		steps := tc.steps
		name := strings.TrimSuffix(filepath.Base(tc.file), ".gguf")
		mode := "default"
		if tc.arith {
			mode = "llamacpp"
		}
		t.Run(name+"/"+tc.kv.String()+"/"+mode, func(t *testing.T) {
			pr := prompt
			var ref reference
			if tc.arith {
				ref = readReference(t, name)
				pr = ref.PromptIDs
			}
			opts := Options{Context: 64, LlamaCppArith: tc.arith}
			f32 := openModel(t, tc.file, opts)
			opts.KV = tc.kv
			half := openModel(t, tc.file, opts)
			if f32.KV() != tensor.F32 || half.KV() != tc.kv {
				t.Fatalf("cache types %v and %v", f32.KV(), half.KV())
			}
			if 2*half.CacheBytes() != f32.CacheBytes() {
				t.Errorf("%v cache is %d bytes, f32 cache %d", tc.kv, half.CacheBytes(), f32.CacheBytes())
			}
			wantIDs, wantLogits := greedy(t, f32, pr, steps)
			ids, logits := greedy(t, half, pr, steps)
			var worst float64
			for i := range ids {
				if ids[i] != wantIDs[i] {
					t.Fatalf("step %d: %v cache chose %d, f32 cache %d\n got %v\nwant %v", i, tc.kv, ids[i], wantIDs[i], ids, wantIDs)
				}
				worst = max(worst, maxDiff(logits[i], wantLogits[i]))
			}
			if worst > tc.bound {
				t.Errorf("logits differ from the f32 cache's by up to %g, bound %g", worst, tc.bound)
			}
			if tc.arith {
				for i := range ids {
					if ids[i] != ref.IDs[i] {
						t.Fatalf("greedy ids differ from llama.cpp at step %d:\n got %v\nwant %v", i, ids, ref.IDs)
					}
				}
			}
			t.Logf("%d greedy ids equal; max |Δlogit| %.3g; cache %d → %d bytes; decode arena %d → %d bytes",
				steps, worst, f32.CacheBytes(), half.CacheBytes(), arenaBytes(f32), arenaBytes(half))

			// The whole sequence in one chunk reads this chunk's rows as
			// rounded to the cache, so it matches the decode steps.
			if !raceEnabled && !tc.arith {
				// The quantised kernels may allocate on their own; the half
				// cache must add nothing to what the f32 cache's step does.
				tok := []int32{ids[0]}
				base := testing.AllocsPerRun(10, func() { f32.Forward(context.Background(), tok, len(pr)) })
				a := testing.AllocsPerRun(10, func() { half.Forward(context.Background(), tok, len(pr)) })
				if a > base {
					t.Errorf("a decode step over the %v cache allocated %.1f times, over the f32 cache %.1f", tc.kv, a, base)
				}
				t.Logf("allocations per decode step: f32 cache %.1f, %v cache %.1f", base, tc.kv, a)
			}
			half.Reset()
			for _, v := range half.g.Vars() {
				for i, h := range v.Value().Bits() {
					if h != 0 {
						t.Fatalf("after Reset, %s[%d] = %#04x", v.Name(), i, h)
					}
				}
			}
			if tc.chunk == 0 {
				return
			}
			seq := append(append([]int32(nil), pr...), ids[:steps-1]...)
			one := openModel(t, tc.file, opts)
			got, err := one.Forward(context.Background(), seq, 0)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(got, logits[steps-1]); tc.chunk > 0 && d > tc.chunk {
				t.Errorf("one chunk vs decode steps over the %v cache: logits differ by %g, bound %g", tc.kv, d, tc.chunk)
			}
		})
	}
}

// noHalf is a CPU device that does not report half storage.
type noHalf struct{ backend.Device }

// TestHalfKVFallback checks that a half cache asked of a device without
// half storage is an f32 cache that runs as before, and that a cache type
// other than f32, f16 or bf16 is refused at Load.
func TestHalfKVFallback(t *testing.T) {
	m := openModel(t, "models/stories260K.gguf", Options{Context: 16, KV: tensor.F16, Device: noHalf{cpu.New()}})
	if m.KV() != tensor.F32 {
		t.Errorf("cache type %v on a device without half storage, want f32", m.KV())
	}
	if _, err := m.Forward(context.Background(), prompt[:4], 0); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(testdata.Path(t, "models/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, d := range []tensor.DType{tensor.I32, tensor.F64, tensor.Bool} {
		if _, err := Load(f, Options{Context: 16, KV: d}); !errors.Is(err, ErrInput) {
			t.Errorf("KV %v: %v, want ErrInput", d, err)
		}
	}
}

// BenchmarkDecodeKV times one decode step at position 255 (a 256-row
// attended window) over an f32 and an f16 cache.
func BenchmarkDecodeKV(b *testing.B) {
	for _, file := range []string{"models/stories260K.gguf", "models/quant/synth-llama-256-Q8_0.gguf"} {
		for _, kv := range []tensor.DType{tensor.F32, tensor.F16} {
			b.Run(strings.TrimSuffix(filepath.Base(file), ".gguf")+"/"+kv.String(), func(b *testing.B) {
				f, err := gguf.Open(testdata.Path(b, file))
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				m, err := Load(f, Options{Context: 512, KV: kv})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				seq := make([]int32, 255)
				for i := range seq {
					seq[i] = prompt[i%len(prompt)]
				}
				if _, err := m.Forward(ctx, seq, 0); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := m.Forward(ctx, []int32{prompt[1]}, 255); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestHalfKVWebGPU runs stories260K over an f16 cache on the WebGPU
// backend (lavapipe in CI), which holds half tensors too, and checks the
// CPU's greedy ids and logits over the same cache type.
func TestHalfKVWebGPU(t *testing.T) {
	if testing.Short() {
		t.Skip("compiling WebGPU pipelines is slow")
	}
	dev := webgpuDevice(t)
	const steps = 12
	gpu := openModel(t, "models/stories260K.gguf", Options{Context: 32, KV: tensor.F16, Device: dev})
	if gpu.KV() != tensor.F16 {
		t.Fatalf("cache type %v on WebGPU, want f16", gpu.KV())
	}
	host := openModel(t, "models/stories260K.gguf", Options{Context: 32, KV: tensor.F16})
	wantIDs, wantLogits := greedy(t, host, prompt, steps)
	ids, logits := greedy(t, gpu, prompt, steps)
	var worst float64
	for i := range ids {
		if ids[i] != wantIDs[i] {
			t.Fatalf("step %d: WebGPU chose %d, CPU %d\n got %v\nwant %v", i, ids[i], wantIDs[i], ids, wantIDs)
		}
		worst = max(worst, maxDiff(logits[i], wantLogits[i]))
	}
	if worst > 1e-2 {
		t.Errorf("WebGPU logits over the f16 cache differ from the CPU's by up to %g", worst)
	}
	t.Logf("%d greedy ids equal; max |Δlogit| %.3g", steps, worst)
}
