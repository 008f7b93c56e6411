package gguf

import (
	"fmt"
	"math"
	"strconv"
)

// ValueType is the GGUF code for the type of a metadata value. The numbers
// are the on-disk values.
type ValueType uint32

// The metadata value types, numbered as in the GGUF specification.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{
	TypeUint8: "uint8", TypeInt8: "int8", TypeUint16: "uint16", TypeInt16: "int16",
	TypeUint32: "uint32", TypeInt32: "int32", TypeFloat32: "float32", TypeBool: "bool",
	TypeString: "string", TypeArray: "array", TypeUint64: "uint64", TypeInt64: "int64",
	TypeFloat64: "float64",
}

// String returns the lower-case name of t, e.g. "uint32", or "type(N)" for an
// unknown code.
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return "type(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// valid reports whether t is a known value type.
func (t ValueType) valid() bool { return t <= TypeFloat64 }

// fixedSize is the encoded size of a scalar of type t; 0 for strings and
// arrays, whose size depends on their contents.
func (t ValueType) fixedSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Value is one metadata value. V holds the Go value matching Type:
// uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32,
// float64, bool or string. For Type == TypeArray, ElemType is the element
// type and V is the matching slice ([]uint8, ..., []float64, []bool,
// []string), or []Value when the elements are themselves arrays.
type Value struct {
	Type     ValueType
	ElemType ValueType // element type, for arrays only
	V        any
}

// Len returns the number of elements of an array value, or 0 for a scalar.
func (v Value) Len() int {
	switch a := v.V.(type) {
	case []uint8:
		return len(a)
	case []int8:
		return len(a)
	case []uint16:
		return len(a)
	case []int16:
		return len(a)
	case []uint32:
		return len(a)
	case []int32:
		return len(a)
	case []uint64:
		return len(a)
	case []int64:
		return len(a)
	case []float32:
		return len(a)
	case []float64:
		return len(a)
	case []bool:
		return len(a)
	case []string:
		return len(a)
	case []Value:
		return len(a)
	}
	return 0
}

// NewValue returns the Value for a Go value of one of the types listed on
// Value, inferring Type and ElemType. A []Value must hold arrays.
func NewValue(x any) (Value, error) {
	v := Value{V: x}
	switch x.(type) {
	case uint8:
		v.Type = TypeUint8
	case int8:
		v.Type = TypeInt8
	case uint16:
		v.Type = TypeUint16
	case int16:
		v.Type = TypeInt16
	case uint32:
		v.Type = TypeUint32
	case int32:
		v.Type = TypeInt32
	case uint64:
		v.Type = TypeUint64
	case int64:
		v.Type = TypeInt64
	case float32:
		v.Type = TypeFloat32
	case float64:
		v.Type = TypeFloat64
	case bool:
		v.Type = TypeBool
	case string:
		v.Type = TypeString
	default:
		v.Type = TypeArray
		switch x.(type) {
		case []uint8:
			v.ElemType = TypeUint8
		case []int8:
			v.ElemType = TypeInt8
		case []uint16:
			v.ElemType = TypeUint16
		case []int16:
			v.ElemType = TypeInt16
		case []uint32:
			v.ElemType = TypeUint32
		case []int32:
			v.ElemType = TypeInt32
		case []uint64:
			v.ElemType = TypeUint64
		case []int64:
			v.ElemType = TypeInt64
		case []float32:
			v.ElemType = TypeFloat32
		case []float64:
			v.ElemType = TypeFloat64
		case []bool:
			v.ElemType = TypeBool
		case []string:
			v.ElemType = TypeString
		case []Value:
			v.ElemType = TypeArray
		default:
			return Value{}, fmt.Errorf("%w: unsupported Go type %T", ErrKeyType, x)
		}
	}
	if err := v.check(0); err != nil {
		return Value{}, err
	}
	return v, nil
}

