package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sets32 and sets64 are every kernel level this machine runs.
func sets32() []Set[Kernel32, Dots32] {
	var s []Set[Kernel32, Dots32]
	if best, ok := Float32(); ok {
		s = append(s, best)
	}
	if a, _, ok := AVX2(); ok && Level() != "AVX2" {
		s = append(s, a)
	}
	return s
}

func sets64() []Set[Kernel64, Dots64] {
	var s []Set[Kernel64, Dots64]
	if best, ok := Float64(); ok {
		s = append(s, best)
	}
	if _, a, ok := AVX2(); ok && Level() != "AVX2" {
		s = append(s, a)
	}
	return s
}

// tileCase is one kernel call: kc steps, B row stride ldb >= NR, C row
// stride ldc > NR so that the gaps between tile rows are guarded too.
type tileCase struct{ kc, ldbPad, ldcPad int }

var tileCases = []tileCase{{1, 0, 3}, {2, 5, 1}, {7, 0, 9}, {33, 16, 2}, {128, 0, 5}}

// checkTiles runs every mr kernel of a set against the scalar loop of the
// package doc, in both store modes, with NaN in every C element it must
// not touch.
func checkTiles[T float32 | float64, K ~func(int, *T, *T, int, *T, int, int)](t *testing.T, name string, mrMax, nr int, ks []K, gemv K, tol float64) {
	r := rand.New(rand.NewPCG(7, uint64(nr)))
	nan := T(math.NaN())
	for mr := 1; mr <= mrMax; mr++ {
		for _, tc := range tileCases {
			for _, acc := range []bool{false, true} {
				ldb, ldc := nr+tc.ldbPad, nr+tc.ldcPad
				a := make([]T, tc.kc*mr)
				b := make([]T, (tc.kc-1)*ldb+nr)
				for i := range a {
					a[i] = T(r.NormFloat64())
				}
				for i := range b {
					b[i] = T(r.NormFloat64())
				}
				c := make([]T, mr*ldc+ldc)
				for i := range c {
					c[i] = nan
				}
				want := make([]float64, mr*nr)
				scale := make([]float64, mr*nr) // sum |a||b|: the error bound's scale
				for i := 0; i < mr; i++ {
					for j := 0; j < nr; j++ {
						init := 0.0
						if acc {
							c[i*ldc+j] = T(i - j)
							init = float64(i - j)
						}
						s, abs := init, math.Abs(init)
						for p := 0; p < tc.kc; p++ {
							x := float64(a[p*mr+i]) * float64(b[p*ldb+j])
							s += x
							abs += math.Abs(x)
						}
						want[i*nr+j], scale[i*nr+j] = s, abs
					}
				}
				flags := 0
				if acc {
					flags = Accumulate
				}
				ks[mr-1](tc.kc, &a[0], &b[0], ldb, &c[0], ldc, flags)
				for i := range c {
					row, col := i/ldc, i%ldc
					if row >= mr || col >= nr {
						if c[i] == c[i] {
							t.Fatalf("%s x%d %+v: wrote guard c[%d] = %v", name, mr, tc, i, c[i])
						}
						continue
					}
					if w := want[row*nr+col]; math.Abs(float64(c[i])-w) > tol*(1+scale[row*nr+col]) {
						t.Fatalf("%s x%d %+v acc=%v: c[%d][%d] = %v, want %v", name, mr, tc, acc, row, col, c[i], w)
					}
				}
			}
		}
	}
	// The one-row kernel over several column panels.
	for _, tc := range tileCases {
		for _, panels := range []int{1, 3} {
			n := panels * nr
			ldb := n + tc.ldbPad
			a := make([]T, tc.kc)
			b := make([]T, (tc.kc-1)*ldb+n)
			for i := range a {
				a[i] = T(r.NormFloat64())
			}
			for i := range b {
				b[i] = T(r.NormFloat64())
			}
			c := make([]T, n+nr)
			for i := range c {
				c[i] = nan
			}
			gemv(tc.kc, &a[0], &b[0], ldb, &c[0], n, 0)
			for j := range c {
				if j >= n {
					if c[j] == c[j] {
						t.Fatalf("%s gemv: wrote guard c[%d]", name, j)
					}
					continue
				}
				var s, abs float64
				for p := 0; p < tc.kc; p++ {
					x := float64(a[p]) * float64(b[p*ldb+j])
					s += x
					abs += math.Abs(x)
				}
				if math.Abs(float64(c[j])-s) > tol*(1+abs) {
					t.Fatalf("%s gemv %+v: c[%d] = %v, want %v", name, tc, j, c[j], s)
				}
			}
		}
	}
}

