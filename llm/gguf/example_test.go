package gguf_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/quant"
)

// Example builds a small GGUF file in memory, parses it back and reads its
// metadata and a tensor. Open does the same for a file on disk, without
// reading the tensor bytes.
func Example() {
	b := gguf.NewBuilder()
	arch, _ := gguf.NewValue("llama")
	_ = b.Meta.Set("general.architecture", arch)
	heads, _ := gguf.NewValue(uint32(8))
	_ = b.Meta.Set("llama.attention.head_count", heads)
	if err := b.AddTensor("output_norm.weight", quant.F32, []uint64{4}, make([]byte, 16)); err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		log.Fatal(err)
	}

	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	name, _ := f.Arch()
	n, _ := f.Meta.GetUint("llama.attention.head_count")
	_, err = f.Meta.GetUint("llama.block_count")
	fmt.Println("version", f.Version, "arch", name, "heads", n)
	fmt.Println(err)
	t, _ := f.Tensor("output_norm.weight")
	fmt.Println(t.Name, t.Type, t.Dims, t.NumElements(), len(t.Data), "bytes at", f.DataOffset+int64(t.Offset))
	// Output:
	// version 3 arch llama heads 8
	// gguf: missing metadata key: "llama.block_count"
	// output_norm.weight F32 [4] 4 16 bytes at 192
}

// ExampleParse_error shows the error for a malformed file: what was being
// read and at which byte offset.
func ExampleParse_error() {
	data := []byte("GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x0f")
	_, err := gguf.Parse(data)
	fmt.Println(err)
	// Output:
	// gguf: key/value count at offset 16: count 1152921504606846975 needs at least 13 bytes each, only 0 bytes left: unexpected EOF
}