// check reports whether V's Go type matches Type and ElemType, recursively.
func (v Value) check(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: arrays nested deeper than %d", ErrKeyType, maxDepth)
	}
	var ok bool
	switch v.Type {
	case TypeUint8:
		_, ok = v.V.(uint8)
	case TypeInt8:
		_, ok = v.V.(int8)
	case TypeUint16:
		_, ok = v.V.(uint16)
	case TypeInt16:
		_, ok = v.V.(int16)
	case TypeUint32:
		_, ok = v.V.(uint32)
	case TypeInt32:
		_, ok = v.V.(int32)
	case TypeUint64:
		_, ok = v.V.(uint64)
	case TypeInt64:
		_, ok = v.V.(int64)
	case TypeFloat32:
		_, ok = v.V.(float32)
	case TypeFloat64:
		_, ok = v.V.(float64)
	case TypeBool:
		_, ok = v.V.(bool)
	case TypeString:
		_, ok = v.V.(string)
	case TypeArray:
		switch v.ElemType {
		case TypeUint8:
			_, ok = v.V.([]uint8)
		case TypeInt8:
			_, ok = v.V.([]int8)
		case TypeUint16:
			_, ok = v.V.([]uint16)
		case TypeInt16:
			_, ok = v.V.([]int16)
		case TypeUint32:
			_, ok = v.V.([]uint32)
		case TypeInt32:
			_, ok = v.V.([]int32)
		case TypeUint64:
			_, ok = v.V.([]uint64)
		case TypeInt64:
			_, ok = v.V.([]int64)
		case TypeFloat32:
			_, ok = v.V.([]float32)
		case TypeFloat64:
			_, ok = v.V.([]float64)
		case TypeBool:
			_, ok = v.V.([]bool)
		case TypeString:
			_, ok = v.V.([]string)
		case TypeArray:
			var vs []Value
			vs, ok = v.V.([]Value)
			for _, e := range vs {
				if e.Type != TypeArray {
					return fmt.Errorf("%w: element of an array of arrays has type %s", ErrKeyType, e.Type)
				}
				if err := e.check(depth + 1); err != nil {
					return err
				}
			}
		}
		if !ok {
			return fmt.Errorf("%w: array of %s holds %T", ErrKeyType, v.ElemType, v.V)
		}
		return nil
	}
	if !ok {
		return fmt.Errorf("%w: %s value holds %T", ErrKeyType, v.Type, v.V)
	}
	return nil
}

// String formats v for people: scalars as Go prints them (strings quoted),
// arrays as [a b c].
func (v Value) String() string {
	switch x := v.V.(type) {
	case string:
		return strconv.Quote(x)
	case []string:
		s := "["
		for i, e := range x {
			if i > 0 {
				s += " "
			}
			s += strconv.Quote(e)
		}
		return s + "]"
	}
	return fmt.Sprint(v.V)
}

// Metadata is the ordered list of a file's key/values. The zero value is an
// empty list ready to use.
type Metadata struct {
	keys []string
	vals map[string]Value
}

// Keys returns the keys in file order. The caller must not modify the slice.
func (m *Metadata) Keys() []string { return m.keys }

// Len returns the number of key/values.
func (m *Metadata) Len() int { return len(m.keys) }

// Lookup returns the value stored under key.
func (m *Metadata) Lookup(key string) (Value, bool) {
	v, ok := m.vals[key]
	return v, ok
}

// Has reports whether key is present.
func (m *Metadata) Has(key string) bool {
	_, ok := m.vals[key]
	return ok
}

// Set stores v under key: in place if key exists, else appended at the end.
// It returns an error wrapping ErrKeyType if v.V does not match v.Type.
func (m *Metadata) Set(key string, v Value) error {
	if err := v.check(0); err != nil {
		return fmt.Errorf("gguf: key %q: %w", key, err)
	}
	m.set(key, v)
	return nil
}

