package quant_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/llm/quant"
)

// allTypes lists every type with a dequantiser, with whether it has a
// quantiser.
var allTypes = []struct {
	typ      quant.Type
	quantize bool
}{
	{quant.F32, true}, {quant.F16, true}, {quant.BF16, true}, {quant.F64, false},
	{quant.I8, false}, {quant.I16, false}, {quant.I32, false},
	{quant.Q4_0, true}, {quant.Q4_1, true}, {quant.Q5_0, true}, {quant.Q5_1, true},
	{quant.Q8_0, true}, {quant.Q8_1, true}, {quant.Q2_K, true}, {quant.Q3_K, true},
	{quant.Q4_K, true}, {quant.Q5_K, true}, {quant.Q6_K, true}, {quant.Q8_K, true},
	{quant.IQ4_NL, true}, {quant.IQ4_XS, true},
}

func TestTraitsTable(t *testing.T) {
	for _, tc := range allTypes {
		tr, err := quant.TraitsOf(tc.typ)
		if err != nil {
			t.Errorf("%s: %v", tc.typ, err)
			continue
		}
		l, _ := quant.LayoutOf(tc.typ)
		if tr.Type != tc.typ || tr.Layout != l {
			t.Errorf("%s: traits %v %+v, want layout %+v", tc.typ, tr.Type, tr.Layout, l)
		}
		if tr.CanQuantize() != tc.quantize {
			t.Errorf("%s: CanQuantize = %v, want %v", tc.typ, tr.CanQuantize(), tc.quantize)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"retired id", quant.Dequantize(4, make([]float32, 32), make([]byte, 18)), quant.ErrUnknownType},
		{"unknown id", quant.Dequantize(200, nil, nil), quant.ErrUnknownType},
		{"no dequantiser", quant.Dequantize(quant.IQ2_XXS, make([]float32, 256), make([]byte, 66)), quant.ErrUnsupported},
		{"no quantiser", quant.Quantize(quant.I32, make([]byte, 4), make([]float32, 1)), quant.ErrUnsupported},
		{"no quantiser (grid type)", quant.Quantize(quant.IQ2_XS, make([]byte, 74), make([]float32, 256)), quant.ErrUnsupported},
		{"partial block", quant.Dequantize(quant.Q4_0, make([]float32, 32), make([]byte, 17)), quant.ErrLength},
		{"short dst", quant.Dequantize(quant.Q4_0, make([]float32, 31), make([]byte, 18)), quant.ErrLength},
		{"long dst", quant.Dequantize(quant.Q6_K, make([]float32, 512), make([]byte, 210)), quant.ErrLength},
		{"src not whole blocks", quant.Quantize(quant.Q4_K, make([]byte, 144), make([]float32, 255)), quant.ErrLength},
		{"dst too small", quant.Quantize(quant.Q8_0, make([]byte, 33), make([]float32, 32)), quant.ErrLength},
		{"dst too big", quant.Quantize(quant.F16, make([]byte, 6), make([]float32, 2)), quant.ErrLength},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: error %v, want one wrapping %v", tc.name, tc.err, tc.want)
		}
	}
	if _, err := quant.TraitsOf(quant.IQ3_S); err == nil || !errors.Is(err, quant.ErrUnsupported) {
		t.Errorf("TraitsOf(IQ3_S) = %v, want ErrUnsupported", err)
	}
	// The message names the type.
	if err := quant.Dequantize(quant.TQ1_0, make([]float32, 256), make([]byte, 54)); err == nil || !contains(err.Error(), "TQ1_0") {
		t.Errorf("error %v does not name TQ1_0", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestEmpty checks that zero blocks is not an error.
func TestEmpty(t *testing.T) {
	for _, tc := range allTypes {
		if err := quant.Dequantize(tc.typ, nil, nil); err != nil {
			t.Errorf("%s: %v", tc.typ, err)
		}
		if tc.quantize {
			if err := quant.Quantize(tc.typ, nil, nil); err != nil {
				t.Errorf("%s: %v", tc.typ, err)
			}
		}
	}
}

// roundTripNMSE bounds ||dequant(quant(x)) - x||² / ||x||² for standard
// normal data (measured over 64 super-blocks, then raised by about 10%).
// They agree with the squared NRMSEs of the llama.cpp files against F16
// (TestRequantizeFiles), whose weights are normal too.
var roundTripNMSE = []struct {
	typ quant.Type
	max float64
}{
	{quant.F32, 0},
	{quant.F16, 5e-8},
	{quant.BF16, 3.1e-6},
	{quant.Q8_K, 5.5e-5},
	{quant.Q8_0, 3.2e-5},
	{quant.Q8_1, 3.2e-5},
	{quant.Q6_K, 3.5e-4},
	{quant.Q5_1, 1.6e-3},
	{quant.Q5_K, 1.5e-3},
	{quant.Q5_0, 2.0e-3},
	{quant.Q4_1, 6.7e-3},
	{quant.Q4_K, 5.6e-3},
	{quant.IQ4_NL, 6.4e-3},
	{quant.IQ4_XS, 6.5e-3},
	{quant.Q4_0, 8.1e-3},
	{quant.Q3_K, 2.5e-2},
	{quant.Q2_K, 9.5e-2},
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	x := make([]float32, 64*256)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, tc := range roundTripNMSE {
		tr, err := quant.TraitsOf(tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		q := make([]byte, len(x)/tr.BlockSize*tr.TypeSize)
		if err := tr.Quantize(q, x); err != nil {
			t.Fatal(err)
		}
		y := make([]float32, len(x))
		if err := tr.Dequantize(y, q); err != nil {
			t.Fatal(err)
		}
		var se, ss float64
		for i := range x {
			d := float64(y[i]) - float64(x[i])
			se += d * d
			ss += float64(x[i]) * float64(x[i])
		}
		nmse := se / ss
		t.Logf("%-6s NMSE %.3g", tc.typ, nmse)
		if nmse > tc.max {
			t.Errorf("%s: NMSE %.3g, want <= %.3g", tc.typ, nmse, tc.max)
		}
	}
}

// TestZeroAndConstantBlocks: all-zero input must decode to zeros (not NaN),
// and scaling a block by a power of two must scale the decoded values.
func TestZeroAndConstantBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 256)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	x2 := make([]float32, 256)
	for i := range x {
		x2[i] = 4 * x[i]
	}
	for _, tc := range allTypes {
		if !tc.quantize {
			continue
		}
		tr, _ := quant.TraitsOf(tc.typ)
		q := make([]byte, 256/tr.BlockSize*tr.TypeSize)
		y := make([]float32, 256)
		if err := tr.Quantize(q, make([]float32, 256)); err != nil {
			t.Fatal(err)
		}
		if err := tr.Dequantize(y, q); err != nil {
			t.Fatal(err)
		}
		for i, v := range y {
			if v != 0 {
				t.Errorf("%s: zero input decodes to %g at %d", tc.typ, v, i)
				break
			}
		}
		y2 := make([]float32, 256)
		tr.Quantize(q, x)
		tr.Dequantize(y, q)
		tr.Quantize(q, x2)
		tr.Dequantize(y2, q)
		for i := range y {
			if y2[i] != 4*y[i] && !(math.Abs(float64(y2[i]-4*y[i])) <= 1e-6*math.Abs(float64(y2[i]))) {
				t.Errorf("%s: scaling by 4 decodes element %d to %g, want %g", tc.typ, i, y2[i], 4*y[i])
				break
			}
		}
	}
}

// TestNonFiniteInput: NaN, infinities and extreme values must not panic any
// quantiser, and the result must still decode.
func TestNonFiniteInput(t *testing.T) {
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0}
	x := make([]float32, 4*256)
	for i := range x {
		x[i] = specials[(i*5+i/256)%len(specials)]
	}
	for b := 0; b < 256; b++ {
		x[3*256+b] = float32(b) * 1e30 // one large finite block
	}
	for _, tc := range allTypes {
		if !tc.quantize {
			continue
		}
		tr, _ := quant.TraitsOf(tc.typ)
		q := make([]byte, len(x)/tr.BlockSize*tr.TypeSize)
		if err := tr.Quantize(q, x); err != nil {
			t.Errorf("%s: %v", tc.typ, err)
		}
		if err := tr.Dequantize(make([]float32, len(x)), q); err != nil {
			t.Errorf("%s: %v", tc.typ, err)
		}
	}
	var zero quant.Traits
	if err := zero.Dequantize(nil, nil); !errors.Is(err, quant.ErrUnsupported) {
		t.Errorf("zero Traits: %v, want ErrUnsupported", err)
	}
}
