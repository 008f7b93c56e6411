package llm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/auto"
	"github.com/aethertensor/aether/llm/chat"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/model"
	"github.com/aethertensor/aether/llm/sample"
	"github.com/aethertensor/aether/llm/tokenizer"
	"github.com/aethertensor/aether/tensor"
)

// Errors returned by the Runner, wrapped with details.
var (
	// ErrContext is wrapped when a prompt does not fit the context.
	ErrContext = errors.New("llm: prompt exceeds the context length")
	// ErrDevice is wrapped when the requested device is not available.
	ErrDevice = errors.New("llm: device not available")
	// ErrClosed is returned by a Runner used after Close.
	ErrClosed = errors.New("llm: runner is closed")
	// ErrNoTemplate is wrapped when Chat has no template to format with.
	ErrNoTemplate = errors.New("llm: no chat template")
)

// Options configure Load.
type Options struct {
	// Context is the number of positions of the cache; 0 means the
	// model's training context, capped at model.DefaultMaxContext.
	Context int
	// Batch is the most prompt tokens one run processes; 0 means
	// model.DefaultBatch.
	Batch int
	// Device is "cpu" or "" (the CPU), or "wgpu" (WebGPU, through
	// backend/auto; its quantised-weight support depends on the backend).
	Device string
	// ChatTemplate names a built-in template (chat.Names) to use instead
	// of the one the file's tokenizer.chat_template describes.
	ChatTemplate string
	// HalfKV rounds attention operands to half precision, like llama.cpp's
	// default f16 cache (see model.Options.HalfKV).
	HalfKV bool
	// KV is the key/value cache's storage type: tensor.F32 (the default,
	// also for the zero value), tensor.F16 or tensor.BF16, which halve the
	// cache's memory (see model.Options.KV).
	KV tensor.DType
	// Progress, when set, is called while the weights are read into
	// memory at load with the bytes done and the total.
	Progress func(done, total int64)
}

// Runner generates text with one model. See the package documentation
// for its concurrency rules.
type Runner struct {
	mu     sync.Mutex
	file   *gguf.File
	model  *model.Model
	tok    *tokenizer.Tokenizer
	tmpl   *chat.Template
	cached []int32 // the tokens whose keys and values are in the cache
	load   time.Duration
}

// Load opens the GGUF file at path and prepares its model.
func Load(path string, o Options) (*Runner, error) {
	t0 := time.Now()
	var dev backend.Device
	if o.Device != "" && o.Device != "cpu" {
		d, err := auto.Choose(o.Device)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDevice, err)
		}
		dev = d
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := newRunner(f, o, dev)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.load = time.Since(t0)
	return r, nil
}

func newRunner(f *gguf.File, o Options, dev backend.Device) (*Runner, error) {
	if o.Progress != nil {
		touch(f, o.Progress)
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, err
	}
	m, err := model.Load(f, model.Options{Context: o.Context, Batch: o.Batch, HalfKV: o.HalfKV, KV: o.KV, Device: dev})
	if err != nil {
		return nil, err
	}
	if tok.Len() != m.Config().Vocab {
		return nil, fmt.Errorf("%w: tokenizer has %d tokens, model %d", model.ErrWeights, tok.Len(), m.Config().Vocab)
	}
	r := &Runner{file: f, model: m, tok: tok}
	switch {
	case o.ChatTemplate != "":
		if r.tmpl, err = chat.ByName(o.ChatTemplate); err != nil {
			return nil, err
		}
	case f.Meta.Has("tokenizer.chat_template"):
		if s, err := f.Meta.GetString("tokenizer.chat_template"); err == nil {
			r.tmpl, _ = chat.Detect(s) // an unknown template leaves Chat to report ErrNoTemplate
		}
	}
	return r, nil
}

// touch reads one byte of every page of the tensor data so the weights
// are resident before the first token, reporting progress.
func touch(f *gguf.File, progress func(done, total int64)) {
	var total, done int64
	for i := range f.Tensors {
		total += int64(len(f.Tensors[i].Data))
	}
	var sink byte
	step := total / 100
	next := int64(0)
	for i := range f.Tensors {
		d := f.Tensors[i].Data
		for j := 0; j < len(d); j += 4096 {
			sink += d[j]
		}
		done += int64(len(d))
		if done >= next || done == total {
			progress(done, total)
			next = done + step
		}
	}
	_ = sink
}

