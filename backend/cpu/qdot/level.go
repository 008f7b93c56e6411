package qdot

import "fmt"

// Level is a kernel implementation level.
type Level int

// The levels, from the portable Go kernels up.
const (
	// Generic is the pure Go kernels, available everywhere.
	Generic Level = iota
	// AVX2 is assembly using AVX2 and FMA (vpmaddubsw/vpmaddwd).
	AVX2
	// AVX512VNNI is assembly using AVX-512 VNNI's vpdpbusd on 256-bit
	// registers (needs AVX512F, AVX512VL, AVX512BW and AVX512VNNI); F16
	// and BF16 use their AVX2 kernels at this level.
	AVX512VNNI
)

// String returns the level's name.
func (l Level) String() string {
	switch l {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512VNNI:
		return "avx512vnni"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// kernelSet is the row-dot kernel of every type at one level, and the
// level's activation quantisers for 32- and 256-element blocks (nil:
// acts.prepare's Go loops), which must give the Go loops' bits.
type kernelSet struct {
	level   Level
	dot     map[Type]dotFunc
	quant32 func(x []float32, q []int8, d []float32, s []int32, ms, dv []float32, c []int32, bias int32)
	quantK  func(x []float32, q []int8, d []float32, s, s32 []int32)
	// rows holds, for the types that have one, a kernel that dots
	// len(dst) consecutive weight rows with one activation row, the bits
	// of dot row by row in one call.
	rows map[Type]rowsFunc
	// tile holds, for the types that have them, kernels that dot weight
	// rows with several activation rows at once, largest tile first.
	tile map[Type][]tileKernel
}

// tileKernel dots the consecutive weight rows in w with activation rows i0
// to i0+rows-1 of a (tiled by prepareTiles), the result of activation row
// i0+i and weight row r going to dst[i*stride+r], with the bits of dot
// for every pair.
type tileKernel struct {
	rows int
	dot  func(w []byte, a *acts, i0 int, dst []float32, stride int)
	// layout is how prepareTiles lays out Q4_0 activations for it.
	layout q40Layout
}

// q40Layout is a layout of Q4_0 activation tiles (see prepareTiles).
type q40Layout int

const (
	q40Pairs  q40Layout = iota // groups of eight blocks as in qp
	q40Lanes                   // groups of eight blocks in q40LaneOrder
	q40Blocks                  // blocks, as Q8_0's
)

// rowsFunc dots the len(dst) consecutive weight rows in w with x, row r's
// result going to dst[r].
type rowsFunc func(w []byte, x *row, dst []float32)

// levels holds a kernel set per level the machine supports, in order;
// levels[0] is Generic, the rest come from archLevels.
var levels = append([]*kernelSet{{level: Generic, dot: genericDot}}, archLevels()...)

// active is the kernel set in use: the best the machine supports.
var active = levels[len(levels)-1]

// Supported returns the levels this machine and build can run, from
// Generic up.
func Supported() []Level {
	out := make([]Level, len(levels))
	for i, k := range levels {
		out[i] = k.level
	}
	return out
}

// CurrentLevel returns the level MatVec and MatMul use.
func CurrentLevel() Level { return active.level }

// SetLevel makes MatVec and MatMul use level l and returns the previous
// level, or an error wrapping ErrLevel when this machine
// or build cannot run l. It is meant for tests and benchmarks and must not
// be called while a product is running.
func SetLevel(l Level) (Level, error) {
	for _, k := range levels {
		if k.level == l {
			prev := active.level
			active = k
			return prev, nil
		}
	}
	return active.level, fmt.Errorf("%w: %v", ErrLevel, l)
}
