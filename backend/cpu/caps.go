package cpu

import (
	"math"
	"sync"
	"time"

	"github.com/aethertensor/aether/backend"
)

var (
	capsOnce sync.Once
	caps     backend.Caps
)

// Caps measures, once per process, the memory bandwidth and elementwise
// rate the fusion cost model weighs (a few milliseconds).
func (*Device) Caps() backend.Caps {
	capsOnce.Do(func() { caps = calibrate() })
	return caps
}

func calibrate() backend.Caps {
	const n = 1 << 21 // 8 MiB of float32: beyond L2
	src, dst := make([]float32, n), make([]float32, n)
	best := math.MaxFloat64
	for r := 0; r < 3; r++ {
		t := time.Now()
		copy(dst, src)
		best = min(best, time.Since(t).Seconds())
	}
	bw := 2 * 4 * n / max(best, 1e-9) // read + write
	x := dst[:1<<14]
	best = math.MaxFloat64
	for r := 0; r < 3; r++ {
		t := time.Now()
		for i := range x {
			x[i] = x[i]*1.0001 + 0.5
		}
		best = min(best, time.Since(t).Seconds())
	}
	ops := 2 * float64(len(x)) / max(best, 1e-9)
	return backend.Caps{Bandwidth: bw, OpsPerSec: ops, Launch: 100e-9, FuseReductions: true, FuseReduceEpilogues: true, ChainReductions: true, FuseEpilogues: true, HalfLoads: true, Float64: true}
}
