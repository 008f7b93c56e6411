package optim_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/optim"
	"github.com/aethertensor/aether/tensor"
)

// quad is a separable quadratic problem, L = Σ ½·a·(p−c)² over two
// parameters of different shapes, so the reference gradient a·(p−c) is
// plain Go.
type quad struct {
	init [][]float64 // per parameter
	a, c [][]float64
	dims [][]int
}

func newQuad(seed uint64) quad {
	r := rand.New(rand.NewPCG(seed, 1))
	q := quad{dims: [][]int{{2, 3}, {3}}}
	for _, d := range q.dims {
		n := 1
		for _, x := range d {
			n *= x
		}
		p, a, c := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range p {
			p[i] = r.Float64()*4 - 2
			a[i] = 0.5 + r.Float64()*2
			c[i] = r.Float64()*2 - 1
		}
		q.init, q.a, q.c = append(q.init, p), append(q.a, a), append(q.c, c)
	}
	return q
}

func (q quad) grad(k int, p []float64) []float64 {
	g := make([]float64, len(p))
	for i := range p {
		g[i] = q.a[k][i] * (p[i] - q.c[k][i])
	}
	return g
}

func (q quad) loss(ps [][]float64) float64 {
	s := 0.0
	for k, p := range ps {
		for i := range p {
			d := p[i] - q.c[k][i]
			s += 0.5 * q.a[k][i] * d * d
		}
	}
	return s
}

func arr(d tensor.DType, v []float64, dims []int) *tensor.Array {
	a, err := tensor.NewF64(append([]float64(nil), v...), dims...).Convert(d)
	if err != nil {
		panic(err)
	}
	return a
}

// build records the problem's loss in a new graph of dtype d.
func (q quad) build(d tensor.DType) (*graph.Graph, []graph.Tensor, graph.Tensor) {
	g := graph.New()
	var params []graph.Tensor
	var loss graph.Tensor
	for k, dims := range q.dims {
		p := g.Param([]string{"w", "b"}[k], arr(d, q.init[k], dims))
		l := p.Sub(g.Const(arr(d, q.c[k], dims))).Square().Mul(g.Const(arr(d, q.a[k], dims))).SumAll().Scale(0.5)
		if k == 0 {
			loss = l
		} else {
			loss = loss.Add(l)
		}
		params = append(params, p)
	}
	return g, params, loss
}

func clone(ps [][]float64) [][]float64 {
	out := make([][]float64, len(ps))
	for i, p := range ps {
		out[i] = append([]float64(nil), p...)
	}
	return out
}

// sgdRef is the reference SGD loop: n steps from q.init.
func sgdRef(q quad, c optim.SGDConfig, n int) [][]float64 {
	ps := clone(q.init)
	buf := make([][]float64, len(ps))
	for k := range ps {
		buf[k] = make([]float64, len(ps[k]))
	}
	for range n {
		for k, p := range ps {
			g := q.grad(k, p)
			for i := range p {
				gi := g[i] + c.WeightDecay*p[i]
				d := gi
				if c.Momentum != 0 {
					buf[k][i] = c.Momentum*buf[k][i] + gi
					d = buf[k][i]
					if c.Nesterov {
						d = gi + c.Momentum*buf[k][i]
					}
				}
				p[i] -= c.LR * d
			}
		}
	}
	return ps
}

