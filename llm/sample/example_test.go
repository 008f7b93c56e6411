package sample_test

import (
	"fmt"

	"github.com/aethertensor/aether/llm/sample"
)

func ExampleSampler_Sample() {
	s, err := sample.New(sample.Options{Temperature: 0, TopLogprobs: 2})
	if err != nil {
		panic(err)
	}
	tok, err := s.Sample([]float32{0.5, 2, 1}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("id %d, logprob %.3f, runner-up %d\n", tok.ID, tok.Logprob, tok.Top[1].ID)
	// Output: id 1, logprob -0.464, runner-up 2
}
