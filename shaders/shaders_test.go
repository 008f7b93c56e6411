package shaders_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aethertensor/aether/shaders"
)

func TestSource(t *testing.T) {
	cases := []struct {
		name, elem string
		want       []string // substrings of the source
		err        error
	}{
		{"reduce", "f32", []string{"alias T = f32;", "fn m(i: u32)", "var<workgroup> part"}, nil},
		{"matmul", "i32", []string{"alias T = i32;", "@workgroup_size(16, 16)"}, nil},
		// qmatmul includes the block decoder.
		{"qmatmul", "f32", []string{"fn dq(t: u32", "var<storage, read> wq"}, nil},
		// The qmatmul8 kernels include the decoder, the activation
		// quantiser and the shared body.
		{"qmatmul8_q6_k", "f32", []string{"fn dq(t: u32", "fn fdiv(a: u32", "var<workgroup> aq", "const QT = 14u;"}, nil},
		// qrows includes the decoder and the index-fault words.
		{"qrows", "f32", []string{"fn dq(t: u32", "fn report(kind: u32", "var<storage, read_write> fault"}, nil},
		{"nope", "f32", nil, shaders.ErrUnknown},
		{"copy", "f64", nil, nil},
	}
	for _, c := range cases {
		src, err := shaders.Source(c.name, c.elem)
		switch {
		case c.err != nil:
			if !errors.Is(err, c.err) {
				t.Errorf("%s: %v, want %v", c.name, err, c.err)
			}
		case c.want == nil:
			if err == nil {
				t.Errorf("%s(%s): no error", c.name, c.elem)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		default:
			for _, w := range c.want {
				if !strings.Contains(src, w) {
					t.Errorf("%s: source lacks %q", c.name, w)
				}
			}
		}
	}
}

func TestNamesAreKernels(t *testing.T) {
	for _, n := range shaders.Names() {
		if n == "dequant" || n == "fault" || n == "half" || n == "quantact" || n == "qmatmul8" {
			t.Errorf("the %s fragment is listed as a kernel", n)
		}
		src, err := shaders.Source(n, "f32")
		if err != nil || !strings.Contains(src, "fn main(") {
			t.Errorf("%s: %v, or no entry point", n, err)
		}
	}
}

func ExampleNames() {
	fmt.Println(shaders.Names())
	// Output: [argmax copy copy16 fill fold gather half_cast matmul qmatmul qmatmul8_bf16 qmatmul8_f16 qmatmul8_iq4_nl qmatmul8_q2_k qmatmul8_q3_k qmatmul8_q4_0 qmatmul8_q4_1 qmatmul8_q4_k qmatmul8_q5_0 qmatmul8_q5_1 qmatmul8_q5_k qmatmul8_q6_k qmatmul8_q8_0 qrows reduce round_half scatter_add softmax unfold]
}