// adamRef is the reference Adam loop, written in the textbook form with
// bias-corrected moments.
func adamRef(q quad, c optim.AdamConfig, n int) [][]float64 {
	b1, b2, eps := c.Beta1, c.Beta2, c.Eps
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-8
	}
	ps := clone(q.init)
	m, v := make([][]float64, len(ps)), make([][]float64, len(ps))
	for k := range ps {
		m[k], v[k] = make([]float64, len(ps[k])), make([]float64, len(ps[k]))
	}
	for t := 1; t <= n; t++ {
		for k, p := range ps {
			g := q.grad(k, p)
			for i := range p {
				gi := g[i]
				if !c.Decoupled {
					gi += c.WeightDecay * p[i]
				}
				m[k][i] = b1*m[k][i] + (1-b1)*gi
				v[k][i] = b2*v[k][i] + (1-b2)*gi*gi
				mh := m[k][i] / (1 - math.Pow(b1, float64(t)))
				vh := v[k][i] / (1 - math.Pow(b2, float64(t)))
				old := p[i]
				p[i] -= c.LR * mh / (math.Sqrt(vh) + eps)
				if c.Decoupled {
					p[i] -= c.LR * c.WeightDecay * old
				}
			}
		}
	}
	return ps
}

// train compiles loss plus the optimiser's updates and runs n steps,
// returning the parameters' values and the losses the runs reported.
func train(t *testing.T, q quad, d tensor.DType, opt optim.Optimizer, n int) ([][]float64, []float64) {
	t.Helper()
	_, params, loss := q.build(d)
	updates, err := opt.Minimize(loss)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graph.Compile(append([]graph.Tensor{loss}, updates...))
	if err != nil {
		t.Fatal(err)
	}
	var losses []float64
	for range n {
		out, err := prog.Run(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, out[0].Flat(0))
	}
	return values(params), losses
}

func values(params []graph.Tensor) [][]float64 {
	var out [][]float64
	for _, p := range params {
		v, _ := p.Var()
		out = append(out, v.Value().ToFloat64())
	}
	return out
}

func near(t *testing.T, what string, got, want [][]float64, tol float64) {
	t.Helper()
	for k := range want {
		for i := range want[k] {
			if d := math.Abs(got[k][i] - want[k][i]); !(d <= tol*(1+math.Abs(want[k][i]))) {
				t.Fatalf("%s: param %d[%d] = %.17g, want %.17g (diff %.3g)", what, k, i, got[k][i], want[k][i], d)
			}
		}
	}
}

var sgdCases = map[string]optim.SGDConfig{
	"plain":         {LR: 0.1},
	"momentum":      {LR: 0.05, Momentum: 0.9},
	"nesterov":      {LR: 0.05, Momentum: 0.8, Nesterov: true},
	"weight-decay":  {LR: 0.1, WeightDecay: 0.3},
	"momentum+wd":   {LR: 0.05, Momentum: 0.5, WeightDecay: 0.1},
	"nesterov+wd":   {LR: 0.02, Momentum: 0.95, Nesterov: true, WeightDecay: 0.01},
	"large-lr-plus": {LR: 0.7, Momentum: 0.3},
}

var adamCases = map[string]optim.AdamConfig{
	"defaults":   {LR: 0.1},
	"betas":      {LR: 0.05, Beta1: 0.5, Beta2: 0.9, Eps: 1e-3},
	"l2":         {LR: 0.1, WeightDecay: 0.2},
	"adamw":      {LR: 0.1, WeightDecay: 0.2, Decoupled: true},
	"large-eps":  {LR: 0.3, Eps: 0.5},
	"slow-betas": {LR: 0.01, Beta1: 0.99, Beta2: 0.9999},
}

// TestFirstSteps checks steps 1, 2 and 3 of every configuration against the
// float64 reference loops, in F64 and F32.
func TestFirstSteps(t *testing.T) {
	q := newQuad(7)
	for _, d := range []tensor.DType{tensor.F64, tensor.F32} {
		tol := 1e-12
		if d == tensor.F32 {
			tol = 2e-6
		}
		for name, c := range sgdCases {
			for n := 1; n <= 3; n++ {
				got, _ := train(t, q, d, optim.NewSGD(c), n)
				near(t, "sgd/"+name+"/"+d.String(), got, sgdRef(q, c, n), tol)
			}
		}
		for name, c := range adamCases {
			for n := 1; n <= 3; n++ {
				got, _ := train(t, q, d, optim.NewAdam(c), n)
				near(t, "adam/"+name+"/"+d.String(), got, adamRef(q, c, n), tol)
			}
		}
	}
}