func (m *Metadata) set(key string, v Value) {
	if m.vals == nil {
		m.vals = make(map[string]Value)
	}
	if _, ok := m.vals[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = v
}

// Delete removes key, keeping the order of the others.
func (m *Metadata) Delete(key string) {
	if _, ok := m.vals[key]; !ok {
		return
	}
	delete(m.vals, key)
	for i, k := range m.keys {
		if k == key {
			m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
			break
		}
	}
}

// get returns the value of key or an error wrapping ErrMissingKey.
func (m *Metadata) get(key string) (Value, error) {
	v, ok := m.vals[key]
	if !ok {
		return Value{}, fmt.Errorf("%w: %q", ErrMissingKey, key)
	}
	return v, nil
}

func typeErr(key string, v Value, want string) error {
	got := v.Type.String()
	if v.Type == TypeArray {
		got = "array of " + v.ElemType.String()
	}
	return fmt.Errorf("%w: %q is %s, want %s", ErrKeyType, key, got, want)
}

// asInt converts any integer scalar to (magnitude as int64 or uint64).
// neg reports a negative value; u holds the value when !neg, i when neg.
func asInt(x any) (u uint64, i int64, neg, ok bool) {
	switch n := x.(type) {
	case uint8:
		return uint64(n), 0, false, true
	case uint16:
		return uint64(n), 0, false, true
	case uint32:
		return uint64(n), 0, false, true
	case uint64:
		return n, 0, false, true
	case int8:
		i = int64(n)
	case int16:
		i = int64(n)
	case int32:
		i = int64(n)
	case int64:
		i = n
	default:
		return 0, 0, false, false
	}
	if i < 0 {
		return 0, i, true, true
	}
	return uint64(i), i, false, true
}

// GetString returns the string stored under key.
func (m *Metadata) GetString(key string) (string, error) {
	v, err := m.get(key)
	if err != nil {
		return "", err
	}
	s, ok := v.V.(string)
	if !ok {
		return "", typeErr(key, v, "string")
	}
	return s, nil
}

// GetUint returns an integer of any type stored under key; negative values
// are an error wrapping ErrKeyType.
func (m *Metadata) GetUint(key string) (uint64, error) {
	v, err := m.get(key)
	if err != nil {
		return 0, err
	}
	u, i, neg, ok := asInt(v.V)
	if !ok {
		return 0, typeErr(key, v, "unsigned integer")
	}
	if neg {
		return 0, fmt.Errorf("%w: %q is negative (%d)", ErrKeyType, key, i)
	}
	return u, nil
}

// GetInt returns an integer of any type stored under key; a uint64 above
// MaxInt64 is an error wrapping ErrKeyType.
func (m *Metadata) GetInt(key string) (int64, error) {
	v, err := m.get(key)
	if err != nil {
		return 0, err
	}
	u, i, neg, ok := asInt(v.V)
	if !ok {
		return 0, typeErr(key, v, "integer")
	}
	if neg {
		return i, nil
	}
	if u > math.MaxInt64 {
		return 0, fmt.Errorf("%w: %q value %d overflows int64", ErrKeyType, key, u)
	}
	return int64(u), nil
}

// GetFloat returns a float32, float64 or integer stored under key as float64.
func (m *Metadata) GetFloat(key string) (float64, error) {
	v, err := m.get(key)
	if err != nil {
		return 0, err
	}
	switch f := v.V.(type) {
	case float32:
		return float64(f), nil
	case float64:
		return f, nil
	}
	u, i, neg, ok := asInt(v.V)
	if !ok {
		return 0, typeErr(key, v, "number")
	}
	if neg {
		return float64(i), nil
	}
	return float64(u), nil
}

// GetBool returns the bool stored under key.
func (m *Metadata) GetBool(key string) (bool, error) {
	v, err := m.get(key)
	if err != nil {
		return false, err
	}
	b, ok := v.V.(bool)
	if !ok {
		return false, typeErr(key, v, "bool")
	}
	return b, nil
}

// GetStrings returns the array of strings stored under key. The slice is
// shared with the Metadata; do not modify it.
func (m *Metadata) GetStrings(key string) ([]string, error) {
	v, err := m.get(key)
	if err != nil {
		return nil, err
	}
	s, ok := v.V.([]string)
	if !ok {
		return nil, typeErr(key, v, "array of string")
	}
	return s, nil
}

// GetFloat32s returns the array of float32 stored under key; an array of
// float64 is converted to a new slice. A float32 slice is shared with the
// Metadata; do not modify it.
func (m *Metadata) GetFloat32s(key string) ([]float32, error) {
	v, err := m.get(key)
	if err != nil {
		return nil, err
	}
	switch a := v.V.(type) {
	case []float32:
		return a, nil
	case []float64:
		out := make([]float32, len(a))
		for i, f := range a {
			out[i] = float32(f)
		}
		return out, nil
	}
	return nil, typeErr(key, v, "array of float32")
}

// GetInt32s returns the array of integers (of any integer type) stored under
// key as a new []int32, or an error wrapping ErrKeyType naming the first
// element that does not fit. An []int32 is returned shared, not copied.
func (m *Metadata) GetInt32s(key string) ([]int32, error) {
	v, err := m.get(key)
	if err != nil {
		return nil, err
	}
	if a, ok := v.V.([]int32); ok {
		return a, nil
	}
	n := v.Len()
	if v.Type != TypeArray || v.ElemType.fixedSize() == 0 || v.ElemType == TypeBool ||
		v.ElemType == TypeFloat32 || v.ElemType == TypeFloat64 {
		return nil, typeErr(key, v, "array of integer")
	}
	out := make([]int32, n)
	for i := range n {
		x := intElem(v.V, i)
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, fmt.Errorf("%w: %q element %d (%d) does not fit in int32", ErrKeyType, key, i, x)
		}
		out[i] = int32(x)
	}
	return out, nil
}

// intElem returns element i of an integer slice as int64; uint64 values
// above MaxInt64 saturate, which is still out of int32 range.
func intElem(a any, i int) int64 {
	switch s := a.(type) {
	case []uint8:
		return int64(s[i])
	case []int8:
		return int64(s[i])
	case []uint16:
		return int64(s[i])
	case []int16:
		return int64(s[i])
	case []uint32:
		return int64(s[i])
	case []uint64:
		if s[i] > math.MaxInt64 {
			return math.MaxInt64
		}
		return int64(s[i])
	case []int64:
		return s[i]
	}
	return 0
}
