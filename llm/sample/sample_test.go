package sample

import (
	"errors"
	"math"
	"testing"
)

func logits(p ...float64) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(math.Log(v))
	}
	return out
}

func TestGreedyAndPenalties(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		logits  []float32
		history []int32
		want    int32
	}{
		{"greedy", Options{}, []float32{1, 3, 2}, nil, 1},
		{"first of ties", Options{}, []float32{2, 2, 1}, nil, 0},
		// 3/2 = 1.5 < 2: the repeated token loses.
		{"repeat positive", Options{RepeatPenalty: 2}, []float32{1, 3, 2}, []int32{1}, 2},
		// -1·2 = -2 < -1.5: negative logits are multiplied.
		{"repeat negative", Options{RepeatPenalty: 2}, []float32{-1, -1.5}, []int32{0}, 1},
		// 3 - 2·0.6 = 1.8 < 2.
		{"frequency", Options{FrequencyPenalty: 0.6}, []float32{1, 3, 2}, []int32{1, 1}, 2},
		// 3 - 0.5 = 2.5 > 2: one presence penalty is not enough...
		{"presence", Options{PresencePenalty: 0.5}, []float32{1, 3, 2}, []int32{1, 1, 1}, 1},
		// ...but only the last RepeatLastN tokens count.
		{"window", Options{FrequencyPenalty: 0.6, RepeatLastN: 1}, []float32{1, 3, 2}, []int32{1, 0}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Sample(tc.logits, tc.history)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tc.want {
				t.Errorf("got %d, want %d", got.ID, tc.want)
			}
		})
	}
}

// TestDistributions draws many times and compares the frequencies with
// hand-computed distributions over p = (0.5, 0.3, 0.2).
func TestDistributions(t *testing.T) {
	base := logits(0.5, 0.3, 0.2)
	tests := []struct {
		name string
		o    Options
		want []float64
	}{
		{"temperature 1", Options{Temperature: 1}, []float64{0.5, 0.3, 0.2}},
		// p^2 normalised: 0.25, 0.09, 0.04 over 0.38.
		{"temperature 0.5", Options{Temperature: 0.5}, []float64{0.25 / 0.38, 0.09 / 0.38, 0.04 / 0.38}},
		{"top-k 2", Options{Temperature: 1, TopK: 2}, []float64{0.625, 0.375, 0}},
		{"top-k 1", Options{Temperature: 1, TopK: 1}, []float64{1, 0, 0}},
		// 0.5 < 0.6 <= 0.8: the first two remain.
		{"top-p 0.6", Options{Temperature: 1, TopP: 0.6}, []float64{0.625, 0.375, 0}},
		{"top-p 0.5", Options{Temperature: 1, TopP: 0.5}, []float64{1, 0, 0}},
		// floor 0.5·0.5 = 0.25: 0.2 goes.
		{"min-p 0.5", Options{Temperature: 1, MinP: 0.5}, []float64{0.625, 0.375, 0}},
		{"min-p 0.39", Options{Temperature: 1, MinP: 0.39}, []float64{0.5, 0.3, 0.2}},
	}
	const draws = 20000
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Seed = 42
			s, err := New(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			counts := make([]float64, 3)
			for range draws {
				tok, err := s.Sample(base, nil)
				if err != nil {
					t.Fatal(err)
				}
				counts[tok.ID]++
			}
			for i := range counts {
				if got := counts[i] / draws; math.Abs(got-tc.want[i]) > 0.015 {
					t.Errorf("p(%d) = %.4f, want %.4f", i, got, tc.want[i])
				}
			}
		})
	}
}

func TestSeed(t *testing.T) {
	base := logits(0.4, 0.3, 0.2, 0.1)
	run := func(seed uint64) []int32 {
		s, err := New(Options{Temperature: 1, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int32
		for range 32 {
			tok, _ := s.Sample(base, nil)
			ids = append(ids, tok.ID)
		}
		return ids
	}
	a, b, c := run(7), run(7), run(8)
	same := func(x, y []int32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Errorf("seed 7 gave %v then %v", a, b)
	}
	if same(a, c) {
		t.Errorf("seeds 7 and 8 gave the same 32 draws %v", a)
	}
}

func TestLogprobs(t *testing.T) {
	s, err := New(Options{TopLogprobs: 2, RepeatPenalty: 10})
	if err != nil {
		t.Fatal(err)
	}
	// The penalty changes the choice, not the reported model probabilities.
	tok, err := s.Sample(logits(0.1, 0.6, 0.3), []int32{1})
	if err != nil {
		t.Fatal(err)
	}
	if tok.ID != 2 || math.Abs(tok.Logprob-math.Log(0.3)) > 1e-6 {
		t.Errorf("got %d with logprob %v, want 2 with %v", tok.ID, tok.Logprob, math.Log(0.3))
	}
	want := []Candidate{{1, math.Log(0.6)}, {2, math.Log(0.3)}}
	if len(tok.Top) != 2 {
		t.Fatalf("top %v, want %v", tok.Top, want)
	}
	for i := range want {
		if tok.Top[i].ID != want[i].ID || math.Abs(tok.Top[i].Logprob-want[i].Logprob) > 1e-6 {
			t.Errorf("top %v, want %v", tok.Top, want)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, o := range []Options{
		{Temperature: math.NaN()}, {TopK: -1}, {TopP: 1.5}, {MinP: -0.1}, {RepeatPenalty: -1}, {TopLogprobs: -2},
	} {
		if _, err := New(o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: got %v, want ErrOptions", o, err)
		}
	}
	s, _ := New(Options{})
	if _, err := s.Sample(nil, nil); !errors.Is(err, ErrOptions) {
		t.Errorf("no logits: %v", err)
	}
	if _, err := s.Sample([]float32{1, float32(math.NaN())}, nil); !errors.Is(err, ErrOptions) {
		t.Errorf("NaN logit: %v", err)
	}
}

func TestStopper(t *testing.T) {
	tests := []struct {
		name   string
		stops  []string
		pushes []string
		want   []string // emitted per push, then the flush
		stop   int      // index of the push that stops, -1 for none
	}{
		{"none", nil, []string{"ab", "c"}, []string{"ab", "c", ""}, -1},
		{"inside one push", []string{"END"}, []string{"xxENDyy"}, []string{"xx"}, 0},
		{"across pushes", []string{"END"}, []string{"ab E", "N", "D!"}, []string{"ab ", "", ""}, 2},
		{"false start", []string{"END"}, []string{"ab E", "x"}, []string{"ab ", "Ex", ""}, -1},
		{"held at the end", []string{"END"}, []string{"abEN"}, []string{"ab", "EN"}, -1},
		{"earliest of two", []string{"bc", "ab"}, []string{"xabc"}, []string{"x"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStopper(tc.stops)
			for i, p := range tc.pushes {
				emit, stopped := s.Push(p)
				if emit != tc.want[i] || stopped != (i == tc.stop) {
					t.Fatalf("push %d (%q): got %q, %v; want %q, %v", i, p, emit, stopped, tc.want[i], i == tc.stop)
				}
				if stopped {
					return
				}
			}
			if got := s.Flush(); got != tc.want[len(tc.want)-1] {
				t.Errorf("flush: got %q, want %q", got, tc.want[len(tc.want)-1])
			}
		})
	}
}
