// Package tokenizer turns text into token ids and back exactly as llama.cpp
// does for the vocabularies stored in GGUF files.
//
// Three model families are implemented, selected by tokenizer.ggml.model:
//
//   - "llama": SentencePiece-style BPE. Spaces become "▁", a space is
//     prefixed to text that starts the input or follows a special token,
//     adjacent symbols are merged by token score with a priority queue, and
//     characters without a token fall back to <0xNN> byte tokens.
//   - "gpt2": byte-level BPE. Text is split by the pre-tokenizer that
//     tokenizer.ggml.pre names (llama.cpp's regex lists: gpt-2, llama3,
//     deepseek-llm, deepseek-coder, qwen2, falcon, starcoder, ...; a missing
//     name means "default"), each piece's bytes are mapped through GPT-2's
//     byte-to-unicode table, and pairs are merged by merge rank.
//   - "bert": WordPiece. Text is lower-cased, accents are stripped,
//     punctuation and CJK ideographs become words of their own, and each
//     word is covered greedily by the longest "▁"-prefixed / bare pieces.
//
// Special tokens are handled as in llama.cpp: USER_DEFINED token texts are
// always cut out of the input before tokenization, CONTROL token texts only
// with ParseSpecial. Decode drops CONTROL tokens unless asked to render
// them, writes byte tokens as raw bytes and USER_DEFINED tokens verbatim.
// StreamDecoder decodes one token at a time and holds back incomplete UTF-8.
//
// The pre-tokenizer regexes use Unicode categories. llama.cpp answers them
// from its own tables (generated from the Unicode data of 2024); this package
// uses Go's unicode package, whose Unicode version may differ for recently
// assigned characters. Regexes that llama.cpp runs with std::regex run here
// with github.com/dlclark/regexp2 over the same "collapsed" text llama.cpp
// builds (each non-ASCII codepoint replaced by a stand-in for its category),
// so that both engines see identical input; the GPT-2 and LLaMA-3 patterns
// use hand-written splitters, as llama.cpp does.
package tokenizer
