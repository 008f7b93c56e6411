package autograd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// ErrGradCheck is wrapped by the error GradCheck returns when analytic and
// numeric gradients disagree.
var ErrGradCheck = errors.New("autograd: gradient check failed")

// Check sets GradCheck's step and tolerances. Zero fields take the
// defaults: Eps 1e-6, Atol 1e-5, Rtol 1e-3.
type Check struct {
	Eps  float64 // central-difference step
	Atol float64 // absolute tolerance per element
	Rtol float64 // tolerance relative to the numeric gradient
	// MaxReports caps the mismatches listed in the error (default 10).
	MaxReports int
}

// Mismatch is one element whose analytic gradient is out of tolerance.
type Mismatch struct {
	Input    int    // index into the inputs
	Name     string // placeholder name of the input
	Index    []int  // element position
	Analytic float64
	Numeric  float64
}

// GradCheckError lists the mismatches found by GradCheck.
type GradCheckError struct {
	Mismatches []Mismatch // the first MaxReports failures
	Failed     int        // elements out of tolerance
	Checked    int        // elements compared
}

// Error lists the failed elements.
func (e *GradCheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %d of %d elements out of tolerance", ErrGradCheck, e.Failed, e.Checked)
	for _, m := range e.Mismatches {
		fmt.Fprintf(&b, "\n\tinput %d (%s) at %v: analytic %.9g, numeric %.9g", m.Input, m.Name, m.Index, m.Analytic, m.Numeric)
	}
	return b.String()
}

// Unwrap returns ErrGradCheck.
func (e *GradCheckError) Unwrap() error { return ErrGradCheck }

// GradCheck checks the gradients of f with central finite differences in
// float64. f builds its output from one placeholder per input (named "x0",
// "x1", ...; float inputs are converted to f64). Integer and boolean inputs
// (indices, masks) are fed unchanged and not differentiated. A non-scalar
// output is reduced with fixed random weights, which checks the full
// vector-Jacobian product. The error, a *GradCheckError, names each input
// and element that failed; a nil input, or no float input at all, is an
// error wrapping ErrInput.
func GradCheck(f func(g *graph.Graph, xs []graph.Tensor) graph.Tensor, inputs []*tensor.Array, c Check) error {
	if c.Eps == 0 {
		c.Eps = 1e-6
	}
	if c.Atol == 0 {
		c.Atol = 1e-5
	}
	if c.Rtol == 0 {
		c.Rtol = 1e-3
	}
	if c.MaxReports == 0 {
		c.MaxReports = 10
	}
	g := graph.New()
	feeds := graph.Feeds{}
	xs := make([]graph.Tensor, len(inputs))
	var diff []int
	for i, a := range inputs {
		name := fmt.Sprintf("x%d", i)
		if a == nil {
			return fmt.Errorf("%w: input %d is nil", ErrInput, i)
		}
		v := a
		if a.DType().IsFloat() {
			var err error
			if v, err = a.Convert(tensor.F64); err != nil {
				return err
			}
			diff = append(diff, i)
		}
		feeds[name] = v
		xs[i] = g.Placeholder(name, v.DType(), v.Shape()...)
	}
	if len(diff) == 0 {
		return fmt.Errorf("%w: no float inputs to check", ErrInput)
	}
	y := f(g, xs)
	if err := g.Err(); err != nil {
		return err
	}
	if y.DType() != tensor.F64 {
		return fmt.Errorf("%w: output is %v, want f64", ErrInput, y.DType())
	}
	if y.Shape().Size() != 1 {
		rng := rand.New(rand.NewPCG(1, 2))
		w := tensor.MustZeros(tensor.F64, y.Shape())
		for i := range w.Float64s() {
			w.Float64s()[i] = rng.Float64()*2 - 1
		}
		y = y.Mul(g.Const(w)).Sum()
	}
	var wrt []graph.Tensor
	for _, i := range diff {
		wrt = append(wrt, xs[i])
	}
	gs, err := Grad(y, wrt...)
	if err != nil {
		return err
	}
	analytic, err := graph.Compile(gs)
	if err != nil {
		return err
	}
	value, err := graph.Compile([]graph.Tensor{y})
	if err != nil {
		return err
	}
	ctx := context.Background()
	an, err := analytic.Run(ctx, feeds)
	if err != nil {
		return err
	}
	eval := func() (float64, error) {
		out, err := value.Run(ctx, feeds)
		if err != nil {
			return 0, err
		}
		return out[0].Flat(0), nil
	}
	rep := &GradCheckError{}
	for k, i := range diff {
		x := feeds[fmt.Sprintf("x%d", i)].Float64s()
		for j := range x {
			orig := x[j]
			x[j] = orig + c.Eps
			fp, err := eval()
			if err != nil {
				return err
			}
			x[j] = orig - c.Eps
			fm, err := eval()
			if err != nil {
				return err
			}
			x[j] = orig
			num := (fp - fm) / (2 * c.Eps)
			a := an[k].Float64s()[j]
			rep.Checked++
			if math.Abs(a-num) <= c.Atol+c.Rtol*math.Abs(num) {
				continue
			}
			if rep.Failed++; len(rep.Mismatches) < c.MaxReports {
				rep.Mismatches = append(rep.Mismatches, Mismatch{Input: i, Name: fmt.Sprintf("x%d", i), Index: unravel(j, inputs[i].Shape()), Analytic: a, Numeric: num})
			}
		}
	}
	if rep.Failed > 0 {
		return rep
	}
	return nil
}

func unravel(i int, s tensor.Shape) []int {
	idx := make([]int, len(s))
	for k := len(s) - 1; k >= 0; k-- {
		if s[k] > 0 {
			idx[k] = i % s[k]
			i /= s[k]
		}
	}
	return idx
}
