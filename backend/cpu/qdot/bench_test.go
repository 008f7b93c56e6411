package qdot_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"github.com/aethertensor/aether/backend/cpu/qdot"
)

// coldBytes is the weight footprint the matvec benchmarks cycle through:
// larger than the L3 cache, so weights stream from memory as in decoding.
const coldBytes = 128 << 20

// BenchmarkMemRead measures the machine's memory read bandwidth: a sum of a
// 128 MiB array split across GOMAXPROCS goroutines, once with the Go loop
// (eight scalar accumulators) and once with the vector loop (MemSum: eight
// 32-byte loads per 256 bytes, four accumulators), to check that the
// figure does not depend on how the loop issues its loads. Take the larger
// of the two as the machine's bandwidth (on the 2-core EPYC the Go loop
// reads as fast as the vector loop or faster). The goroutines take 256 KiB
// chunks in turn, like a matvec's shares of rows, rather than one distant
// half each.
func BenchmarkMemRead(b *testing.B) {
	buf := make([]uint64, coldBytes/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), coldBytes)
	p := runtime.GOMAXPROCS(0)
	sums := make([]uint64, p)
	for _, vector := range []bool{true, false} {
		name := "vector"
		if !vector {
			name = "go"
		} else if _, done := qdot.MemSum(raw[:256]); done == 0 {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(coldBytes)
			for b.Loop() {
				var wg sync.WaitGroup
				for k := 0; k < p; k++ {
					// Goroutine k reads chunks k, k+p, ...: the workers
					// stream neighbouring memory, as a matvec's shares do.
					wg.Go(func() {
						sums[k] = 0
						for c := k * memChunk; c < len(buf); c += p * memChunk {
							part := buf[c:min(c+memChunk, len(buf))]
							done := 0
							if vector {
								var s uint64
								s, done = qdot.MemSum(raw[8*c : 8*(c+len(part))])
								sums[k] += s
							}
							sums[k] += sum8(part[done/8:])
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(coldBytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// memChunk is the uint64s MemRead's goroutines take at a time (256 KiB).
const memChunk = 32 << 10

func sum8(a []uint64) uint64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 uint64
	for ; len(a) >= 8; a = a[8:] {
		s0 += a[0]
		s1 += a[1]
		s2 += a[2]
		s3 += a[3]
		s4 += a[4]
		s5 += a[5]
		s6 += a[6]
		s7 += a[7]
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}

// BenchmarkMatVec multiplies 4096×4096 weights by a vector for every type
// at the generic level and the best level, cycling through enough weight
// copies (random blocks) to exceed the caches. GB/s is weight bytes read
// per second; activation quantisation is included.
func BenchmarkMatVec(b *testing.B) {
	const rows, cols = 4096, 4096
	levels := []qdot.Level{qdot.Generic}
	if best := qdot.CurrentLevel(); best != qdot.Generic {
		levels = append(levels, best)
	}
	r := rand.New(rand.NewPCG(9, 10))
	x := randActs(r, cols)
	dst := make([]float32, rows)
	for _, typ := range qdot.Types() {
		rb, _ := qdot.RowBytes(typ, cols)
		size := rows * rb
		// Copies of one random matrix: the bytes are what matters here.
		w0 := randWeights(b, r, typ, rows, cols, false, 0)
		ws := [][]byte{w0}
		for len(ws)*size < coldBytes {
			ws = append(ws, append([]byte(nil), w0...))
		}
		for _, lvl := range levels {
			b.Run(fmt.Sprintf("%v/%v", typ, lvl), func(b *testing.B) {
				prev, _ := qdot.SetLevel(lvl)
				defer qdot.SetLevel(prev)
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					if err := qdot.MatVec(typ, dst, ws[i%len(ws)], rows, cols, x); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

// BenchmarkKernel measures the kernels' compute speed on cache-resident
// weights (256×4096, one matrix): run it with -cpu 1 to see one core.
func BenchmarkKernel(b *testing.B) {
	const rows, cols = 256, 4096
	r := rand.New(rand.NewPCG(11, 12))
	x := randActs(r, cols)
	dst := make([]float32, rows)
	for _, typ := range qdot.Types() {
		rb, _ := qdot.RowBytes(typ, cols)
		w := randWeights(b, r, typ, rows, cols, false, 0)
		for _, lvl := range qdot.Supported() {
			b.Run(fmt.Sprintf("%v/%v", typ, lvl), func(b *testing.B) {
				prev, _ := qdot.SetLevel(lvl)
				defer qdot.SetLevel(prev)
				b.SetBytes(int64(rows * rb))
				for b.Loop() {
					if err := qdot.MatVec(typ, dst, w, rows, cols, x); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows*rb)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

// BenchmarkMatMul multiplies 4096×4096 weights by a 64-row activation
// matrix (a prompt-prefill chunk) for the main model types at each
// assembly level; GFLOP/s counts 2·rows·cols·n, activation quantisation
// included.
func BenchmarkMatMul(b *testing.B) {
	const rows, cols, n = 4096, 4096, 64
	r := rand.New(rand.NewPCG(13, 14))
	x := randActs(r, n*cols)
	dst := make([]float32, n*rows)
	for _, typ := range []qdot.Type{qdot.Q4_0, qdot.Q8_0, qdot.Q4_K} {
		w := randWeights(b, r, typ, rows, cols, false, 0)
		for _, lvl := range qdot.Supported() {
			if lvl == qdot.Generic {
				continue
			}
			b.Run(fmt.Sprintf("%v/%v", typ, lvl), func(b *testing.B) {
				prev, _ := qdot.SetLevel(lvl)
				defer qdot.SetLevel(prev)
				for b.Loop() {
					if err := qdot.MatMul(typ, dst, w, rows, cols, x, n); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(2*rows*cols*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
