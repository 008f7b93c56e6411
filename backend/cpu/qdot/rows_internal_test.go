package qdot

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowsKernels requires each level's many-row kernels to give, row for
// row, the bits of its one-row kernel, on random block bytes (any scales)
// for several row counts and widths, including a Q4_0 width that is not
// whole groups of eight blocks.
func TestRowsKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	defer SetLevel(CurrentLevel())
	for _, lvl := range Supported() {
		SetLevel(lvl)
		for typ, rk := range active.rows {
			bs := typ.BlockSize()
			for _, cols := range []int{256, 768, 96} {
				if cols%bs != 0 {
					continue
				}
				rb, _ := RowBytes(typ, cols)
				x := make([]float32, cols)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				var a acts
				a.prepare(typ, x, 1, cols)
				xr := a.row(0)
				for _, rows := range []int{1, 3, 17} {
					w := make([]byte, rows*rb)
					for i := range w {
						w[i] = byte(rng.Uint32())
					}
					got := make([]float32, rows+1)
					got[rows] = 42
					rk(w, &xr, got[:rows])
					if got[rows] != 42 {
						t.Fatalf("%v %v: wrote past dst", lvl, typ)
					}
					for r := 0; r < rows; r++ {
						want := active.dot[typ](w[r*rb:(r+1)*rb], &xr)
						if math.Float32bits(got[r]) != math.Float32bits(want) && !(got[r] != got[r] && want != want) {
							t.Fatalf("%v %v cols=%d rows=%d: row %d gives %v, one-row kernel %v", lvl, typ, cols, rows, r, got[r], want)
						}
					}
				}
			}
		}
	}
}
