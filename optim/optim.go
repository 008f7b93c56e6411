package optim

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Errors returned by the optimisers, wrapped with details.
var (
	// ErrConfig reports a bad hyper-parameter.
	ErrConfig = errors.New("optim: bad configuration")
	// ErrParam reports parameters or gradients an optimiser cannot update:
	// mismatched counts, shapes or dtypes, non-float or non-state tensors,
	// tensors from different graphs.
	ErrParam = errors.New("optim: bad parameter")
)

// Optimizer records parameter updates as graph operations.
type Optimizer interface {
	// Step records one update of each parameter from its gradient and
	// returns the graph.Assign tensors (parameters and optimiser state);
	// include all of them among a Program's outputs, or the state the
	// missing ones write goes stale. params[i] must be a Param or
	// Variable; grads[i] must have its shape and dtype.
	//
	// An optimiser binds to the graph of its first Step. Calling Step
	// again reuses each parameter's state and the optimiser's step
	// counter; the counter advances once per run of any Program that
	// includes the optimiser's updates.
	Step(params, grads []graph.Tensor) ([]graph.Tensor, error)
	// Minimize differentiates the scalar loss with respect to every
	// parameter (graph.Param) it depends on and records their updates, as
	// Step does.
	Minimize(loss graph.Tensor) ([]graph.Tensor, error)
}

// state is what every optimiser shares: the graph it is bound to (at the
// first Step), the unique prefix of its variables' names, and each
// parameter's state variables.
type state struct {
	kind   string // "sgd", "adam": the default name
	name   string // requested name prefix
	g      *graph.Graph
	prefix string
	slots  map[string]graph.Tensor // "slot/param" -> variable
}

