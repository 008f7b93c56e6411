//go:build cgo

package wgpu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/wgpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

func TestErrors(t *testing.T) {
	d := device(t)
	if a := d.Adapter(); !strings.HasPrefix("wgpu:"+a, d.Name()) {
		t.Errorf("Adapter() = %q does not start with the name %q", a, d.Name())
	}
	if _, err := wgpu.New(wgpu.Adapter("no such adapter 1234")); !errors.Is(err, wgpu.ErrNoAdapter) {
		t.Errorf("unknown adapter name: %v, want ErrNoAdapter", err)
	}
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 3)
	if _, err := graph.Compile([]graph.Tensor{x.Exp()}, graph.OnDevice(d)); !errors.Is(err, backend.ErrUnsupported) {
		t.Errorf("f64 program: %v, want ErrUnsupported", err)
	}
	if _, err := d.Alloc(backend.Operand{DType: tensor.F64, Shape: tensor.Shape{2}}); !errors.Is(err, backend.ErrUnsupported) {
		t.Errorf("f64 buffer: %v, want ErrUnsupported", err)
	}
	b, err := d.Alloc(backend.Operand{DType: tensor.I64, Shape: tensor.Shape{1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(b, tensor.NewI64([]int64{1 << 40}, 1)); err == nil {
		t.Error("an i64 beyond the i32 range was accepted")
	}
	if err := d.Write(b, tensor.NewI64([]int64{-7}, 1)); err != nil {
		t.Fatal(err)
	}
	back := tensor.NewI64([]int64{0}, 1)
	if err := d.Read(back, b); err != nil || back.Int64s()[0] != -7 {
		t.Errorf("i64 round trip: %v, %v", back.Int64s(), err)
	}
	if err := d.Read(tensor.NewI64([]int64{0, 0}, 2), b); err == nil {
		t.Error("a read into an array of another size was accepted")
	}
	if err := d.Copy(b, tensor.NewI64([]int64{0}, 1)); err == nil {
		t.Error("a copy from a host array was accepted")
	}
}