func TestKernelsFloat32(t *testing.T) {
	sets := sets32()
	if len(sets) == 0 {
		t.Skip("no assembly kernels in this build or on this CPU")
	}
	for _, s := range sets {
		if len(s.Kernels) != s.MR {
			t.Fatalf("%s: %d kernels for MR %d", s.Name, len(s.Kernels), s.MR)
		}
		checkTiles(t, "S"+s.Name, s.MR, s.NR, s.Kernels, s.Gemv, 1e-5)
	}
}

func TestKernelsFloat64(t *testing.T) {
	sets := sets64()
	if len(sets) == 0 {
		t.Skip("no assembly kernels in this build or on this CPU")
	}
	for _, s := range sets {
		checkTiles(t, "D"+s.Name, s.MR, s.NR, s.Kernels, s.Gemv, 1e-12)
	}
}

// checkDots runs every dots kernel of a set against float64 sums, over
// lengths around the vector widths and row strides past the length, with
// NaN past every row (which a kernel reading too far would sum) and
// beyond the outputs (which it must not write).
func checkDots[T float32 | float64, D ~func(int, *T, *T, int, *T)](t *testing.T, name string, ks []D, tol float64) {
	t.Helper()
	if len(ks) != 4 {
		t.Fatalf("%s: %d dots kernels, want 4", name, len(ks))
	}
	r := rand.New(rand.NewPCG(3, 4))
	nan := T(math.NaN())
	for rows := 1; rows <= len(ks); rows++ {
		for _, k := range []int{0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257} {
			for _, pad := range []int{0, 5} {
				ldx := max(k+pad, 1)
				w := make([]T, k+1)
				x := make([]T, rows*ldx+1)
				for i := range w {
					w[i] = T(r.NormFloat64())
				}
				w[k] = nan
				for i := range x {
					x[i] = T(r.NormFloat64())
					if i%ldx >= k || i == len(x)-1 {
						x[i] = nan
					}
				}
				out := make([]T, rows+2)
				for i := range out {
					out[i] = nan
				}
				ks[rows-1](k, &w[0], &x[0], ldx, &out[0])
				for i := range out {
					if i >= rows {
						if out[i] == out[i] {
							t.Fatalf("%s x%d k=%d: wrote guard out[%d]", name, rows, k, i)
						}
						continue
					}
					var s, abs float64
					for p := range k {
						v := float64(w[p]) * float64(x[i*ldx+p])
						s += v
						abs += math.Abs(v)
					}
					if !(math.Abs(float64(out[i])-s) <= tol*(1+abs)) {
						t.Fatalf("%s x%d k=%d ldx=%d: out[%d] = %v, want %v", name, rows, k, ldx, i, out[i], s)
					}
				}
			}
		}
	}
}

func TestDots(t *testing.T) {
	s32, s64 := sets32(), sets64()
	if len(s32) == 0 {
		t.Skip("no assembly kernels in this build or on this CPU")
	}
	for _, s := range s32 {
		checkDots(t, "S"+s.Name, s.Dots, 1e-6)
	}
	for _, s := range s64 {
		checkDots(t, "D"+s.Name, s.Dots, 1e-14)
	}
}
