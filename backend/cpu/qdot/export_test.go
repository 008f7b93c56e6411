package qdot

// QuantizeActs exposes the activation quantiser of t's kind to the external
// tests: the quants and per-block scales of one row.
func QuantizeActs(t Type, x []float32) ([]int8, []float32) {
	var a acts
	a.prepare(t, x, 1, len(x))
	return a.q, a.d
}

// MemSum exposes memSum to the MemRead benchmark.
func MemSum(b []byte) (uint64, int) { return memSum(b) }
