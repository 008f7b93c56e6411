package optim

import (
	"fmt"
	"math"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// AdamConfig holds Adam's hyper-parameters. At step t (counting from 1)
// the update of parameter p with gradient g is
//
//	g ← g + WeightDecay·p                 (unless Decoupled)
//	m ← β₁·m + (1−β₁)·g
//	v ← β₂·v + (1−β₂)·g²
//	p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
//	p ← p − lr·WeightDecay·p_old          (Decoupled: AdamW)
//
// as in PyTorch's torch.optim.Adam and AdamW. Zero Beta1, Beta2 and Eps
// take the defaults 0.9, 0.999 and 1e-8.
type AdamConfig struct {
	LR          float64 // learning rate, > 0 (ignored when Rate is set)
	Beta1       float64 // first-moment decay in (0, 1); default 0.9
	Beta2       float64 // second-moment decay in (0, 1); default 0.999
	Eps         float64 // added to the denominator, > 0; default 1e-8
	WeightDecay float64 // ≥ 0: L2 penalty, or decoupled decay with Decoupled
	Decoupled   bool    // decoupled weight decay (AdamW)

	// Rate, when set, is a rank-0 float tensor of the graph used as the
	// learning rate instead of LR, for schedules without recompiling.
	Rate graph.Tensor

	// Name prefixes the optimiser's state variables ("<Name>/m/<param>",
	// "<Name>/v/<param>", "<Name>/step"); default "adam". A suffix "#N" is
	// added when the prefix is already used.
	Name string
}

// Adam is the Adam optimiser (Kingma & Ba), or AdamW with Decoupled set.
// Its state is a first and second moment per parameter and one F64 step
// counter used for bias correction.
type Adam struct {
	cfg AdamConfig
	st  state
}

// NewAdam returns an Adam optimiser. The configuration is checked by Step.
func NewAdam(cfg AdamConfig) *Adam {
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	return &Adam{cfg: cfg, st: state{kind: "adam", name: cfg.Name}}
}

// NewAdamW returns Adam with decoupled weight decay (AdamW).
func NewAdamW(cfg AdamConfig) *Adam {
	cfg.Decoupled = true
	return NewAdam(cfg)
}

func (o *Adam) check() error {
	c := o.cfg
	if err := checkRate(c.Rate, c.LR); err != nil {
		return err
	}
	if !(c.Beta1 > 0 && c.Beta1 < 1) || !(c.Beta2 > 0 && c.Beta2 < 1) {
		return fmt.Errorf("%w: betas (%v, %v), want each in (0, 1)", ErrConfig, c.Beta1, c.Beta2)
	}
	if !(c.Eps > 0) || math.IsInf(c.Eps, 0) {
		return fmt.Errorf("%w: eps %v, want > 0", ErrConfig, c.Eps)
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		return fmt.Errorf("%w: weight decay %v, want ≥ 0", ErrConfig, c.WeightDecay)
	}
	return nil
}

// Step records one Adam update of each parameter and returns the
// assignments of the parameters, their moments and the step counter.
func (o *Adam) Step(params, grads []graph.Tensor) ([]graph.Tensor, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := o.st.bind(params, grads, o.cfg.Rate); err != nil {
		return nil, err
	}
	c := o.cfg
	g := o.st.g

	// The new step count is computed once, used for bias correction and
	// assigned: every read in this run sees the old count.
	t := o.st.counter()
	t1 := t.AddScalar(1)
	out := []graph.Tensor{g.Assign(t, t1)}
	bc1 := g.Scalar(tensor.F64, 1).Sub(g.Scalar(tensor.F64, c.Beta1).Pow(t1))
	bc2 := g.Scalar(tensor.F64, 1).Sub(g.Scalar(tensor.F64, c.Beta2).Pow(t1))

	// Per dtype: lr/(1−β₁ᵗ) and 1/√(1−β₂ᵗ), computed in F64 and cast.
	type scalars struct{ step, rbc2, lr graph.Tensor }
	byType := map[tensor.DType]scalars{}
	scalarsFor := func(d tensor.DType) scalars {
		if s, ok := byType[d]; ok {
			return s
		}
		lr := o.st.rate(c.Rate, c.LR, tensor.F64)
		s := scalars{step: lr.Div(bc1), rbc2: bc2.Rsqrt(), lr: lr}
		if d != tensor.F64 {
			s = scalars{s.step.Cast(d), s.rbc2.Cast(d), s.lr.Cast(d)}
		}
		byType[d] = s
		return s
	}

	for i, p := range params {
		s := scalarsFor(p.DType())
		gr := grads[i]
		if c.WeightDecay != 0 && !c.Decoupled {
			gr = gr.Add(p.Scale(c.WeightDecay))
		}
		m, v := o.st.slot("m", p), o.st.slot("v", p)
		m1 := m.Scale(c.Beta1).Add(gr.Scale(1 - c.Beta1))
		v1 := v.Scale(c.Beta2).Add(gr.Mul(gr).Scale(1 - c.Beta2))
		denom := v1.Sqrt().Mul(s.rbc2).AddScalar(c.Eps)
		p1 := p.Sub(m1.Div(denom).Mul(s.step))
		if c.WeightDecay != 0 && c.Decoupled {
			p1 = p1.Sub(p.Mul(s.lr).Scale(c.WeightDecay))
		}
		out = append(out, g.Assign(m, m1), g.Assign(v, v1), g.Assign(p, p1))
	}
	return o.st.finish(out)
}

// Minimize records an Adam update of every parameter loss depends on.
func (o *Adam) Minimize(loss graph.Tensor) ([]graph.Tensor, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return minimize(loss, o.Step)
}