// Close releases the file mapping. The Runner must not be used afterwards.
func (r *Runner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file, r.model = nil, nil
	return err
}

// Model returns the underlying model (its Config, Context, WeightBytes).
func (r *Runner) Model() *model.Model { return r.model }

// Tokenizer returns the model's tokenizer.
func (r *Runner) Tokenizer() *tokenizer.Tokenizer { return r.tok }

// LoadTime returns how long Load took.
func (r *Runner) LoadTime() time.Duration { return r.load }

// Tokenize encodes text, adding BOS (and EOS) as the vocabulary asks when
// addSpecial is set. Control-token texts such as "<|im_start|>" are only
// recognised when parseSpecial is set.
func (r *Runner) Tokenize(text string, addSpecial, parseSpecial bool) ([]int32, error) {
	var fl tokenizer.EncodeFlags
	if addSpecial {
		fl |= tokenizer.AddSpecial
	}
	if parseSpecial {
		fl |= tokenizer.ParseSpecial
	}
	return r.tok.Encode(text, fl)
}

// Detokenize decodes ids to text.
func (r *Runner) Detokenize(ids []int32) (string, error) { return r.tok.Decode(ids) }

// GenerateOptions configure one generation.
type GenerateOptions struct {
	MaxTokens int            // tokens to generate; 0 means until the context is full
	Sampling  sample.Options // temperature, top-k, ..., seed, logprobs
	Stop      []string       // generation ends before the first of these strings
	// EndIDs end generation when sampled (not included in the output).
	// nil means the vocabulary's end-of-generation tokens.
	EndIDs []int32
	// OnToken, when set, receives each token as it is generated, with
	// the text it completes (held back while it may start a stop
	// string); held-back text left at the end comes in a last event
	// whose Token.ID is -1. Returning an error stops generation with
	// that error.
	OnToken func(Event) error
}

// Event is one streamed token.
type Event struct {
	Token sample.Token
	Text  string
}

// Stop reasons reported in Result.Stop.
const (
	StopLength  = "length"  // MaxTokens reached
	StopEnd     = "end"     // an end-of-generation id was sampled
	StopString  = "stop"    // a stop string was generated
	StopContext = "context" // the context is full
)

// Result is a finished generation.
type Result struct {
	PromptIDs []int32
	IDs       []int32 // generated ids, without a final end-of-generation id
	Tokens    []sample.Token
	Text      string
	Stop      string // one of the Stop... constants
	Metrics   Metrics
}

// Metrics are the timings of one generation.
type Metrics struct {
	Load         time.Duration // the Runner's load time
	PromptTokens int           // prompt tokens evaluated (after reusing cached ones)
	Prompt       time.Duration // time to evaluate them
	GenTokens    int           // tokens generated
	Decodes      int           // decode steps run (one per token after the first)
	Gen          time.Duration // time from the first token to the end
	TTFT         time.Duration // from the call to the first generated token
}

// PromptPerSecond returns prompt tokens per second.
func (m Metrics) PromptPerSecond() float64 { return perSecond(m.PromptTokens, m.Prompt) }

// GenPerSecond returns decode steps per second: the generation speed
// after the first token.
func (m Metrics) GenPerSecond() float64 { return perSecond(m.Decodes, m.Gen) }

