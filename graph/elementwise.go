package graph

import (
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

func (t Tensor) unary(c op.Code) Tensor {
	g, ok := check(c.String(), t)
	if !ok {
		return Tensor{g, -1}
	}
	d := t.DType()
	if !d.IsFloat() {
		switch c {
		case op.Neg, op.Abs, op.Sign, op.Relu:
			if !d.IsInt() {
				return g.fail(c.String(), errorf(ErrDType, "operand is %v, want a number", d))
			}
		default:
			return g.fail(c.String(), errorf(ErrDType, "operand is %v, want f32 or f64", d))
		}
	}
	return g.add(c, nil, d, t.Shape(), t)
}

// Neg returns -t.
func (t Tensor) Neg() Tensor { return t.unary(op.Neg) }

// Abs returns |t|.
func (t Tensor) Abs() Tensor { return t.unary(op.Abs) }

// Sign returns -1, 0 or 1 by the sign of t.
func (t Tensor) Sign() Tensor { return t.unary(op.Sign) }

// Exp returns eᵗ.
func (t Tensor) Exp() Tensor { return t.unary(op.Exp) }

// Log returns the natural logarithm of t.
func (t Tensor) Log() Tensor { return t.unary(op.Log) }

// Sqrt returns √t.
func (t Tensor) Sqrt() Tensor { return t.unary(op.Sqrt) }

// Rsqrt returns 1/√t.
func (t Tensor) Rsqrt() Tensor { return t.unary(op.Rsqrt) }

// Recip returns 1/t.
func (t Tensor) Recip() Tensor { return t.unary(op.Recip) }

// Sin returns sin t.
func (t Tensor) Sin() Tensor { return t.unary(op.Sin) }

// Cos returns cos t.
func (t Tensor) Cos() Tensor { return t.unary(op.Cos) }

// Tanh returns tanh t.
func (t Tensor) Tanh() Tensor { return t.unary(op.Tanh) }

// Sigmoid returns 1/(1+e⁻ᵗ).
func (t Tensor) Sigmoid() Tensor { return t.unary(op.Sigmoid) }

// Relu returns max(t, 0).
func (t Tensor) Relu() Tensor { return t.unary(op.Relu) }

// Erf returns the error function of t.
func (t Tensor) Erf() Tensor { return t.unary(op.Erf) }

// Square returns t*t.
func (t Tensor) Square() Tensor { return t.Mul(t) }

// SiLU returns t·sigmoid(t).
func (t Tensor) SiLU() Tensor { return t.Mul(t.Sigmoid()) }

// GELU returns the exact GELU, t·Φ(t) = t·(1+erf(t/√2))/2.
func (t Tensor) GELU() Tensor {
	return t.Mul(t.Scale(0.7071067811865476).Erf().AddScalar(1)).Scale(0.5)
}

// GELUTanh returns the tanh approximation of GELU,
// t·(1+tanh(√(2/π)(t+0.044715t³)))/2.
func (t Tensor) GELUTanh() Tensor {
	inner := t.Add(t.Mul(t).Mul(t).Scale(0.044715)).Scale(0.7978845608028654)
	return t.Mul(inner.Tanh().AddScalar(1)).Scale(0.5)
}

// like returns a scalar constant of t's dtype.
func (t Tensor) like(v float64) Tensor {
	if !t.Valid() {
		return t
	}
	return t.g.Scalar(t.DType(), v)
}

// Scale returns t*s.
func (t Tensor) Scale(s float64) Tensor { return t.Mul(t.like(s)) }

// AddScalar returns t+s.
func (t Tensor) AddScalar(s float64) Tensor { return t.Add(t.like(s)) }

// PowScalar returns tᵖ.
func (t Tensor) PowScalar(p float64) Tensor { return t.Pow(t.like(p)) }

// broadcastTo reshapes and expands t to shape s, recording nothing when it
// already has that shape.
func (t Tensor) broadcastTo(s tensor.Shape) Tensor {
	if t.Shape().Equal(s) {
		return t
	}
	if t.Rank() < len(s) {
		rs := make([]int, len(s))
		for i := range rs {
			rs[i] = 1
		}
		copy(rs[len(s)-t.Rank():], t.Shape())
		t = t.Reshape(rs...)
	}
	return t.Expand(s...)
}

func binary(c op.Code, a, b Tensor) Tensor {
	g, ok := check(c.String(), a, b)
	if !ok {
		return Tensor{g, -1}
	}
	if a.DType() != b.DType() {
		return g.fail(c.String(), errorf(ErrDType, "operands are %v and %v; Cast one to match", a.DType(), b.DType()))
	}
	d := a.DType()
	if d == tensor.Bool && c != op.Eq && c != op.Ne {
		return g.fail(c.String(), errorf(ErrDType, "operands are bool"))
	}
	if c == op.Pow && !d.IsFloat() {
		return g.fail(c.String(), errorf(ErrDType, "operands are %v, want f32 or f64", d))
	}
	s, ok := tensor.Broadcast(a.Shape(), b.Shape())
	if !ok {
		return g.fail(c.String(), errorf(ErrShape, "shapes %v and %v do not broadcast", a.Shape(), b.Shape()))
	}
	a, b = a.broadcastTo(s), b.broadcastTo(s)
	if c.Has(op.Compare) {
		d = tensor.Bool
	}
	return g.add(c, nil, d, s, a, b)
}

// Add returns t+u, broadcasting.
func (t Tensor) Add(u Tensor) Tensor { return binary(op.Add, t, u) }

// Sub returns t-u, broadcasting.
func (t Tensor) Sub(u Tensor) Tensor { return binary(op.Sub, t, u) }

// Mul returns t*u elementwise, broadcasting.
func (t Tensor) Mul(u Tensor) Tensor { return binary(op.Mul, t, u) }

// Div returns t/u, broadcasting. Integer division truncates toward zero.
func (t Tensor) Div(u Tensor) Tensor { return binary(op.Div, t, u) }

// Pow returns tᵘ, broadcasting.
func (t Tensor) Pow(u Tensor) Tensor { return binary(op.Pow, t, u) }

// Maximum returns the elementwise larger of t and u; NaN wins.
func (t Tensor) Maximum(u Tensor) Tensor { return binary(op.Maximum, t, u) }

// Minimum returns the elementwise smaller of t and u; NaN wins.
func (t Tensor) Minimum(u Tensor) Tensor { return binary(op.Minimum, t, u) }

// Eq returns t == u as bool.
func (t Tensor) Eq(u Tensor) Tensor { return binary(op.Eq, t, u) }

// Ne returns t != u as bool.
func (t Tensor) Ne(u Tensor) Tensor { return binary(op.Ne, t, u) }

// Lt returns t < u as bool.
func (t Tensor) Lt(u Tensor) Tensor { return binary(op.Lt, t, u) }

// Le returns t <= u as bool.
func (t Tensor) Le(u Tensor) Tensor { return binary(op.Le, t, u) }

// Gt returns t > u as bool.
func (t Tensor) Gt(u Tensor) Tensor { return binary(op.Gt, t, u) }

// Ge returns t >= u as bool.
func (t Tensor) Ge(u Tensor) Tensor { return binary(op.Ge, t, u) }

// Where returns a where cond is true and b elsewhere, broadcasting all three.
func Where(cond, a, b Tensor) Tensor {
	g, ok := check("where", cond, a, b)
	if !ok {
		return Tensor{g, -1}
	}
	if cond.DType() != tensor.Bool {
		return g.fail("where", errorf(ErrDType, "condition is %v, want bool", cond.DType()))
	}
	if a.DType() != b.DType() {
		return g.fail("where", errorf(ErrDType, "branches are %v and %v", a.DType(), b.DType()))
	}
	s, ok1 := tensor.Broadcast(a.Shape(), b.Shape())
	if ok1 {
		s, ok1 = tensor.Broadcast(cond.Shape(), s)
	}
	if !ok1 {
		return g.fail("where", errorf(ErrShape, "shapes %v, %v and %v do not broadcast", cond.Shape(), a.Shape(), b.Shape()))
	}
	return g.add(op.Where, nil, a.DType(), s, cond.broadcastTo(s), a.broadcastTo(s), b.broadcastTo(s))
}

// Cast converts t to dtype d (float to integer truncates toward zero; to
// bool tests for non-zero). A float cast to F16 or BF16 rounds to that
// type (ties to even) and the result computes as F32 (StoreAs keeps the
// half type instead). A half tensor (F16 or BF16 storage) casts exactly to
// F32 (also when d is its own type) or F64, and to nothing else.
func (t Tensor) Cast(d tensor.DType) Tensor {
	g, ok := check("cast", t)
	if !ok {
		return Tensor{g, -1}
	}
	if !d.Valid() {
		return g.fail("cast", errorf(ErrDType, "target %v", d))
	}
	if from := t.DType(); isHalf(from) {
		// Half storage widens exactly: recorded as the rounding cast to
		// its own type, which is exact on values already in it.
		switch {
		case d == from || d == tensor.F32:
			return g.add(op.Cast, &op.Attrs{DType: from}, tensor.F32, t.Shape(), t)
		case d == tensor.F64:
			return t.Cast(tensor.F32).Cast(tensor.F64)
		}
		return g.fail("cast", errorf(ErrDType, "%v storage to %v: Cast to f32 first", from, d))
	}
	if (d == tensor.F16 || d == tensor.BF16) && t.DType().IsFloat() {
		// Half types are storage: the value is rounded to d's precision
		// and range, and computed on as f32.
		return g.add(op.Cast, &op.Attrs{DType: d}, tensor.F32, t.Shape(), t)
	}
	d = d.Compute()
	if d == t.DType() {
		return t
	}
	return g.add(op.Cast, &op.Attrs{DType: d}, d, t.Shape(), t)
}
