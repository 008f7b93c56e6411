package gguf

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
)

// craft builds raw GGUF bytes field by field for malformed-input tests.
type craft struct {
	b    []byte
	wide bool
}

func header(version uint32, nTensors, nKV uint64) *craft {
	c := &craft{wide: version >= 2}
	c.b = append(c.b, "GGUF"...)
	return c.u32(version).n(nTensors).n(nKV)
}

func (c *craft) u8(v uint8) *craft   { c.b = append(c.b, v); return c }
func (c *craft) u32(v uint32) *craft { c.b = binary.LittleEndian.AppendUint32(c.b, v); return c }
func (c *craft) u64(v uint64) *craft { c.b = binary.LittleEndian.AppendUint64(c.b, v); return c }
func (c *craft) n(v uint64) *craft {
	if c.wide {
		return c.u64(v)
	}
	return c.u32(uint32(v))
}
func (c *craft) s(v string) *craft { c.n(uint64(len(v))); c.b = append(c.b, v...); return c }
func (c *craft) pad(to int) *craft {
	for len(c.b)%to != 0 {
		c.b = append(c.b, 0)
	}
	return c
}

// tensor appends a tensor info.
func (c *craft) tensor(name string, typ uint32, off uint64, dims ...uint64) *craft {
	c.s(name).u32(uint32(len(dims)))
	for _, d := range dims {
		c.n(d)
	}
	return c.u32(typ).u64(off)
}