// TestManySteps checks that running the update Program N times equals N
// reference steps.
func TestManySteps(t *testing.T) {
	const n = 40
	q := newQuad(11)
	for name, c := range sgdCases {
		got, _ := train(t, q, tensor.F64, optim.NewSGD(c), n)
		near(t, "sgd/"+name, got, sgdRef(q, c, n), 1e-10)
	}
	for name, c := range adamCases {
		got, _ := train(t, q, tensor.F64, optim.NewAdam(c), n)
		near(t, "adam/"+name, got, adamRef(q, c, n), 1e-10)
	}
}

// TestAdamWConstructor checks that NewAdamW is Adam with decoupled decay.
func TestAdamWConstructor(t *testing.T) {
	q := newQuad(5)
	c := optim.AdamConfig{LR: 0.05, WeightDecay: 0.5}
	got, _ := train(t, q, tensor.F64, optim.NewAdamW(c), 5)
	c.Decoupled = true
	near(t, "adamw", got, adamRef(q, c, 5), 1e-12)
}

// TestReportedLoss checks that each run reports the loss of the parameters
// before its own update.
func TestReportedLoss(t *testing.T) {
	q := newQuad(3)
	c := optim.SGDConfig{LR: 0.1, Momentum: 0.9}
	_, losses := train(t, q, tensor.F64, optim.NewSGD(c), 4)
	for i, l := range losses {
		if want := q.loss(sgdRef(q, c, i)); math.Abs(l-want) > 1e-12*(1+want) {
			t.Fatalf("run %d reported loss %v, want %v", i, l, want)
		}
	}
}

// TestConvergence fits a linear regression y = X·w + b with each optimiser.
func TestConvergence(t *testing.T) {
	const n, k = 64, 3
	r := rand.New(rand.NewPCG(1, 2))
	wTrue := []float64{1.5, -2, 0.5}
	xs, ys := make([]float64, n*k), make([]float64, n)
	for i := range n {
		y := 0.7
		for j := range k {
			xs[i*k+j] = r.Float64()*2 - 1
			y += wTrue[j] * xs[i*k+j]
		}
		ys[i] = y
	}
	opts := map[string]func() optim.Optimizer{
		"sgd":      func() optim.Optimizer { return optim.NewSGD(optim.SGDConfig{LR: 0.1, Momentum: 0.9}) },
		"nesterov": func() optim.Optimizer { return optim.NewSGD(optim.SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true}) },
		"adam":     func() optim.Optimizer { return optim.NewAdam(optim.AdamConfig{LR: 0.05}) },
		"adamw":    func() optim.Optimizer { return optim.NewAdamW(optim.AdamConfig{LR: 0.05, WeightDecay: 1e-4}) },
	}
	for name, mk := range opts {
		t.Run(name, func(t *testing.T) {
			g := graph.New()
			x := g.Placeholder("x", tensor.F32, n, k)
			y := g.Placeholder("y", tensor.F32, n)
			w := g.Param("w", tensor.MustZeros(tensor.F32, tensor.Shape{k}))
			b := g.Param("b", tensor.Scalar(tensor.F32, 0))
			loss := x.MatMul(w).Add(b).Sub(y).Square().Mean()
			updates, err := mk().Minimize(loss)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := graph.Compile(append([]graph.Tensor{loss}, updates...))
			if err != nil {
				t.Fatal(err)
			}
			feeds := graph.Feeds{"x": arr(tensor.F32, xs, []int{n, k}), "y": arr(tensor.F32, ys, []int{n})}
			var first, last float64
			for i := range 300 {
				out, err := prog.Run(context.Background(), feeds)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = out[0].Flat(0)
				}
				last = out[0].Flat(0)
			}
			if last > 1e-4 || last > first/1000 {
				t.Fatalf("loss %v -> %v after 300 steps", first, last)
			}
			wv, _ := w.Var()
			for j, want := range wTrue {
				if got := wv.Value().Flat(j); math.Abs(got-want) > 1e-2 {
					t.Errorf("w[%d] = %v, want %v", j, got, want)
				}
			}
		})
	}
}