// bind attaches the optimiser to g on first use and checks params and grads.
func (s *state) bind(params, grads []graph.Tensor, rate graph.Tensor) error {
	if len(params) == 0 {
		return fmt.Errorf("%w: no parameters", ErrParam)
	}
	if len(params) != len(grads) {
		return fmt.Errorf("%w: %d parameters but %d gradients", ErrParam, len(params), len(grads))
	}
	g := params[0].Graph()
	if g == nil {
		return fmt.Errorf("%w: parameter 0 is the zero Tensor", ErrParam)
	}
	if err := g.Err(); err != nil {
		return err
	}
	if s.g != nil && s.g != g {
		return fmt.Errorf("%w: optimiser is bound to another graph", ErrParam)
	}
	if rate.Graph() != nil && rate.Graph() != g {
		return fmt.Errorf("%w: Rate belongs to another graph than the parameters", ErrConfig)
	}
	seen := map[int]bool{}
	for i, p := range params {
		v, ok := p.Var()
		switch {
		case p.Graph() != g || !p.Valid():
			return fmt.Errorf("%w: parameter %d is not a valid tensor of parameter 0's graph", ErrParam, i)
		case !ok || (p.Op() != op.Param && p.Op() != op.Variable):
			return fmt.Errorf("%w: parameter %d is %v, not a Param or Variable", ErrParam, i, p.Op())
		case p.DType() != tensor.F32 && p.DType() != tensor.F64:
			return fmt.Errorf("%w: parameter %q is %v, not F32 or F64", ErrParam, v.Name(), p.DType())
		case seen[p.ID()]:
			return fmt.Errorf("%w: parameter %q given twice", ErrParam, v.Name())
		}
		seen[p.ID()] = true
		gr := grads[i]
		switch {
		case gr.Graph() != g || !gr.Valid():
			return fmt.Errorf("%w: gradient %d (of %q) is not a valid tensor of the parameters' graph", ErrParam, i, v.Name())
		case gr.DType() != p.DType() || !gr.Shape().Equal(p.Shape()):
			return fmt.Errorf("%w: gradient of %q is %v%v, want %v%v", ErrParam, v.Name(), gr.DType(), gr.Shape(), p.DType(), p.Shape())
		}
	}
	if s.g == nil {
		s.g = g
		s.prefix = uniquePrefix(g, orDefault(s.name, s.kind))
		s.slots = map[string]graph.Tensor{}
	}
	return nil
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// uniquePrefix returns base, or base#N, such that no variable of g is named
// under it yet, so two optimisers on one graph keep separate state.
func uniquePrefix(g *graph.Graph, base string) string {
	taken := func(p string) bool {
		for _, v := range g.Vars() {
			if strings.HasPrefix(v.Name(), p+"/") {
				return true
			}
		}
		return false
	}
	p := base
	for n := 1; taken(p); n++ {
		p = base + "#" + strconv.Itoa(n)
	}
	return p
}

// slot returns the optimiser's state variable named slot for parameter p,
// created as zeros shaped like p on first use.
func (s *state) slot(slot string, p graph.Tensor) graph.Tensor {
	v, _ := p.Var()
	key := slot + "/" + v.Name()
	if t, ok := s.slots[key]; ok {
		return t
	}
	t := s.g.Variable(s.prefix+"/"+key, tensor.MustZeros(p.DType(), p.Shape()))
	s.slots[key] = t
	return t
}

// counter returns the optimiser's F64 scalar step counter, created as 0.
func (s *state) counter() graph.Tensor {
	const key = "step"
	if t, ok := s.slots[key]; ok {
		return t
	}
	t := s.g.Variable(s.prefix+"/"+key, tensor.Scalar(tensor.F64, 0))
	s.slots[key] = t
	return t
}

// rate returns the learning rate as a scalar of dtype d: the Rate tensor
// when one is set, otherwise the constant lr.
func (s *state) rate(rate graph.Tensor, lr float64, d tensor.DType) graph.Tensor {
	if rate.Valid() {
		if rate.DType() != d {
			return rate.Cast(d)
		}
		return rate
	}
	return s.g.Scalar(d, lr)
}

// checkRate validates a learning rate given as a constant or a tensor.
func checkRate(rate graph.Tensor, lr float64) error {
	if rate.Graph() != nil {
		if !rate.Valid() || !rate.DType().IsFloat() || rate.Shape().Size() != 1 || rate.Rank() != 0 {
			return fmt.Errorf("%w: Rate must be a valid rank-0 float tensor, got %v", ErrConfig, rate)
		}
		return nil
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("%w: learning rate %v, want > 0", ErrConfig, lr)
	}
	return nil
}

// finish checks the graph after recording and returns the assignments.
func (s *state) finish(out []graph.Tensor) ([]graph.Tensor, error) {
	if err := s.g.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// minimize differentiates loss with respect to the parameters it depends on
// and passes them with their gradients to step.
func minimize(loss graph.Tensor, step func(params, grads []graph.Tensor) ([]graph.Tensor, error)) ([]graph.Tensor, error) {
	g := loss.Graph()
	if g == nil || !loss.Valid() {
		if g != nil && g.Err() != nil {
			return nil, g.Err()
		}
		return nil, fmt.Errorf("%w: loss is not a valid tensor", ErrParam)
	}
	if !loss.DType().IsFloat() || loss.Shape().Size() != 1 {
		return nil, fmt.Errorf("%w: loss %v is not a float scalar", ErrParam, loss)
	}
	params := paramsOf(loss)
	if len(params) == 0 {
		return nil, fmt.Errorf("%w: loss depends on no parameter", ErrParam)
	}
	grads, err := autograd.Grad(loss, params...)
	if err != nil {
		return nil, fmt.Errorf("optim: gradients: %w", err)
	}
	return step(params, grads)
}

// paramsOf returns the parameters y depends on, in creation order.
func paramsOf(y graph.Tensor) []graph.Tensor {
	seen := map[int]bool{}
	stack := []graph.Tensor{y}
	var params []graph.Tensor
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[t.ID()] {
			continue
		}
		seen[t.ID()] = true
		if t.Op() == op.Param {
			params = append(params, t)
		}
		stack = append(stack, t.Inputs()...)
	}
	sort.Slice(params, func(i, j int) bool { return params[i].ID() < params[j].ID() })
	return params
}