// TestMalformed feeds hand-made bad files to Parse and checks that each
// fails with ErrFormat, a message naming the field and the right offset.
func TestMalformed(t *testing.T) {
	const huge = 1 << 60
	oneF32 := func(c *craft) []byte { return c.pad(32).u32(0).b }
	tests := []struct {
		name string
		data []byte
		want string // substring of the error message
		eof  bool   // wraps io.ErrUnexpectedEOF
	}{
		{"empty", nil, "magic at offset 0: need 4 bytes", true},
		{"magic", []byte("GGUX\x03\x00\x00\x00"), `magic at offset 0: got "GGUX"`, false},
		{"version 0", header(0, 0, 0).b, "version at offset 4: unsupported version 0", false},
		{"version 4", header(4, 0, 0).b, "unsupported version 4", false},
		{"big endian", []byte("GGUF\x00\x00\x00\x03"), "big-endian", false},
		{"huge kv count", header(3, 0, huge).b, "key/value count at offset 16: count 1152921504606846976", true},
		{"huge tensor count", header(3, huge, 0).b, "tensor count at offset 8", true},
		{"huge v1 kv count", header(1, 0, 1<<31).b, "key/value count at offset 12", true},
		{"huge key length", header(3, 0, 1).u64(huge).u64(0).b, "key/value 0: key at offset 24: string length", true},
		{"huge string value", header(3, 0, 1).s("k").u32(uint32(TypeString)).u64(huge).b, `key/value 0 ("k"): string value at offset 37`, true},
		{"huge array", header(3, 0, 1).s("k").u32(uint32(TypeArray)).u32(uint32(TypeUint64)).u64(huge).b, `key/value 0 ("k"): array length at offset 41`, true},
		{"huge string array", header(3, 0, 1).s("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(huge).b, "array length at offset 41", true},
		{"huge nested array", header(3, 0, 1).s("k").u32(uint32(TypeArray)).u32(uint32(TypeArray)).u64(huge).b, "array length at offset 41", true},
		{"unknown value type", header(3, 0, 1).s("k").u32(13).b, "value type at offset 33: unknown value type 13", false},
		{"unknown element type", header(3, 0, 1).s("k").u32(uint32(TypeArray)).u32(99).u64(0).b, "array element type at offset 37: unknown value type 99", false},
		{"bad bool", header(3, 0, 1).s("k").u32(uint32(TypeBool)).u8(2).b, "bool value at offset 37: byte 2", false},
		{"bad bool array", header(3, 0, 1).s("k").u32(uint32(TypeArray)).u32(uint32(TypeBool)).u64(2).u8(0).u8(7).b, "bool array element at offset 50", false},
		{"deep nesting", func() []byte {
			c := header(3, 0, 1).s("k").u32(uint32(TypeArray))
			for range 20 {
				c.u32(uint32(TypeArray)).u64(1)
			}
			return c.b
		}(), "nested deeper than 8", false},
		{"duplicate key", header(3, 0, 2).s("k").u32(uint32(TypeUint8)).u8(1).s("k").u32(uint32(TypeUint8)).u8(1).b, `key/value 1 ("k"): key at offset 38: duplicate key`, false},
		{"alignment zero", header(3, 0, 1).s(KeyAlignment).u32(uint32(TypeUint32)).u32(0).b, "general.alignment at offset 49: alignment 0 (uint32)", false},
		{"alignment odd", header(3, 0, 1).s(KeyAlignment).u32(uint32(TypeUint32)).u32(48).b, "not a power of two", false},
		{"alignment string", header(3, 0, 1).s(KeyAlignment).u32(uint32(TypeString)).s("32").b, "not a power of two", false},
		{"n_dims", header(3, 1, 0).tensor("t", 0, 0, 1, 1, 1, 1, 1).b, `tensor info 0 ("t"): n_dims at offset 33: 5 dimensions`, false},
		{"dim above int64", header(3, 1, 0).tensor("t", 0, 0, 1<<63).b, "dims at offset 37: dimension 0 is 9223372036854775808", false},
		{"element overflow", header(3, 1, 0).tensor("t", 0, 0, 1<<32, 1<<32).b, "dims at offset 37: element count", false},
		{"byte overflow", header(3, 1, 0).tensor("t", 0, 0, 1<<62).b, "byte size", false},
		{"unknown type", header(3, 1, 0).tensor("blk.0.attn_q.weight", 99, 0, 32).b, `tensor info 0 ("blk.0.attn_q.weight"): type at offset 63: tensor type id 99: quant: unknown tensor type`, false},
		{"retired type", header(3, 1, 0).tensor("t", 4, 0, 32).b, "tensor type id 4", false},
		{"block multiple", header(3, 1, 0).tensor("t", 2, 0, 16, 2).b, "ne0 = 16 is not a multiple of the Q4_0 block size 32", false},
		{"duplicate tensor", oneF32(header(3, 2, 0).tensor("t", 0, 0, 1).tensor("t", 0, 32, 1)), `tensor info 1 ("t"): name at offset 57: duplicate tensor name`, false},
		{"unaligned offset", oneF32(header(3, 1, 0).tensor("t", 0, 4, 1)), "offset at offset 24: data offset 4 is not a multiple of the alignment 32", false},
		{"data past end", header(3, 1, 0).tensor("t", 0, 0, 8).pad(32).u32(0).b, "runs past the end of the file", true},
		{"offset overflow", oneF32(header(3, 1, 0).tensor("t", 0, 1<<63+1<<62, 1)), "runs past the end", true},
		{"overlap", header(3, 2, 0).tensor("a", 0, 0, 16).tensor("b", 0, 32, 1).pad(32).u64(0).u64(0).u64(0).u64(0).u64(0).u64(0).u64(0).u64(0).b, `tensor info 1 ("b"): offset at offset 57: data offset 32 precedes the end of the previous tensor's data (64)`, false},
		{"truncated dims", header(3, 1, 0).s("t").u32(2).u64(1).u8(0).u8(0).u8(0).b, `tensor info 0 ("t"): dims at offset 37: need 16 bytes, 11 left`, true},
		{"v1 truncated", header(1, 0, 1).s("key").u32(uint32(TypeUint32)).u8(0).b, `key/value 0 ("key"): uint32 value at offset 27: need 4 bytes, 1 left`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.data)
			if err == nil {
				t.Fatalf("parsed: %+v", f)
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%v does not wrap ErrFormat", err)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tc.eof {
				t.Errorf("wraps io.ErrUnexpectedEOF = %v, want %v", got, tc.eof)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("%v is not a *FormatError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}

// TestHugeCountsDoNotAllocate: a tiny file claiming 2^60 items must fail
// without allocating for them.
func TestHugeCountsDoNotAllocate(t *testing.T) {
	inputs := [][]byte{
		header(3, 0, 1<<60).b,
		header(3, 1<<60, 1).s("k").u32(uint32(TypeUint8)).u8(0).b,
		header(3, 0, 1).s("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1 << 60).b,
		header(3, 0, 1).s("k").u32(uint32(TypeArray)).u32(uint32(TypeUint8)).u64(1 << 40).b,
	}
	for i, in := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Parse(in)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("input %d parsed", i)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
			t.Errorf("input %d (%d bytes): allocated %d bytes", i, len(in), d)
		}
	}
}

// TestTruncated cuts real files at every offset of their header and
// metadata, and at sampled offsets in their data, and expects an error (and
// no panic) every time.
func TestTruncated(t *testing.T) {
	files := map[string][]byte{"sample v3": buildSample(t, 3), "sample v1": buildSample(t, 1)}
	for _, name := range []string{"models/stories260K.gguf", "models/tinyllamas-stories-260k-f32.gguf"} {
		data, err := os.ReadFile(testdata.Path(t, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	for name, data := range files {
		f, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		var cuts []int
		for i := 0; i <= int(f.DataOffset) && i < len(data); i++ {
			cuts = append(cuts, i)
		}
		for i := int(f.DataOffset); i < len(data); i += 4093 {
			cuts = append(cuts, i)
		}
		cuts = append(cuts, len(data)-1)
		for _, n := range cuts {
			_, err := Parse(data[:n])
			if err == nil {
				t.Fatalf("%s cut to %d bytes: no error", name, n)
			}
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("%s cut to %d bytes: %v does not wrap ErrFormat", name, n, err)
			}
		}
		t.Logf("%s: %d cuts rejected", name, len(cuts))
	}
}
