package gguf

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func testMeta(t *testing.T) *Metadata {
	var m Metadata
	for _, kv := range []struct {
		k string
		v any
	}{
		{"u8", uint8(200)}, {"i8", int8(-3)}, {"u16", uint16(60000)}, {"i16", int16(-300)},
		{"u32", uint32(4000000000)}, {"i32", int32(-7)}, {"u64", uint64(math.MaxUint64)}, {"i64", int64(math.MinInt64)},
		{"f32", float32(0.5)}, {"f64", float64(-2.25)}, {"b", true}, {"s", "text"},
		{"strs", []string{"a", "b"}}, {"f32s", []float32{1, 2}}, {"f64s", []float64{0.5}},
		{"u8s", []uint8{1, 255}}, {"i64s", []int64{-1, math.MaxInt32}}, {"u32s", []uint32{1, math.MaxUint32}},
		{"i32s", []int32{5, -5}}, {"bools", []bool{true}},
	} {
		v, err := NewValue(kv.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Set(kv.k, v); err != nil {
			t.Fatal(err)
		}
	}
	return &m
}

func TestGetters(t *testing.T) {
	m := testMeta(t)
	tests := []struct {
		name string
		get  func() (any, error)
		want any
		err  error  // nil: success
		msg  string // substring of the error
	}{
		{"uint from u8", func() (any, error) { return m.GetUint("u8") }, uint64(200), nil, ""},
		{"uint from u64", func() (any, error) { return m.GetUint("u64") }, uint64(math.MaxUint64), nil, ""},
		{"uint from positive i32", func() (any, error) { return m.GetUint("i16") }, uint64(0), ErrKeyType, `"i16" is negative (-300)`},
		{"uint from float", func() (any, error) { return m.GetUint("f32") }, uint64(0), ErrKeyType, `"f32" is float32, want unsigned integer`},
		{"uint missing", func() (any, error) { return m.GetUint("nope") }, uint64(0), ErrMissingKey, `"nope"`},
		{"int from i64", func() (any, error) { return m.GetInt("i64") }, int64(math.MinInt64), nil, ""},
		{"int from u32", func() (any, error) { return m.GetInt("u32") }, int64(4000000000), nil, ""},
		{"int from huge u64", func() (any, error) { return m.GetInt("u64") }, int64(0), ErrKeyType, "overflows int64"},
		{"int from string", func() (any, error) { return m.GetInt("s") }, int64(0), ErrKeyType, `"s" is string`},
		{"float from f32", func() (any, error) { return m.GetFloat("f32") }, 0.5, nil, ""},
		{"float from f64", func() (any, error) { return m.GetFloat("f64") }, -2.25, nil, ""},
		{"float from i8", func() (any, error) { return m.GetFloat("i8") }, -3.0, nil, ""},
		{"float from u16", func() (any, error) { return m.GetFloat("u16") }, 60000.0, nil, ""},
		{"float from bool", func() (any, error) { return m.GetFloat("b") }, 0.0, ErrKeyType, "want number"},
		{"bool", func() (any, error) { return m.GetBool("b") }, true, nil, ""},
		{"bool from u8", func() (any, error) { return m.GetBool("u8") }, false, ErrKeyType, "want bool"},
		{"string", func() (any, error) { return m.GetString("s") }, "text", nil, ""},
		{"string from array", func() (any, error) { return m.GetString("strs") }, "", ErrKeyType, `"strs" is array of string, want string`},
		{"strings", func() (any, error) { return m.GetStrings("strs") }, []string{"a", "b"}, nil, ""},
		{"strings from scalar", func() (any, error) { return m.GetStrings("s") }, []string(nil), ErrKeyType, "want array of string"},
		{"float32s", func() (any, error) { return m.GetFloat32s("f32s") }, []float32{1, 2}, nil, ""},
		{"float32s from f64s", func() (any, error) { return m.GetFloat32s("f64s") }, []float32{0.5}, nil, ""},
		{"float32s from ints", func() (any, error) { return m.GetFloat32s("i32s") }, []float32(nil), ErrKeyType, "array of int32, want array of float32"},
		{"int32s", func() (any, error) { return m.GetInt32s("i32s") }, []int32{5, -5}, nil, ""},
		{"int32s from u8s", func() (any, error) { return m.GetInt32s("u8s") }, []int32{1, 255}, nil, ""},
		{"int32s from i64s", func() (any, error) { return m.GetInt32s("i64s") }, []int32{-1, math.MaxInt32}, nil, ""},
		{"int32s overflow", func() (any, error) { return m.GetInt32s("u32s") }, []int32(nil), ErrKeyType, `"u32s" element 1 (4294967295) does not fit in int32`},
		{"int32s from bools", func() (any, error) { return m.GetInt32s("bools") }, []int32(nil), ErrKeyType, "want array of integer"},
		{"int32s from floats", func() (any, error) { return m.GetInt32s("f32s") }, []int32(nil), ErrKeyType, "want array of integer"},
		{"int32s missing", func() (any, error) { return m.GetInt32s("x") }, []int32(nil), ErrMissingKey, `"x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %#v, want %#v", got, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
}

func TestMetadataOrder(t *testing.T) {
	m := testMeta(t)
	if m.Len() != 20 || m.Keys()[0] != "u8" || m.Keys()[19] != "bools" {
		t.Fatalf("keys %v", m.Keys())
	}
	v, _ := NewValue("new")
	_ = m.Set("u8", v) // replace keeps the position
	if m.Keys()[0] != "u8" || m.Len() != 20 {
		t.Errorf("replace moved the key: %v", m.Keys())
	}
	m.Delete("i8")
	m.Delete("missing")
	if m.Len() != 19 || m.Has("i8") || m.Keys()[1] != "u16" {
		t.Errorf("after delete: %v", m.Keys())
	}
	if _, ok := m.Lookup("i8"); ok {
		t.Error("deleted key still found")
	}
}

func TestNewValueErrors(t *testing.T) {
	for _, x := range []any{int(1), []int{1}, map[string]int{}, []Value{{Type: TypeUint8, V: uint8(1)}}, nil} {
		if _, err := NewValue(x); !errors.Is(err, ErrKeyType) {
			t.Errorf("NewValue(%#v): %v, want ErrKeyType", x, err)
		}
	}
	if err := new(Metadata).Set("k", Value{Type: TypeArray, ElemType: TypeString, V: []int32{1}}); !errors.Is(err, ErrKeyType) {
		t.Errorf("mismatched array: %v", err)
	}
	if got := ValueType(42).String(); got != "type(42)" {
		t.Errorf("unknown ValueType prints %q", got)
	}
}
