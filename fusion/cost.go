package fusion

import (
	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
)

// Caps describes a device to the cost model; devices report theirs through
// backend.Capable.
type Caps = backend.Caps

// DefaultCaps are conservative figures for a CPU core pair, used when a
// device reports none.
var DefaultCaps = Caps{Bandwidth: 10e9, OpsPerSec: 2e9, Launch: 200e-9}

// opCost is the work of one element of an operation, in simple operations.
func opCost(c op.Code) float64 {
	switch c {
	case op.Exp, op.Log, op.Sin, op.Cos, op.Tanh, op.Sigmoid, op.Erf, op.Pow:
		return 20
	case op.Div, op.Recip, op.Sqrt, op.Rsqrt:
		return 4
	case op.Reshape, op.Permute, op.Expand, op.Slice:
		return 0
	}
	return 1
}

// recompute reports whether a value of the given size, computed by work
// simple operations per element from inputs of inBytes bytes per element,
// is cheaper recomputed by each of its uses consumers than written once and
// read back by each.
func recompute(c Caps, elems int, bytes int, work float64, inBytes int, uses int) bool {
	n := float64(elems)
	extra := float64(uses - 1)
	saved := n*float64(bytes)*float64(1+uses)/c.Bandwidth + c.Launch
	cost := extra*n*work/c.OpsPerSec + extra*n*float64(inBytes)/c.Bandwidth
	return saved > cost
}

// epilogueRowBytes bounds the bytes of one row that a reduction with an
// epilogue or a Pre reads twice or more (once per reduction, once for the
// epilogue). On one
// core the fused kernel costs less at every row length measured (RMSNorm
// over 2^23 f32 values, rows of 16 KiB to 4 MiB: 6-7 against 7-8 ms of
// CPU), but it shares out rows, not chunks of rows, so long rows (few of
// them) would leave cores idle that the separate elementwise kernel uses;
// beyond a core's L2 the second pass also reads memory again.
const epilogueRowBytes = 256 << 10

// fuseRows reports whether the reduction red with an epilogue or a Pre,
// binding the values inputs, fits the device: its buffers within the
// binding limit and each row's row-sized inputs within a core's cache.
func fuseRows(c Caps, red *kernel.Reduce, inputs []int) bool {
	if c.MaxBindings > 0 && len(inputs)+1 > c.MaxBindings {
		return false
	}
	ins := red.Body.Inputs // with a Pre, every input the launch binds
	if red.Epilogue != nil {
		ins = red.Epilogue.Inputs
	} else if red.Pre == nil {
		return false
	}
	row := 0
	for _, in := range ins {
		if in.Len >= red.N {
			row += in.DType.Size()
		}
	}
	return row*red.N <= epilogueRowBytes
}
