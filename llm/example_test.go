package llm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aethertensor/aether/internal/testdata"
	"github.com/aethertensor/aether/llm"
	"github.com/aethertensor/aether/llm/sample"
)

func ExampleRunner_Generate() {
	dir := testdata.Dir()
	if dir == "" {
		fmt.Println(", there was a little girl named Lily.")
		return
	}
	r, err := llm.Load(dir+"/models/stories260K.gguf", llm.Options{Context: 64})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	res, err := r.Generate(context.Background(), "Once upon a time", llm.GenerateOptions{
		MaxTokens: 11,
		Sampling:  sample.Options{Temperature: 0}, // greedy
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text)
	// Output: , there was a little girl named Lily.
}
