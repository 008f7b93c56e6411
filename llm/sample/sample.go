package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// ErrOptions is wrapped by errors about invalid sampling options or input.
var ErrOptions = errors.New("sample: invalid options")

// DefaultRepeatLastN is the penalty window when Options.RepeatLastN is 0.
const DefaultRepeatLastN = 64

// Options configure a Sampler. The zero value is greedy decoding with no
// penalties.
type Options struct {
	// Temperature divides the logits before the draw; 0 (or less) means
	// greedy decoding.
	Temperature float64
	TopK        int     // keep the k most probable tokens; 0 keeps all
	TopP        float64 // keep the smallest set whose probability reaches p; 0 or 1 keeps all
	MinP        float64 // drop tokens below MinP times the top probability; 0 keeps all
	// RepeatPenalty divides positive (multiplies negative) logits of tokens
	// in the window; 0 or 1 is off. FrequencyPenalty subtracts count·f and
	// PresencePenalty subtracts p once for every token in the window.
	RepeatPenalty, FrequencyPenalty, PresencePenalty float64
	// RepeatLastN is the penalty window in tokens of history: 0 means
	// DefaultRepeatLastN, a negative value the whole history.
	RepeatLastN int
	Seed        uint64 // seed of the generator for the draw
	TopLogprobs int    // how many of the most probable tokens to report
}

// Candidate is a token id with its log-probability.
type Candidate struct {
	ID      int32
	Logprob float64
}

// Token is a sampled token: its id, its log-probability under the model,
// and (with Options.TopLogprobs) the most probable alternatives, best
// first.
type Token struct {
	ID      int32
	Logprob float64
	Top     []Candidate
}

// Sampler draws tokens. It is not safe for concurrent use; give each
// sequence its own.
type Sampler struct {
	o      Options
	rng    *rand.Rand
	work   []float64 // penalised logits
	idx    []int32   // candidate ids, sorted by work descending
	counts map[int32]int
}

// New checks o and returns a Sampler seeded with o.Seed.
func New(o Options) (*Sampler, error) {
	switch {
	case math.IsNaN(o.Temperature) || math.IsInf(o.Temperature, 0):
		return nil, fmt.Errorf("%w: temperature %v", ErrOptions, o.Temperature)
	case o.TopK < 0:
		return nil, fmt.Errorf("%w: top-k %d", ErrOptions, o.TopK)
	case o.TopP < 0 || o.TopP > 1 || math.IsNaN(o.TopP):
		return nil, fmt.Errorf("%w: top-p %v is outside [0, 1]", ErrOptions, o.TopP)
	case o.MinP < 0 || o.MinP > 1 || math.IsNaN(o.MinP):
		return nil, fmt.Errorf("%w: min-p %v is outside [0, 1]", ErrOptions, o.MinP)
	case o.RepeatPenalty < 0 || math.IsNaN(o.RepeatPenalty):
		return nil, fmt.Errorf("%w: repeat penalty %v", ErrOptions, o.RepeatPenalty)
	case o.TopLogprobs < 0:
		return nil, fmt.Errorf("%w: top logprobs %d", ErrOptions, o.TopLogprobs)
	}
	return &Sampler{o: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), counts: map[int32]int{}}, nil
}

// Sample picks the next token from logits given the ids generated or
// read so far (for the penalties).
func (s *Sampler) Sample(logits []float32, history []int32) (Token, error) {
	n := len(logits)
	if n == 0 {
		return Token{}, fmt.Errorf("%w: no logits", ErrOptions)
	}
	s.work = grow(s.work, n)
	for i, v := range logits {
		if math.IsNaN(float64(v)) {
			return Token{}, fmt.Errorf("%w: logit %d is NaN", ErrOptions, i)
		}
		s.work[i] = float64(v)
	}
	s.penalise(history)

	var id int32
	if s.o.Temperature <= 0 {
		id = argmax(s.work)
	} else {
		id = s.draw()
	}
	return s.token(logits, id), nil
}

