// Package op is the table of primitive tensor operations shared by the
// graph, the compiler and every backend: one Code per operation, its name,
// arity and properties, and the attributes an operation may carry.
//
// User-facing operations that are compositions (layer norm, attention,
// cross-entropy, GELU, RoPE, conv2d, pooling) are built by the graph package
// from these primitives, so autograd and backends see a small, closed set.
package op

import (
	"fmt"

	"github.com/aethertensor/aether/tensor"
)

// Code identifies a primitive operation.
type Code uint8

// Primitive operations.
const (
	Invalid Code = iota

	// Leaves.
	Const       // Attrs.Value
	Param       // trainable variable, Attrs.Name
	Variable    // non-trainable state, Attrs.Name
	Placeholder // fed at run time, Attrs.Name

	// Elementwise unary.
	Neg
	Abs
	Sign
	Exp
	Log
	Sqrt
	Rsqrt
	Recip
	Sin
	Cos
	Tanh
	Sigmoid
	Relu
	Erf

	// Elementwise binary (operands have equal shapes).
	Add
	Sub
	Mul
	Div
	Pow
	Maximum
	Minimum
	Eq
	Ne
	Lt
	Le
	Gt
	Ge

	Where // (cond bool, a, b)
	Cast  // Attrs.DType

	// Reductions over Attrs.Axes with Attrs.KeepDims.
	ReduceSum
	ReduceMax
	ReduceMin
	ArgMax // over Attrs.Axis, result I64

	MatMul // [..., m, k] x [..., k, n], equal batch dims

	// Movement.
	Reshape // to Attrs.Shape
	Permute // Attrs.Perm
	Expand  // broadcast to Attrs.Shape (same rank, 1-sized axes grow)
	Slice   // Attrs.Starts, Attrs.Steps, output shape gives the counts
	Unslice // inverse of Slice: scatter into zeros of Attrs.Shape
	Pad     // Attrs.Pads (low, high) per axis, Attrs.PadValue
	Concat  // along Attrs.Axis, any number of inputs

	Gather     // (x, idx) along Attrs.Axis: x.shape[:axis] + idx.shape + x.shape[axis+1:]
	ScatterAdd // (src, idx) summed into zeros of Attrs.Shape along Attrs.Axis; inverse of Gather

	Softmax    // over Attrs.Axis
	LogSoftmax // over Attrs.Axis

	Unfold // im2col: [n c h w] -> [n c kh kw oh ow], Attrs.Window
	Fold   // col2im, the adjoint of Unfold, into Attrs.Shape

	Assign // (variable, value): value is written into the variable after the run

	// Runtime offsets: the start along Attrs.Axis is an integer scalar
	// operand read when the kernel runs, clamped so the window fits.
	DynSlice    // (x, start): Attrs.Shape elements from start
	DynUnslice  // (x, start): zeros of Attrs.Shape with x placed at start
	AssignSlice // (variable, value, start): value written at start after the run
	// (base, x, start): base with x written at start. Attrs.Shape is the
	// result's; base may be longer along Attrs.Axis, when the leading
	// Attrs.Shape[Axis] entries are the result's (a prefix of a cache).
	// With Attrs.InPlace the write goes into the base state itself.
	DynUpdate

	// Quantized weights (Attrs.Quant): kept in their GGUF block format.
	QConst   // leaf: a [rows, cols] weight matrix
	QMatMul  // (x [..., cols], w QConst): x·wᵀ, [..., rows]
	QGather  // (w QConst, idx): rows of w by integer index, dequantised
	QDequant // (w QConst): w as a dense f32 [rows, cols]

	numCodes
)

// Property is a set of facts about an operation that rewrite rules ask
// about instead of listing operations.
type Property uint16

// Properties.
const (
	Leaf Property = 1 << iota
	Elementwise
	Unary
	Binary
	Commutative
	Associative
	Compare    // result is Bool
	Reduction  // reduces over axes
	Movement   // only moves or copies elements
	Linear     // linear in its first operand
	Effect     // has a side effect; never removed or merged
	Stateful   // value may change between runs
	NoGradient // not differentiable (integer, boolean or piecewise-constant result)
)

// Info describes one operation.
type Info struct {
	Name  string
	Arity int // -1: variadic
	Props Property
}