// TestStateAcrossPrograms alternates runs of two Programs compiled from the
// same graph; the optimiser's state must be shared, so the result equals
// the reference loop run for the total number of steps.
func TestStateAcrossPrograms(t *testing.T) {
	q := newQuad(9)
	c := optim.AdamConfig{LR: 0.05}
	g, params, loss := q.build(tensor.F64)
	updates, err := optim.NewAdam(c).Minimize(loss)
	if err != nil {
		t.Fatal(err)
	}
	// One Program reports the loss; the other only updates.
	p1, err := graph.Compile(append([]graph.Tensor{loss}, updates...))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := graph.Compile(updates)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 6 {
		p := p1
		if i%2 == 1 {
			p = p2
		}
		if _, err := p.Run(ctx, nil); err != nil {
			t.Fatal(err)
		}
		near(t, "after run", values(params), adamRef(q, c, i+1), 1e-12)
	}
	step, ok := g.Var("adam/step")
	if !ok {
		t.Fatal("no adam/step variable")
	}
	if got := step.Value().Flat(0); got != 6 {
		t.Fatalf("step counter = %v, want 6", got)
	}
	for _, name := range []string{"adam/m/w", "adam/v/w", "adam/m/b", "adam/v/b"} {
		v, ok := g.Var(name)
		if !ok || v.Trainable() {
			t.Fatalf("state %q: found %v, trainable %v", name, ok, ok && v.Trainable())
		}
		allZero := true
		for _, x := range v.Value().ToFloat64() {
			allZero = allZero && x == 0
		}
		if allZero {
			t.Errorf("state %q is still zero after 6 steps", name)
		}
	}
}

// TestStepFedGradients drives Step with gradients fed as placeholders, so
// the update rule is checked independently of autograd.
func TestStepFedGradients(t *testing.T) {
	g := graph.New()
	p := g.Param("p", tensor.NewF64([]float64{1, -2, 3}, 3))
	gr := g.Placeholder("g", tensor.F64, 3)
	updates, err := optim.NewSGD(optim.SGDConfig{LR: 0.5, Momentum: 0.5}).Step([]graph.Tensor{p}, []graph.Tensor{gr})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graph.Compile(updates)
	if err != nil {
		t.Fatal(err)
	}
	// b1 = g1, p1 = p0 − ½g1; b2 = ½b1 + g2, p2 = p1 − ½b2.
	steps := []struct{ g, want []float64 }{
		{[]float64{2, 0, -4}, []float64{0, -2, 5}},
		{[]float64{0, 2, 2}, []float64{-0.5, -3, 5}},
	}
	for _, s := range steps {
		if _, err := prog.Run(context.Background(), graph.Feeds{"g": tensor.NewF64(s.g, 3)}); err != nil {
			t.Fatal(err)
		}
		v, _ := p.Var()
		near(t, "step", [][]float64{v.Value().ToFloat64()}, [][]float64{s.want}, 0)
	}
}

