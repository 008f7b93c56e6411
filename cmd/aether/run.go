package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/aethertensor/aether/llm"
	"github.com/aethertensor/aether/llm/sample"
	"github.com/aethertensor/aether/tensor"
)

func init() {
	register(command{name: "run", summary: "generate text from a prompt with a GGUF model", run: runRun})
}

// modelFlags are the flags run, chat and bench share.
type modelFlags struct {
	model   string
	ctxLen  int
	threads int
	device  string
	kv      string
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.model, "m", "", "GGUF model `file` (required)")
	fs.IntVar(&m.ctxLen, "c", 0, "context length in tokens (0: the model's, at most 4096)")
	fs.IntVar(&m.threads, "threads", 0, "worker threads (0: all cores)")
	fs.StringVar(&m.device, "device", "cpu", "device to run on: cpu or wgpu")
	fs.StringVar(&m.kv, "kv", "f32", "KV cache storage: f32, f16 or bf16 (half types halve its memory)")
}

// kvTypes maps --kv values to cache storage types.
var kvTypes = map[string]tensor.DType{"f32": tensor.F32, "f16": tensor.F16, "bf16": tensor.BF16}

// load applies the thread count and loads the model, drawing a progress
// bar on stderr for files over 64 MiB.
func (m *modelFlags) load(o llm.Options, stderr io.Writer) (*llm.Runner, error) {
	if m.model == "" {
		return nil, fmt.Errorf("%w: -m FILE is required", errUsage)
	}
	if m.threads < 0 {
		return nil, fmt.Errorf("%w: --threads %d", errUsage, m.threads)
	}
	if m.threads > 0 {
		runtime.GOMAXPROCS(m.threads)
	}
	kv, ok := kvTypes[m.kv]
	if !ok {
		return nil, fmt.Errorf("%w: --kv %q (want f32, f16 or bf16)", errUsage, m.kv)
	}
	o.Context, o.Device, o.KV = m.ctxLen, m.device, kv
	if st, err := os.Stat(m.model); err == nil && st.Size() > 64<<20 {
		o.Progress = progressBar(stderr)
	}
	return llm.Load(m.model, o)
}

// progressBar returns a Progress callback that redraws a bar on w.
func progressBar(w io.Writer) func(done, total int64) {
	return func(done, total int64) {
		const width = 40
		n := int(float64(width) * float64(done) / float64(max(total, 1)))
		fmt.Fprintf(w, "\rloading [%s%s] %3d%% of %d MiB", strings.Repeat("=", n), strings.Repeat(" ", width-n),
			100*done/max(total, 1), total>>20)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

// samplingFlags are the sampler's flags.
func samplingFlags(fs *flag.FlagSet) *sample.Options {
	o := &sample.Options{}
	fs.Float64Var(&o.Temperature, "temp", 0.8, "temperature (0: greedy)")
	fs.IntVar(&o.TopK, "top-k", 40, "top-k (0: off)")
	fs.Float64Var(&o.TopP, "top-p", 0.95, "top-p (1: off)")
	fs.Float64Var(&o.MinP, "min-p", 0.05, "min-p (0: off)")
	fs.Float64Var(&o.RepeatPenalty, "repeat-penalty", 1, "repetition penalty (1: off)")
	fs.Float64Var(&o.FrequencyPenalty, "frequency-penalty", 0, "frequency penalty")
	fs.Float64Var(&o.PresencePenalty, "presence-penalty", 0, "presence penalty")
	fs.Uint64Var(&o.Seed, "seed", 0, "random seed")
	return o
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// runJSON is what run --json prints.
type runJSON struct {
	PromptIDs    []int32 `json:"prompt_ids"`
	IDs          []int32 `json:"ids"`
	Text         string  `json:"text"`
	Stop         string  `json:"stop"`
	PrefillTokS  float64 `json:"prefill_tok_s"`
	DecodeTokS   float64 `json:"decode_tok_s"`
	TTFTMillis   float64 `json:"ttft_ms"`
	LoadMillis   float64 `json:"load_ms"`
	PromptTokens int     `json:"prompt_tokens"`
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var mf modelFlags
	mf.register(fs)
	prompt := fs.String("p", "", "prompt text")
	n := fs.Int("n", 128, "tokens to generate (0: until the context is full)")
	asJSON := fs.Bool("json", false, "print one JSON object (ids, text, speeds) instead of streaming text")
	var stops stringList
	fs.Var(&stops, "stop", "stop `string` (repeatable)")
	so := samplingFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aether run -m FILE -p PROMPT [-n N] [--temp T --top-k K --top-p P --min-p P --seed S] [--threads N] [--device cpu] [--json]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 0 {
		return fmt.Errorf("%w: -n %d", errUsage, *n)
	}
	r, err := mf.load(llm.Options{}, stderr)
	if err != nil {
		return err
	}
	defer r.Close()
	o := llm.GenerateOptions{MaxTokens: *n, Sampling: *so, Stop: stops}
	if !*asJSON {
		fmt.Fprint(stdout, *prompt)
		o.OnToken = func(e llm.Event) error {
			_, err := io.WriteString(stdout, e.Text)
			return err
		}
	}
	res, err := r.Generate(ctx, *prompt, o)
	if err != nil {
		return err
	}
	m := res.Metrics
	if *asJSON {
		return json.NewEncoder(stdout).Encode(runJSON{
			PromptIDs: res.PromptIDs, IDs: res.IDs, Text: res.Text, Stop: res.Stop,
			PrefillTokS: m.PromptPerSecond(), DecodeTokS: m.GenPerSecond(),
			TTFTMillis: ms(m.TTFT.Seconds()), LoadMillis: ms(m.Load.Seconds()), PromptTokens: m.PromptTokens,
		})
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stderr, "load %.0f ms | prompt %d tokens, %.1f tok/s | generated %d tokens, %.1f tok/s | first token %.1f ms | stop: %s\n",
		ms(m.Load.Seconds()), m.PromptTokens, m.PromptPerSecond(), m.GenTokens, m.GenPerSecond(), ms(m.TTFT.Seconds()), res.Stop)
	return nil
}

func ms(s float64) float64 { return s * 1000 }
