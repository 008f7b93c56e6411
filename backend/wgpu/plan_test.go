package wgpu

import (
	"errors"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

func TestGrid(t *testing.T) {
	cases := []struct {
		n        int
		perGroup bool
		max      int
		want     [3]uint32
	}{
		{0, false, 65535, [3]uint32{}},
		{1, false, 65535, [3]uint32{1, 1, 1}},
		{257, false, 65535, [3]uint32{2, 1, 1}},
		{70000, true, 65535, [3]uint32{65535, 2, 1}},
		{10, true, 4, [3]uint32{4, 3, 1}},
	}
	for _, c := range cases {
		if got := grid(c.n, c.perGroup, c.max); got != c.want {
			t.Errorf("grid(%d, %v, %d) = %v, want %v", c.n, c.perGroup, c.max, got, c.want)
		}
	}
}

func TestPlanUnsupported(t *testing.T) {
	p := planner{maxGroups: 65535}
	f64 := backend.Operand{DType: tensor.F64, Shape: tensor.Shape{3}}
	f32 := backend.Operand{DType: tensor.F32, Shape: tensor.Shape{3}}
	f16 := backend.Operand{DType: tensor.F16, Shape: tensor.Shape{3}}
	cases := []struct {
		name string
		k    backend.Kernel
	}{
		{"f64 add", backend.Kernel{Op: op.Add, In: []backend.Operand{f64, f64}, Out: f64}},
		{"f16 add", backend.Kernel{Op: op.Add, In: []backend.Operand{f16, f16}, Out: f16}},
		{"f16 to i32", backend.Kernel{Op: op.Cast, Attrs: &op.Attrs{DType: tensor.I32}, In: []backend.Operand{f16}, Out: backend.Operand{DType: tensor.I32, Shape: tensor.Shape{3}}}},
		{"f16 rounding of i32", backend.Kernel{Op: op.Cast, Attrs: &op.Attrs{DType: tensor.F16}, In: []backend.Operand{{DType: tensor.I32, Shape: tensor.Shape{3}}}, Out: f32}},
		{"fused reduction", backend.Kernel{Op: op.ReduceSum, In: []backend.Operand{f32}, Out: f32, Reduce: &kernel.Reduce{}}},
		{"bool softmax", backend.Kernel{Op: op.Softmax, Attrs: &op.Attrs{Axis: 0}, In: []backend.Operand{{DType: tensor.Bool, Shape: tensor.Shape{3}}}, Out: f32}},
		{"rank 9 permute", backend.Kernel{Op: op.Permute, Attrs: &op.Attrs{Perm: []int{8, 7, 6, 5, 4, 3, 2, 1, 0}},
			In: []backend.Operand{{DType: tensor.F32, Shape: tensor.Shape{1, 1, 1, 1, 1, 1, 1, 1, 2}}}, Out: backend.Operand{DType: tensor.F32, Shape: tensor.Shape{2, 1, 1, 1, 1, 1, 1, 1, 1}}}},
	}
	for _, c := range cases {
		if _, err := p.plan(c.k); !errors.Is(err, backend.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", c.name, err)
		}
	}
}

// TestPlanMovement checks the strided copies that movement operations
// become: the words of the uniform block are the copy's geometry.
func TestPlanMovement(t *testing.T) {
	p := planner{maxGroups: 65535}
	in := backend.Operand{DType: tensor.F32, Shape: tensor.Shape{4, 6}}
	out := backend.Operand{DType: tensor.F32, Shape: tensor.Shape{6, 4}}
	ps, err := p.plan(backend.Kernel{Op: op.Permute, Attrs: &op.Attrs{Perm: []int{1, 0}}, In: []backend.Operand{in}, Out: out})
	if err != nil || len(ps) != 1 {
		t.Fatalf("permute: %v, %d passes", err, len(ps))
	}
	m := ps[0].meta
	if m[0] != 24 || m[1] != 2 || m[8] != 6 || m[9] != 4 || m[16] != 1 || m[17] != 6 || m[24] != 4 || m[25] != 1 {
		t.Errorf("permute meta %v", m[:32])
	}
	pad := backend.Kernel{Op: op.Pad, Attrs: &op.Attrs{Pads: [][2]int{{1, 0}, {0, 2}}, PadValue: 1},
		In: []backend.Operand{in}, Out: backend.Operand{DType: tensor.F32, Shape: tensor.Shape{5, 8}}}
	ps, err = p.plan(pad)
	if err != nil || len(ps) != 2 {
		t.Fatalf("pad: %v, %d passes (want fill then copy)", err, len(ps))
	}
	if ps[0].meta[0] != 40 || ps[0].meta[1] != 0x3f800000 || ps[1].meta[3] != 8 {
		t.Errorf("pad fill %v, copy dst offset %d", ps[0].meta, ps[1].meta[3])
	}
}