// TestRate feeds the learning rate each run through the Rate tensor.
func TestRate(t *testing.T) {
	q := newQuad(13)
	for _, name := range []string{"sgd", "adam"} {
		t.Run(name, func(t *testing.T) {
			g, params, loss := q.build(tensor.F64)
			lr := g.Placeholder("lr", tensor.F32)
			var opt optim.Optimizer
			if name == "sgd" {
				opt = optim.NewSGD(optim.SGDConfig{Rate: lr, Momentum: 0.5})
			} else {
				opt = optim.NewAdam(optim.AdamConfig{Rate: lr})
			}
			updates, err := opt.Minimize(loss)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := graph.Compile(updates)
			if err != nil {
				t.Fatal(err)
			}
			// A zero rate leaves the parameters alone (but advances state);
			// then two steps at rate 0.1 and 0.05.
			for _, r := range []float32{0, 0.1, 0.05} {
				if _, err := prog.Run(context.Background(), graph.Feeds{"lr": tensor.Scalar(tensor.F32, float64(r))}); err != nil {
					t.Fatal(err)
				}
				if r == 0 {
					near(t, "rate 0", values(params), q.init, 0)
				}
			}
			var want [][]float64
			if name == "sgd" {
				want = sgdRateRef(q, 0.5, []float64{0, float64(float32(0.1)), float64(float32(0.05))})
			} else {
				want = adamRateRef(q, []float64{0, float64(float32(0.1)), float64(float32(0.05))})
			}
			near(t, "scheduled", values(params), want, 1e-12)
		})
	}
}

func sgdRateRef(q quad, mom float64, rates []float64) [][]float64 {
	ps := clone(q.init)
	buf := make([][]float64, len(ps))
	for k := range ps {
		buf[k] = make([]float64, len(ps[k]))
	}
	for _, lr := range rates {
		for k, p := range ps {
			g := q.grad(k, p)
			for i := range p {
				buf[k][i] = mom*buf[k][i] + g[i]
				p[i] -= lr * buf[k][i]
			}
		}
	}
	return ps
}

func adamRateRef(q quad, rates []float64) [][]float64 {
	ps := clone(q.init)
	m, v := make([][]float64, len(ps)), make([][]float64, len(ps))
	for k := range ps {
		m[k], v[k] = make([]float64, len(ps[k])), make([]float64, len(ps[k]))
	}
	for t, lr := range rates {
		for k, p := range ps {
			g := q.grad(k, p)
			for i := range p {
				m[k][i] = 0.9*m[k][i] + 0.1*g[i]
				v[k][i] = 0.999*v[k][i] + 0.001*g[i]*g[i]
				mh := m[k][i] / (1 - math.Pow(0.9, float64(t+1)))
				vh := v[k][i] / (1 - math.Pow(0.999, float64(t+1)))
				p[i] -= lr * mh / (math.Sqrt(vh) + 1e-8)
			}
		}
	}
	return ps
}

// TestTwoOptimisers gives two optimisers on one graph separate state.
func TestTwoOptimisers(t *testing.T) {
	q := newQuad(17)
	g, params, loss := q.build(tensor.F64)
	// Both minimise the same loss, each over one parameter.
	a, b := optim.NewAdam(optim.AdamConfig{LR: 0.1}), optim.NewAdam(optim.AdamConfig{LR: 0.1})
	grads, err := autograd.Grad(loss, params...)
	if err != nil {
		t.Fatal(err)
	}
	u1, err := a.Step(params[:1], grads[:1])
	if err != nil {
		t.Fatal(err)
	}
	u2, err := b.Step(params[1:], grads[1:])
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graph.Compile(append(u1, u2...))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := prog.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"adam/step", "adam/m/w", "adam#1/step", "adam#1/m/b"} {
		if _, ok := g.Var(name); !ok {
			t.Errorf("no variable %q", name)
		}
	}
	// The problem is separable, so two optimisers equal one over both.
	near(t, "two optimisers", values(params), adamRef(q, optim.AdamConfig{LR: 0.1}, 3), 1e-12)
}

// TestMinimizeReachedParams checks that Minimize leaves alone parameters
// the loss does not depend on.
func TestMinimizeReachedParams(t *testing.T) {
	g := graph.New()
	used := g.Param("used", tensor.NewF64([]float64{1}, 1))
	unused := g.Param("unused", tensor.NewF64([]float64{1}, 1))
	loss := used.Square().SumAll()
	updates, err := optim.NewAdam(optim.AdamConfig{LR: 0.1}).Minimize(loss)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graph.Compile(updates)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prog.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	uv, _ := used.Var()
	nv, _ := unused.Var()
	if got := uv.Value().Flat(0); math.Abs(got-0.9) > 1e-8 {
		t.Errorf("used = %v, want 0.9", got)
	}
	if got := nv.Value().Flat(0); got != 1 {
		t.Errorf("unused = %v, want 1", got)
	}
	if _, ok := g.Var("adam/m/unused"); ok {
		t.Error("state created for an unused parameter")
	}
}

