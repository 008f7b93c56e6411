// Package llm runs GGUF language models: Load opens a file, builds its
// model as compiled graph Programs (package llm/model) with its tokenizer
// (llm/tokenizer) and chat template (llm/chat), and a Runner generates
// text with a sampler (llm/sample), streaming tokens through a callback
// and reporting timings.
//
// A Runner holds one key/value cache, so it runs one sequence at a time:
// its methods are safe for concurrent use and serialised by a lock (a
// second Generate waits for the first). Consecutive calls whose prompts
// share a prefix reuse the cached positions of that prefix, which makes a
// chat's later turns cheap. Load a second Runner for parallel sequences;
// the file's weights are memory-mapped, so the operating system shares
// their pages.
//
// Sub-packages: gguf (file format), quant (block formats), tokenizer,
// chat (templates), model (architectures), sample (sampling).
package llm
