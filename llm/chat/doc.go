// Package chat turns a conversation into the prompt text a chat model was
// trained on, the way llama.cpp's llama_chat_apply_template does.
//
// A GGUF model ships its chat format as a Jinja template in the metadata key
// tokenizer.chat_template. This package does not run Jinja. Like llama.cpp, it
// recognises the template by marker substrings (Detect) and renders it with a
// built-in Go formatter (Template.Render). Each formatter reproduces
// llama.cpp's output byte for byte, quirks included: which roles are trimmed,
// where a system message goes when the model has no system turn (gemma and
// orion merge it into the next user turn, llama2 without <<SYS>> prefixes it
// to the first [INST]), and which formats ignore addGenerationPrompt because
// their last user turn already opens the assistant turn (llama2, mistral,
// orion, minicpm, rwkv-world, hunyuan-moe, deepseek-ocr).
//
// The rendered text never starts with the model's BOS token: the tokenizer
// adds it (tokenizer.ggml.add_bos_token). Tokens that belong inside the
// history, such as "<s>" between turns of llama2-sys-bos and monarch, or
// "</s>" after each assistant turn, are written as text and must be
// tokenised with special tokens enabled.
//
// When Detect fails, the caller can pick a format by name with ByName; Names
// lists them. The names are llama.cpp's (the values of --chat-template).
//
// Reference: ggml-org/llama.cpp src/llama-chat.cpp and
// tests/test-chat-template.cpp, whose published vectors are this package's
// golden tests.
package chat