var table = [numCodes]Info{
	Const:       {"const", 0, Leaf},
	Param:       {"param", 0, Leaf | Stateful},
	Variable:    {"variable", 0, Leaf | Stateful},
	Placeholder: {"placeholder", 0, Leaf | Stateful},

	Neg:     {"neg", 1, Elementwise | Unary | Linear},
	Abs:     {"abs", 1, Elementwise | Unary},
	Sign:    {"sign", 1, Elementwise | Unary | NoGradient},
	Exp:     {"exp", 1, Elementwise | Unary},
	Log:     {"log", 1, Elementwise | Unary},
	Sqrt:    {"sqrt", 1, Elementwise | Unary},
	Rsqrt:   {"rsqrt", 1, Elementwise | Unary},
	Recip:   {"recip", 1, Elementwise | Unary},
	Sin:     {"sin", 1, Elementwise | Unary},
	Cos:     {"cos", 1, Elementwise | Unary},
	Tanh:    {"tanh", 1, Elementwise | Unary},
	Sigmoid: {"sigmoid", 1, Elementwise | Unary},
	Relu:    {"relu", 1, Elementwise | Unary},
	Erf:     {"erf", 1, Elementwise | Unary},

	Add:     {"add", 2, Elementwise | Binary | Commutative | Associative},
	Sub:     {"sub", 2, Elementwise | Binary},
	Mul:     {"mul", 2, Elementwise | Binary | Commutative | Associative},
	Div:     {"div", 2, Elementwise | Binary},
	Pow:     {"pow", 2, Elementwise | Binary},
	Maximum: {"maximum", 2, Elementwise | Binary | Commutative | Associative},
	Minimum: {"minimum", 2, Elementwise | Binary | Commutative | Associative},
	Eq:      {"eq", 2, Elementwise | Binary | Commutative | Compare | NoGradient},
	Ne:      {"ne", 2, Elementwise | Binary | Commutative | Compare | NoGradient},
	Lt:      {"lt", 2, Elementwise | Binary | Compare | NoGradient},
	Le:      {"le", 2, Elementwise | Binary | Compare | NoGradient},
	Gt:      {"gt", 2, Elementwise | Binary | Compare | NoGradient},
	Ge:      {"ge", 2, Elementwise | Binary | Compare | NoGradient},

	Where: {"where", 3, Elementwise},
	Cast:  {"cast", 1, Elementwise | Unary},

	ReduceSum: {"reduce_sum", 1, Reduction | Linear},
	ReduceMax: {"reduce_max", 1, Reduction},
	ReduceMin: {"reduce_min", 1, Reduction},
	ArgMax:    {"argmax", 1, Reduction | NoGradient},

	MatMul: {"matmul", 2, 0},

	Reshape: {"reshape", 1, Movement | Linear},
	Permute: {"permute", 1, Movement | Linear},
	Expand:  {"expand", 1, Movement | Linear},
	Slice:   {"slice", 1, Movement | Linear},
	Unslice: {"unslice", 1, Movement | Linear},
	Pad:     {"pad", 1, Movement},
	Concat:  {"concat", -1, Movement},

	Gather:     {"gather", 2, Movement | Linear},
	ScatterAdd: {"scatter_add", 2, Linear},

	Softmax:    {"softmax", 1, 0},
	LogSoftmax: {"log_softmax", 1, 0},

	Unfold: {"unfold", 1, Movement},
	Fold:   {"fold", 1, Linear},

	Assign: {"assign", 2, Effect},

	DynSlice:    {"dyn_slice", 2, Movement | Linear},
	DynUnslice:  {"dyn_unslice", 2, Linear},
	AssignSlice: {"assign_slice", 3, Effect},
	DynUpdate:   {"dyn_update", 3, 0},

	QConst:   {"qconst", 0, Leaf},
	QMatMul:  {"qmatmul", 2, Linear},
	QGather:  {"qgather", 2, NoGradient},
	QDequant: {"qdequant", 1, NoGradient},
}

// Info returns the table entry for c.
func (c Code) Info() Info {
	if c < numCodes {
		return table[c]
	}
	return Info{}
}

// Has reports whether c has every property in p.
func (c Code) Has(p Property) bool { return c.Info().Props&p == p }

// String returns the operation's name.
func (c Code) String() string {
	if n := c.Info().Name; n != "" {
		return n
	}
	return fmt.Sprintf("op(%d)", uint8(c))
}

// Codes returns every defined operation, in order.
func Codes() []Code {
	out := make([]Code, 0, numCodes)
	for c := Code(1); c < numCodes; c++ {
		out = append(out, c)
	}
	return out
}

// Window describes the sliding window of Unfold and Fold over the last two
// axes.
type Window struct {
	Kernel   [2]int
	Stride   [2]int
	Padding  [2]int // on each side of h and w
	Dilation [2]int
}

// OutSize returns the number of window positions along an input axis of
// length n for axis i (0 for h, 1 for w).
func (w Window) OutSize(n, i int) int {
	span := w.Dilation[i]*(w.Kernel[i]-1) + 1
	return (n+2*w.Padding[i]-span)/w.Stride[i] + 1
}

// Attrs carries the attributes of an operation; each operation reads only
// the fields its comment names.
type Attrs struct {
	Name     string
	Value    *tensor.Array
	DType    tensor.DType
	Axes     []int
	Axis     int
	KeepDims bool
	Perm     []int
	Shape    tensor.Shape
	Starts   []int
	Steps    []int
	Pads     [][2]int
	PadValue float64
	Window   Window
	// TransB marks a MatMul whose second operand is stored transposed,
	// [..., n, k]; ConstB says that operand never changes between runs,
	// so a backend may repack it once. The Layout pass sets both, and a
	// MatMul's Shape, when set, is its second operand's logical shape: the
	// leading part along axis -2 of the operand as stored (a cache's
	// attended prefix, read in place).
	TransB bool
	ConstB bool
	// InPlace marks a DynUpdate that writes into its base, a Param or
	// Variable read by nothing else in the program, during the run; its
	// result is that state (Graph.UpdateSlice).
	InPlace bool
	// Quant is the weight matrix of QConst, QMatMul, QGather and QDequant.
	Quant *tensor.Quantized
}
