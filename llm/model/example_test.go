package model_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/model"
)

// Greedy decoding: one Forward for the prompt, then one per new token.
func ExampleModel_Forward() {
	dir := testdata.Dir()
	if dir == "" {
		fmt.Println([]int32{432, 383, 286, 261, 376, 298, 315, 421})
		return
	}
	f, err := gguf.Open(dir + "/models/stories260K.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	m, err := model.Load(f, model.Options{Context: 64})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	tokens := []int32{1, 403, 407, 261, 378} // <s> Once upon a time
	logits, err := m.Forward(ctx, tokens, 0)
	if err != nil {
		log.Fatal(err)
	}
	var out []int32
	for pos := len(tokens); len(out) < 8; pos++ {
		best := int32(0)
		for i, v := range logits {
			if v > logits[best] {
				best = int32(i)
			}
		}
		out = append(out, best)
		if logits, err = m.Forward(ctx, []int32{best}, pos); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(out)
	// Output: [432 383 286 261 376 298 315 421]
}