func TestErrors(t *testing.T) {
	type setup struct {
		g      *graph.Graph
		p, q   graph.Tensor // F64 params [2] and [3]
		loss   graph.Tensor
		i32    graph.Tensor
		other  graph.Tensor // a param of another graph
		konst  graph.Tensor
		gp, gq graph.Tensor // gradients shaped like p and q
	}
	mk := func() setup {
		g := graph.New()
		s := setup{g: g}
		s.p = g.Param("p", tensor.NewF64([]float64{1, 2}, 2))
		s.q = g.Param("q", tensor.NewF64([]float64{1, 2, 3}, 3))
		s.loss = s.p.Square().SumAll().Add(s.q.SumAll())
		s.i32 = g.Variable("i", tensor.NewI32([]int32{1, 2}, 2))
		s.konst = g.Const(tensor.NewF64([]float64{1, 2}, 2))
		s.gp = g.Full(tensor.F64, 1, 2)
		s.gq = g.Full(tensor.F64, 1, 3)
		s.other = graph.New().Param("o", tensor.NewF64([]float64{1, 2}, 2))
		return s
	}
	sgd := func(c optim.SGDConfig) func(s setup) error {
		return func(s setup) error { _, err := optim.NewSGD(c).Minimize(s.loss); return err }
	}
	adam := func(c optim.AdamConfig) func(s setup) error {
		return func(s setup) error { _, err := optim.NewAdam(c).Minimize(s.loss); return err }
	}
	step := func(ps, gs func(s setup) []graph.Tensor) func(s setup) error {
		return func(s setup) error { _, err := optim.NewAdam(optim.AdamConfig{LR: 1}).Step(ps(s), gs(s)); return err }
	}
	ts := func(f ...func(s setup) graph.Tensor) func(s setup) []graph.Tensor {
		return func(s setup) []graph.Tensor {
			var out []graph.Tensor
			for _, x := range f {
				out = append(out, x(s))
			}
			return out
		}
	}
	P := func(s setup) graph.Tensor { return s.p }
	Q := func(s setup) graph.Tensor { return s.q }
	GP := func(s setup) graph.Tensor { return s.gp }
	GQ := func(s setup) graph.Tensor { return s.gq }
	cases := []struct {
		name string
		run  func(s setup) error
		want error
	}{
		{"sgd-zero-lr", sgd(optim.SGDConfig{}), optim.ErrConfig},
		{"sgd-negative-lr", sgd(optim.SGDConfig{LR: -1}), optim.ErrConfig},
		{"sgd-nan-lr", sgd(optim.SGDConfig{LR: math.NaN()}), optim.ErrConfig},
		{"sgd-inf-lr", sgd(optim.SGDConfig{LR: math.Inf(1)}), optim.ErrConfig},
		{"sgd-momentum-1", sgd(optim.SGDConfig{LR: 1, Momentum: 1}), optim.ErrConfig},
		{"sgd-negative-momentum", sgd(optim.SGDConfig{LR: 1, Momentum: -0.1}), optim.ErrConfig},
		{"sgd-nesterov-no-momentum", sgd(optim.SGDConfig{LR: 1, Nesterov: true}), optim.ErrConfig},
		{"sgd-negative-decay", sgd(optim.SGDConfig{LR: 1, WeightDecay: -1}), optim.ErrConfig},
		{"adam-zero-lr", adam(optim.AdamConfig{}), optim.ErrConfig},
		{"adam-beta1", adam(optim.AdamConfig{LR: 1, Beta1: 1}), optim.ErrConfig},
		{"adam-beta2", adam(optim.AdamConfig{LR: 1, Beta2: -0.5}), optim.ErrConfig},
		{"adam-eps", adam(optim.AdamConfig{LR: 1, Eps: -1}), optim.ErrConfig},
		{"adam-decay", adam(optim.AdamConfig{LR: 1, WeightDecay: math.NaN()}), optim.ErrConfig},
		{"rate-not-scalar", func(s setup) error {
			_, err := optim.NewSGD(optim.SGDConfig{Rate: s.gp}).Minimize(s.loss)
			return err
		}, optim.ErrConfig},
		{"rate-int", func(s setup) error {
			_, err := optim.NewAdam(optim.AdamConfig{Rate: s.g.Scalar(tensor.I32, 1)}).Minimize(s.loss)
			return err
		}, optim.ErrConfig},
		{"rate-other-graph", func(s setup) error {
			_, err := optim.NewAdam(optim.AdamConfig{Rate: graph.New().Scalar(tensor.F64, 1)}).Minimize(s.loss)
			return err
		}, optim.ErrConfig},
		{"no-params", step(ts(), ts()), optim.ErrParam},
		{"count-mismatch", step(ts(P, Q), ts(GP)), optim.ErrParam},
		{"shape-mismatch", step(ts(P, Q), ts(GQ, GP)), optim.ErrParam},
		{"dtype-mismatch", step(ts(P), ts(func(s setup) graph.Tensor { return s.g.Full(tensor.F32, 1, 2) })), optim.ErrParam},
		{"int-param", step(ts(func(s setup) graph.Tensor { return s.i32 }), ts(GP)), optim.ErrParam},
		{"const-param", step(ts(func(s setup) graph.Tensor { return s.konst }), ts(GP)), optim.ErrParam},
		{"computed-param", step(ts(func(s setup) graph.Tensor { return s.p.Scale(2) }), ts(GP)), optim.ErrParam},
		{"zero-param", step(ts(func(s setup) graph.Tensor { return graph.Tensor{} }), ts(GP)), optim.ErrParam},
		{"zero-grad", step(ts(P), ts(func(s setup) graph.Tensor { return graph.Tensor{} })), optim.ErrParam},
		{"other-graph-param", step(ts(P, func(s setup) graph.Tensor { return s.other }), ts(GP, GP)), optim.ErrParam},
		{"duplicate-param", step(ts(P, P), ts(GP, GP)), optim.ErrParam},
		{"loss-not-scalar", func(s setup) error {
			_, err := optim.NewAdam(optim.AdamConfig{LR: 1}).Minimize(s.p.Square())
			return err
		}, optim.ErrParam},
		{"loss-no-params", func(s setup) error {
			_, err := optim.NewAdam(optim.AdamConfig{LR: 1}).Minimize(s.konst.SumAll())
			return err
		}, optim.ErrParam},
		{"loss-zero", func(s setup) error {
			_, err := optim.NewAdam(optim.AdamConfig{LR: 1}).Minimize(graph.Tensor{})
			return err
		}, optim.ErrParam},
		{"loss-int", func(s setup) error {
			_, err := optim.NewAdam(optim.AdamConfig{LR: 1}).Minimize(s.i32.Sum())
			return err
		}, optim.ErrParam},
		{"graph-error", func(s setup) error {
			bad := s.p.Add(s.q) // shapes [2] and [3] do not broadcast
			_, err := optim.NewAdam(optim.AdamConfig{LR: 1}).Minimize(bad.SumAll())
			return err
		}, graph.ErrShape},
		{"rebind-other-graph", func(s setup) error {
			o := optim.NewSGD(optim.SGDConfig{LR: 1})
			if _, err := o.Minimize(s.loss); err != nil {
				return err
			}
			_, err := o.Minimize(s.other.SumAll())
			return err
		}, optim.ErrParam},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(mk())
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}
