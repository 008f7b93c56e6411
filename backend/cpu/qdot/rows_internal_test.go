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

// TestTileKernels requires MatMul through each level's tile kernels and
// many-row kernels (for the rows left over, or for every row of a type
// without tile kernels) to give, for every (activation row, weight row)
// pair, the bits of the level's one-row kernel.
func TestTileKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	defer SetLevel(CurrentLevel())
	for _, lvl := range Supported() {
		SetLevel(lvl)
		for typ := range active.dot {
			checkMatMulBits(t, rng, typ)
		}
	}
}

// checkMatMulBits requires MatMul of type typ at the active level to give
// the one-row kernel's bits for every pair, on random block bytes (any
// scales) for activation row counts that take tiles of each size with and
// without a ragged tail of rows, widths with and without whole groups of
// eight blocks, and enough weight rows to span several of MatMul's weight
// blocks and goroutine shares.
func checkMatMulBits(t *testing.T, rng *rand.Rand, typ Type) {
	t.Helper()
	tests := []struct {
		cols, rows int
		ns         []int
	}{
		{cols: 256, rows: 17, ns: []int{2, 4, 5, 7, 12}},
		{cols: 288, rows: 3, ns: []int{3, 4, 9, 15}}, // one block past a group
		{cols: 96, rows: 5, ns: []int{4, 6, 13}},     // no whole group
		{cols: 768, rows: 33, ns: []int{8, 13}},      // three groups
		{cols: 256, rows: 1000, ns: []int{5}},        // several weight blocks
		{cols: 2048, rows: 1, ns: []int{64}},
	}
	bs := typ.BlockSize()
	for _, tc := range tests {
		if tc.cols%bs != 0 {
			continue
		}
		rb, _ := RowBytes(typ, tc.cols)
		w := make([]byte, tc.rows*rb)
		for i := range w {
			w[i] = byte(rng.Uint32())
		}
		for _, n := range tc.ns {
			x := make([]float32, n*tc.cols)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			clear(x[tc.cols : 2*tc.cols]) // a row of zeros
			got := make([]float32, n*tc.rows)
			if err := MatMul(typ, got, w, tc.rows, tc.cols, x, n); err != nil {
				t.Fatal(err)
			}
			var a acts
			a.prepare(typ, x, n, tc.cols)
			for i := 0; i < n; i++ {
				xr := a.row(i)
				for r := 0; r < tc.rows; r++ {
					want := active.dot[typ](w[r*rb:(r+1)*rb], &xr)
					g := got[i*tc.rows+r]
					if math.Float32bits(g) != math.Float32bits(want) && !(g != g && want != want) {
						t.Fatalf("%v %v cols=%d rows=%d n=%d: activation row %d, weight row %d gives %v, one-row kernel %v", active.level, typ, tc.cols, tc.rows, n, i, r, g, want)
					}
				}
			}
		}
	}
}
