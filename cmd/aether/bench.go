package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/aethertensor/aether/llm"
	"github.com/aethertensor/aether/llm/gguf"
)

func init() {
	register(command{name: "bench", summary: "measure prompt and generation speed of a GGUF model", run: runBench})
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var mf modelFlags
	mf.register(fs)
	np := fs.Int("p", 64, "prompt tokens per repetition")
	ng := fs.Int("n", 32, "generated tokens per repetition")
	reps := fs.Int("r", 5, "repetitions (after one warm-up)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the timed repetitions to `file` (use -p 1 to see decode alone)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aether bench -m FILE [-p 64] [-n 32] [-r 5] [--threads N]\n\nPrompt processing (pp) and generation (tg) in tokens/s, mean ± stddev over the repetitions, like llama-bench.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *np < 1 || *ng < 0 || *reps < 1 {
		return fmt.Errorf("%w: -p %d -n %d -r %d", errUsage, *np, *ng, *reps)
	}
	if mf.ctxLen == 0 {
		mf.ctxLen = *np + *ng + 1
	}
	r, err := mf.load(llm.Options{}, stderr)
	if err != nil {
		return err
	}
	defer r.Close()
	m := r.Model()
	if *np+*ng > m.Context() {
		return fmt.Errorf("%w: -p %d plus -n %d exceed the context of %d (-c)", errUsage, *np, *ng, m.Context())
	}
	// A fixed pseudo-random prompt after BOS: speed does not depend on
	// the text.
	vocab := m.Config().Vocab
	prompt := make([]int32, *np)
	prompt[0] = r.Tokenizer().BOS()
	for i := 1; i < len(prompt); i++ {
		prompt[i] = int32((i*7919 + 13) % vocab)
	}
	var pp, tg []float64
	for rep := 0; rep <= *reps; rep++ { // rep 0 compiles and warms up
		if rep == 1 && *profile != "" {
			stop, err := startProfile(*profile)
			if err != nil {
				return err
			}
			defer stop()
		}
		t0 := time.Now()
		logits, err := m.Forward(ctx, prompt, 0)
		if err != nil {
			return err
		}
		tPrompt := time.Since(t0)
		t1 := time.Now()
		for i := 0; i < *ng; i++ {
			if logits, err = m.Forward(ctx, []int32{argmax(logits)}, *np+i); err != nil {
				return err
			}
		}
		tGen := time.Since(t1)
		if rep > 0 {
			pp = append(pp, float64(*np)/tPrompt.Seconds())
			if *ng > 0 {
				tg = append(tg, float64(*ng)/tGen.Seconds())
			}
		}
	}
	c := m.Config()
	fmt.Fprintf(stdout, "model: %s, %d layers, embd %d, vocab %d, %.1f MiB of weights; %d threads, device %s\n",
		c.Arch, c.Layers, c.Embd, c.Vocab, float64(m.WeightBytes())/(1<<20), runtime.GOMAXPROCS(0), mf.device)
	if read, err := decodeBytes(mf.model, m.WeightBytes(), c.Vocab); err == nil {
		fmt.Fprintf(stdout, "decode reads %d bytes (%.1f MiB) of weights per token\n", read, float64(read)/(1<<20))
	}
	fmt.Fprintf(stdout, "%-8s %14s\n", "test", "tokens/s")
	mean, sd := meanStd(pp)
	fmt.Fprintf(stdout, "pp%-6d %8.2f ± %.2f\n", *np, mean, sd)
	if *ng > 0 {
		mean, sd = meanStd(tg)
		fmt.Fprintf(stdout, "tg%-6d %8.2f ± %.2f\n", *ng, mean, sd)
	}
	return nil
}

// startProfile starts a CPU profile into path and returns the function
// that stops it and closes the file.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// decodeBytes returns the weight bytes one decode step reads: every weight
// the model uses (total) except the token embedding, of which it gathers
// one row, unless the embedding doubles as the output matrix (no
// output.weight), which reads it whole.
func decodeBytes(path string, total int64, vocab int) (int64, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	emb, ok := f.Tensor("token_embd.weight")
	if _, untied := f.Tensor("output.weight"); !ok || !untied || vocab < 1 {
		return total, nil
	}
	n := int64(len(emb.Data))
	return total - n + n/int64(vocab), nil
}

func argmax(v []float32) int32 {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return int32(best)
}

// meanStd returns the mean and sample standard deviation.
func meanStd(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}
