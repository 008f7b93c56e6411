// Package sample picks the next token from a model's logits.
//
// A Sampler applies, in llama.cpp's default order: repetition, frequency
// and presence penalties over the recent history; then, unless the
// temperature is 0 (greedy: the highest penalised logit wins), top-k,
// top-p (nucleus) and min-p filtering, the temperature, and a draw from
// the remaining distribution with a seeded generator, so a seed
// reproduces a sequence. Each Token carries the log-probability of the
// chosen id and, on request, of the n most probable ids, both under the
// model's own distribution (the softmax of the raw logits, before
// penalties and filters).
//
// Stopper finds stop strings in streamed text and holds back the text
// that might be the start of one.
package sample
