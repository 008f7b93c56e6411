package llm

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/chat"
	"github.com/aethertensor/aether/llm/sample"
)

type reference struct {
	PromptIDs []int32 `json:"prompt_ids"`
	IDs       []int32 `json:"ids"`
	Text      string  `json:"text"`
}

func readRef(t *testing.T, name string) reference {
	t.Helper()
	b, err := os.ReadFile("testdata/llamacpp/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func load(t *testing.T, rel string, o Options) *Runner {
	t.Helper()
	r, err := Load(testdata.Path(t, rel), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestGenerateMatchesLlamaCpp checks tokenization, greedy ids and text
// against llama.cpp's for "Once upon a time".
func TestGenerateMatchesLlamaCpp(t *testing.T) {
	for _, name := range []string{"stories260K", "synth-llama-256-Q4_K_S"} {
		t.Run(name, func(t *testing.T) {
			rel := "models/" + name + ".gguf"
			if strings.HasPrefix(name, "synth") {
				rel = "models/quant/" + name + ".gguf"
			}
			ref := readRef(t, name)
			r := load(t, rel, Options{Context: 64})
			var streamed strings.Builder
			res, err := r.Generate(context.Background(), "Once upon a time", GenerateOptions{
				MaxTokens: len(ref.IDs), EndIDs: []int32{},
				OnToken: func(e Event) error { streamed.WriteString(e.Text); return nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.PromptIDs, ref.PromptIDs) {
				t.Errorf("prompt ids %v, llama.cpp %v", res.PromptIDs, ref.PromptIDs)
			}
			if !slices.Equal(res.IDs, ref.IDs) {
				t.Errorf("ids %v\nllama.cpp %v", res.IDs, ref.IDs)
			}
			if name == "stories260K" && res.Text != ref.Text {
				t.Errorf("text %q, llama.cpp %q", res.Text, ref.Text)
			}
			if streamed.String() != res.Text {
				t.Errorf("streamed %q, result %q", streamed.String(), res.Text)
			}
			if res.Stop != StopLength || res.Metrics.GenTokens != 32 || res.Metrics.Decodes != 31 || res.Metrics.TTFT <= 0 {
				t.Errorf("stop %q, metrics %+v", res.Stop, res.Metrics)
			}
		})
	}
}

func TestStops(t *testing.T) {
	ref := readRef(t, "stories260K")
	r := load(t, "models/stories260K.gguf", Options{Context: 16})
	ctx := context.Background()
	tests := []struct {
		name     string
		o        GenerateOptions
		stop     string
		ids      []int32
		wantText string
	}{
		{"string", GenerateOptions{MaxTokens: 32, Stop: []string{"Lily"}}, StopString, ref.IDs[:10], ", there was a little girl named "},
		{"end id", GenerateOptions{MaxTokens: 32, EndIDs: []int32{376}}, StopEnd, ref.IDs[:4], ", there was a"},
		{"length", GenerateOptions{MaxTokens: 2}, StopLength, ref.IDs[:2], ", there"},
		// 5 prompt tokens in 16 positions: 11 more fit, and the 12th is
		// sampled from the logits of the last position.
		{"context", GenerateOptions{}, StopContext, ref.IDs[:12], ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.Generate(ctx, "Once upon a time", tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Stop != tc.stop || !slices.Equal(res.IDs, tc.ids) {
				t.Errorf("stop %q ids %v, want %q %v", res.Stop, res.IDs, tc.stop, tc.ids)
			}
			if tc.wantText != "" && res.Text != tc.wantText {
				t.Errorf("text %q, want %q", res.Text, tc.wantText)
			}
		})
	}
}

func TestErrorsAndCancel(t *testing.T) {
	if _, err := Load(testdata.Path(t, "models/stories260K.gguf"), Options{Device: "tpu"}); !errors.Is(err, ErrDevice) {
		t.Errorf("unknown device: %v", err)
	}
	if _, err := Load("/nonexistent.gguf", Options{}); err == nil {
		t.Error("missing file: no error")
	}
	r := load(t, "models/stories260K.gguf", Options{Context: 8})
	ctx := context.Background()
	if _, err := r.Generate(ctx, "Once upon a time there was a little girl", GenerateOptions{}); !errors.Is(err, ErrContext) {
		t.Errorf("long prompt: %v", err)
	}
	if _, err := r.Chat(ctx, []chat.Message{{Role: "user", Content: "hi"}}, GenerateOptions{}); !errors.Is(err, ErrNoTemplate) {
		t.Errorf("chat without template: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	n := 0
	_, err := r.Generate(cctx, "Once", GenerateOptions{OnToken: func(Event) error {
		if n++; n == 2 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) || n != 2 {
		t.Errorf("cancel after 2 tokens: %d tokens, %v", n, err)
	}
	stopErr := errors.New("enough")
	if _, err := r.Generate(ctx, "Once", GenerateOptions{OnToken: func(Event) error { return stopErr }}); !errors.Is(err, stopErr) {
		t.Errorf("callback error: %v", err)
	}
	r.Close()
	if _, err := r.Generate(ctx, "Once", GenerateOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("after close: %v", err)
	}
}

// TestPrefixReuseAndConcurrency runs the same prompt from several
// goroutines: the lock serialises them, the cached prefix is reused, and
// each gets the same greedy continuation.
func TestPrefixReuseAndConcurrency(t *testing.T) {
	ref := readRef(t, "stories260K")
	r := load(t, "models/stories260K.gguf", Options{Context: 64})
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]*Result, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = r.Generate(ctx, "Once upon a time", GenerateOptions{MaxTokens: 8})
		}()
	}
	wg.Wait()
	reused := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !slices.Equal(res.IDs, ref.IDs[:8]) {
			t.Errorf("goroutine %d: %v", i, res.IDs)
		}
		if res.Metrics.PromptTokens == 1 {
			reused++
		}
	}
	if reused != 3 {
		t.Errorf("%d of 4 runs reused the cached prompt, want 3", reused)
	}
}

func TestChat(t *testing.T) {
	r := load(t, "models/stories260K.gguf", Options{Context: 128, ChatTemplate: "chatml"})
	res, err := r.Chat(context.Background(), []chat.Message{{Role: "user", Content: "Tell me a story"}},
		GenerateOptions{MaxTokens: 4, Sampling: sampleSeed(3)})
	if err != nil {
		t.Fatal(err)
	}
	if res.PromptIDs[0] != r.Tokenizer().BOS() || len(res.IDs) == 0 || len(res.IDs) > 4 {
		t.Errorf("prompt %v, generated %v", res.PromptIDs, res.IDs)
	}
	text, err := r.Detokenize(res.PromptIDs)
	if err != nil || !strings.Contains(text, "Tell me a story") {
		t.Errorf("prompt text %q, %v", text, err)
	}
}

func TestProgress(t *testing.T) {
	var last, total int64
	calls := 0
	r := load(t, "models/stories260K.gguf", Options{Context: 16, Progress: func(d, n int64) { last, total = d, n; calls++ }})
	if calls == 0 || last != total || total < 1<<20 {
		t.Errorf("progress: %d calls, last %d of %d", calls, last, total)
	}
	if r.LoadTime() <= 0 {
		t.Error("no load time")
	}
}

func sampleSeed(seed uint64) sample.Options {
	return sample.Options{Temperature: 0.8, TopK: 40, TopP: 0.95, Seed: seed}
}
