// llamacpp_bench.mjs times llama.cpp (node-llama-cpp's prebuilt CPU build)
// the way `aether bench` times Aether: a fixed pseudo-random prompt of NP
// tokens (BOS, then (i*7919+13) mod vocab) evaluated in one batch, then NG
// greedy decode steps of one token each; one warm-up run, then REPS timed
// runs on a cleared sequence. Prints one JSON line with the prompt and
// generation speeds of every timed run in tokens/s.
//
// Run through bench/llamacpp.sh, which places it beside node-llama-cpp.
//   node llamacpp_bench.mjs MODEL NP NG REPS THREADS
import {getLlama} from "node-llama-cpp";
const [model, npS = "64", ngS = "32", repsS = "3", thS = "2"] = process.argv.slice(2);
const [np, ng, reps, threads] = [+npS, +ngS, +repsS, +thS];
// maxThreads 0: the context uses exactly `threads`, not a hint.
const llama = await getLlama({gpu: false, build: "never", logLevel: "error", maxThreads: 0});
const m = await llama.loadModel({modelPath: model});
const ctx = await m.createContext({contextSize: Math.max(np + ng + 8, 128), threads, batchSize: Math.max(np, 32)});
const seq = ctx.getSequence();
const vocab = m.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 512;
const prompt = [m.tokens.bos ?? 1];
for (let i = 1; i < np; i++) prompt.push((i * 7919 + 13) % vocab);
const pp = [], tg = [];
for (let rep = 0; rep <= reps; rep++) { // rep 0 warms up
  await seq.clearHistory();
  const t0 = performance.now();
  let t1 = 0, n = 0;
  // The first token comes from the prompt's logits (prefill); each later
  // one needs one decode of the token before it.
  for await (const tok of seq.evaluate(prompt, {temperature: 0})) {
    if (n === 0) t1 = performance.now();
    if (n++ >= ng) break;
  }
  const t2 = performance.now();
  if (rep > 0) {
    pp.push(np / ((t1 - t0) / 1000));
    if (ng > 0) tg.push(ng / ((t2 - t1) / 1000));
  }
}
console.log(JSON.stringify({model, threads, np, ng, pp, tg}));
process.exit(0);
