//go:build !unix

package gguf

import (
	"fmt"
	"os"
)

// Open reads the file at path into memory (no mmap on this platform) and
// parses it. Call Close when done.
func Open(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Close clears the tensors' Data. It is safe to call more than once.
func (f *File) Close() error {
	for i := range f.Tensors {
		f.Tensors[i].Data = nil
	}
	return nil
}
