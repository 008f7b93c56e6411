package optim

import (
	"fmt"
	"math"

	"github.com/aethertensor/aether/graph"
)

// SGDConfig holds stochastic gradient descent's hyper-parameters. The
// update of parameter p with gradient g, velocity b (zero at first) and
// learning rate lr is
//
//	g ← g + WeightDecay·p
//	b ← Momentum·b + g
//	d ← g + Momentum·b  (Nesterov)   or   d ← b   (otherwise)
//	p ← p − lr·d
//
// which is PyTorch's torch.optim.SGD with zero dampening.
type SGDConfig struct {
	LR          float64 // learning rate, > 0 (ignored when Rate is set)
	Momentum    float64 // in [0, 1); 0 keeps no velocity state
	Nesterov    bool    // Nesterov momentum; needs Momentum > 0
	WeightDecay float64 // L2 penalty coefficient, ≥ 0

	// Rate, when set, is a rank-0 float tensor of the graph (for example a
	// placeholder fed each run) used as the learning rate instead of LR,
	// for schedules without recompiling.
	Rate graph.Tensor

	// Name prefixes the optimiser's state variables ("<Name>/velocity/<param>");
	// default "sgd". A suffix "#N" is added when the prefix is already used.
	Name string
}

// SGD is stochastic gradient descent with optional momentum, Nesterov
// momentum and weight decay.
type SGD struct {
	cfg SGDConfig
	st  state
}

// NewSGD returns an SGD optimiser. The configuration is checked by Step.
func NewSGD(cfg SGDConfig) *SGD {
	return &SGD{cfg: cfg, st: state{kind: "sgd", name: cfg.Name}}
}

func (o *SGD) check() error {
	c := o.cfg
	if err := checkRate(c.Rate, c.LR); err != nil {
		return err
	}
	if !(c.Momentum >= 0 && c.Momentum < 1) {
		return fmt.Errorf("%w: momentum %v, want in [0, 1)", ErrConfig, c.Momentum)
	}
	if c.Nesterov && c.Momentum == 0 {
		return fmt.Errorf("%w: Nesterov momentum needs Momentum > 0", ErrConfig)
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		return fmt.Errorf("%w: weight decay %v, want ≥ 0", ErrConfig, c.WeightDecay)
	}
	return nil
}

// Step records one SGD update of each parameter and returns the
// assignments of the parameters and their velocities.
func (o *SGD) Step(params, grads []graph.Tensor) ([]graph.Tensor, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := o.st.bind(params, grads, o.cfg.Rate); err != nil {
		return nil, err
	}
	c := o.cfg
	g := o.st.g
	var out []graph.Tensor
	for i, p := range params {
		gr := grads[i]
		if c.WeightDecay != 0 {
			gr = gr.Add(p.Scale(c.WeightDecay))
		}
		d := gr
		if c.Momentum != 0 {
			b := o.st.slot("velocity", p)
			b1 := b.Scale(c.Momentum).Add(gr)
			out = append(out, g.Assign(b, b1))
			d = b1
			if c.Nesterov {
				d = gr.Add(b1.Scale(c.Momentum))
			}
		}
		lr := o.st.rate(c.Rate, c.LR, p.DType())
		out = append(out, g.Assign(p, p.Sub(d.Mul(lr))))
	}
	return o.st.finish(out)
}

// Minimize records an SGD update of every parameter loss depends on.
func (o *SGD) Minimize(loss graph.Tensor) ([]graph.Tensor, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return minimize(loss, o.Step)
}