// penalise applies the repetition, frequency and presence penalties.
func (s *Sampler) penalise(history []int32) {
	o := s.o
	if (o.RepeatPenalty == 0 || o.RepeatPenalty == 1) && o.FrequencyPenalty == 0 && o.PresencePenalty == 0 {
		return
	}
	last := o.RepeatLastN
	if last == 0 {
		last = DefaultRepeatLastN
	}
	if last > 0 && len(history) > last {
		history = history[len(history)-last:]
	}
	clear(s.counts)
	for _, id := range history {
		if id >= 0 && int(id) < len(s.work) {
			s.counts[id]++
		}
	}
	for id, c := range s.counts {
		v := s.work[id]
		if o.RepeatPenalty != 0 && o.RepeatPenalty != 1 {
			if v > 0 {
				v /= o.RepeatPenalty
			} else {
				v *= o.RepeatPenalty
			}
		}
		s.work[id] = v - float64(c)*o.FrequencyPenalty - o.PresencePenalty
	}
}

// draw filters the penalised logits (top-k, top-p, min-p), applies the
// temperature and samples from what remains.
func (s *Sampler) draw() int32 {
	o, w := s.o, s.work
	s.idx = s.idx[:0]
	for i := range w {
		if !math.IsInf(w[i], -1) {
			s.idx = append(s.idx, int32(i))
		}
	}
	if len(s.idx) == 0 {
		return argmax(w)
	}
	sort.SliceStable(s.idx, func(a, b int) bool { return w[s.idx[a]] > w[s.idx[b]] })
	keep := len(s.idx)
	if o.TopK > 0 && o.TopK < keep {
		keep = o.TopK
	}
	// Probabilities of the kept candidates at temperature 1, as llama.cpp
	// filters before it applies the temperature.
	p := make([]float64, keep)
	softmaxInto(p, w, s.idx[:keep], 1)
	if o.TopP > 0 && o.TopP < 1 {
		cum := 0.0
		for i := range p {
			cum += p[i]
			if cum >= o.TopP {
				keep = i + 1
				break
			}
		}
	}
	if o.MinP > 0 {
		floor := o.MinP * p[0]
		k := 1
		for k < keep && p[k] >= floor {
			k++
		}
		keep = k
	}
	softmaxInto(p[:keep], w, s.idx[:keep], o.Temperature)
	r := s.rng.Float64()
	for i := 0; i < keep; i++ {
		r -= p[i]
		if r < 0 {
			return s.idx[i]
		}
	}
	return s.idx[keep-1]
}

// token reports id with log-probabilities under the raw logits.
func (s *Sampler) token(logits []float32, id int32) Token {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	lse := mx + math.Log(sum)
	t := Token{ID: id, Logprob: float64(logits[id]) - lse}
	if k := min(s.o.TopLogprobs, len(logits)); k > 0 {
		t.Top = make([]Candidate, 0, k+1)
		for i, v := range logits {
			c := Candidate{int32(i), float64(v) - lse}
			if len(t.Top) == k && c.Logprob <= t.Top[k-1].Logprob {
				continue
			}
			j := sort.Search(len(t.Top), func(j int) bool { return t.Top[j].Logprob < c.Logprob })
			t.Top = append(t.Top, Candidate{})
			copy(t.Top[j+1:], t.Top[j:])
			t.Top[j] = c
			if len(t.Top) > k {
				t.Top = t.Top[:k]
			}
		}
	}
	return t
}

// softmaxInto writes softmax(w[ids]/temp) into p.
func softmaxInto(p, w []float64, ids []int32, temp float64) {
	mx := math.Inf(-1)
	for _, id := range ids {
		mx = math.Max(mx, w[id])
	}
	var sum float64
	for i, id := range ids {
		p[i] = math.Exp((w[id] - mx) / temp)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}

// argmax returns the first index of the largest value.
func argmax(w []float64) int32 {
	best := 0
	for i, v := range w {
		if v > w[best] {
			best = i
		}
	}
	return int32(best)
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
