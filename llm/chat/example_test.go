package chat_test

import (
	"fmt"

	"github.com/aethertensor/aether/llm/chat"
)

// A model's GGUF metadata holds its Jinja template in tokenizer.chat_template;
// Detect recognises the format and Render builds the prompt.
func Example() {
	jinja := "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
	tmpl, err := chat.Detect(jinja)
	if err != nil {
		fmt.Println(err)
		return
	}
	prompt, err := tmpl.Render([]chat.Message{
		{Role: "system", Content: "You are terse."},
		{Role: "user", Content: "2+2?"},
	}, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tmpl.Name)
	fmt.Print(prompt)
	// Output:
	// chatml
	// <|im_start|>system
	// You are terse.<|im_end|>
	// <|im_start|>user
	// 2+2?<|im_end|>
	// <|im_start|>assistant
}

// When the template is not recognised, pick a format by name.
func ExampleByName() {
	tmpl, err := chat.ByName("llama2-sys")
	if err != nil {
		fmt.Println(err)
		return
	}
	prompt, _ := tmpl.Render([]chat.Message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Content: "Hi"},
		{Role: "assistant", Content: "Hello"},
		{Role: "user", Content: "Bye"},
	}, true)
	fmt.Printf("%q\n", prompt)
	// Output:
	// "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]Hello</s>[INST] Bye [/INST]"
}