func perSecond(n int, d time.Duration) float64 {
	if n <= 0 || d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Generate continues prompt (tokenized with BOS as the vocabulary asks,
// control-token texts not parsed).
func (r *Runner) Generate(ctx context.Context, prompt string, o GenerateOptions) (*Result, error) {
	ids, err := r.Tokenize(prompt, true, false)
	if err != nil {
		return nil, err
	}
	return r.GenerateIDs(ctx, ids, o)
}

// Chat formats msgs with the model's chat template, opens the assistant's
// turn and generates the reply.
func (r *Runner) Chat(ctx context.Context, msgs []chat.Message, o GenerateOptions) (*Result, error) {
	if r.tmpl == nil {
		return nil, fmt.Errorf("%w: the file has no known tokenizer.chat_template; set Options.ChatTemplate", ErrNoTemplate)
	}
	text, err := r.tmpl.Render(msgs, true)
	if err != nil {
		return nil, err
	}
	// Templates that write the BOS text themselves must not get a second.
	bos, _ := r.tok.Text(r.tok.BOS())
	add := bos == "" || !strings.HasPrefix(text, bos)
	ids, err := r.Tokenize(text, add, true)
	if err != nil {
		return nil, err
	}
	return r.GenerateIDs(ctx, ids, o)
}

// GenerateIDs continues the prompt ids.
func (r *Runner) GenerateIDs(ctx context.Context, prompt []int32, o GenerateOptions) (*Result, error) {
	t0 := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.model == nil {
		return nil, ErrClosed
	}
	m := r.model
	if len(prompt) == 0 {
		return nil, fmt.Errorf("%w: empty prompt", model.ErrInput)
	}
	if len(prompt) >= m.Context() {
		return nil, fmt.Errorf("%w: %d prompt tokens leave no room in a context of %d", ErrContext, len(prompt), m.Context())
	}
	smp, err := sample.New(o.Sampling)
	if err != nil {
		return nil, err
	}
	end := map[int32]bool{}
	for _, id := range o.EndIDs {
		end[id] = true
	}
	isEnd := func(id int32) bool {
		if o.EndIDs == nil {
			return r.tok.IsEOG(id)
		}
		return end[id]
	}
	res := &Result{PromptIDs: append([]int32(nil), prompt...), Metrics: Metrics{Load: r.load}}

	// Reuse the cached prefix; at least the last prompt token is run to
	// get the logits.
	keep := 0
	for keep < len(r.cached) && keep < len(prompt)-1 && r.cached[keep] == prompt[keep] {
		keep++
	}
	r.cached = append(r.cached[:keep], prompt[keep:]...)
	logits, err := m.Forward(ctx, prompt[keep:], keep)
	if err != nil {
		r.cached = r.cached[:keep]
		return nil, err
	}
	res.Metrics.PromptTokens = len(prompt) - keep
	res.Metrics.Prompt = time.Since(t0)

	dec := r.tok.NewStreamDecoder()
	stop := sample.NewStopper(o.Stop)
	var text strings.Builder
	history := append([]int32(nil), prompt...)
	var tFirst time.Time
	emit := func(tok sample.Token, s string) error {
		text.WriteString(s)
		if o.OnToken != nil {
			return o.OnToken(Event{Token: tok, Text: s})
		}
		return nil
	}
	for {
		tok, err := smp.Sample(logits, history)
		if err != nil {
			return nil, err
		}
		if tFirst.IsZero() {
			tFirst = time.Now()
			res.Metrics.TTFT = tFirst.Sub(t0)
		}
		if isEnd(tok.ID) {
			res.Stop = StopEnd
			break
		}
		res.IDs = append(res.IDs, tok.ID)
		res.Tokens = append(res.Tokens, tok)
		history = append(history, tok.ID)
		piece, err := dec.Next(tok.ID)
		if err != nil {
			return nil, err
		}
		out, stopped := stop.Push(piece)
		if err := emit(tok, out); err != nil {
			return nil, err
		}
		if stopped {
			res.Stop = StopString
			break
		}
		if o.MaxTokens > 0 && len(res.IDs) >= o.MaxTokens {
			res.Stop = StopLength
			break
		}
		pos := len(r.cached)
		if pos >= m.Context() {
			res.Stop = StopContext
			break
		}
		r.cached = append(r.cached, tok.ID)
		if logits, err = m.Forward(ctx, []int32{tok.ID}, pos); err != nil {
			r.cached = r.cached[:pos]
			return nil, err
		}
		res.Metrics.Decodes++
	}
	if res.Stop != StopString {
		// Text held back (an incomplete character, a possible stop string
		// prefix) is delivered last, in an event with Token.ID -1.
		tail, stopped := stop.Push(dec.Flush())
		if !stopped {
			tail += stop.Flush()
		}
		if tail != "" {
			if err := emit(sample.Token{ID: -1}, tail); err != nil {
				return nil, err
			}
		}
	}
	res.Text = text.String()
	res.Metrics.GenTokens = len(res.IDs)
	if !tFirst.IsZero() {
		res.Metrics.Gen = time.Since(tFirst)
	}
	return res, nil
}
