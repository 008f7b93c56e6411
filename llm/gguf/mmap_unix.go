//go:build unix

package gguf

import (
	"fmt"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// Open memory-maps the file at path read-only and parses its header,
// metadata and tensor infos. Tensor bytes are not read until used. Call
// Close to release the mapping; Data slices are invalid after that. As with
// any mmap, truncating the file while it is mapped makes later reads of
// tensor Data fault (SIGBUS); the parser cannot guard against that.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	size := st.Size()
	if size == 0 {
		return nil, fmt.Errorf("gguf: %s: %w", path, (&parser{}).errAt("magic", 0, nil, "empty file"))
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("gguf: %s: file of %d bytes is too large to map", path, size)
	}
	data, err := unix.Mmap(int(fd.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("gguf: mmap %s: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		_ = unix.Munmap(data)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.mapped = data
	return f, nil
}

// Close releases the mapping made by Open and clears the tensors' Data. It
// is safe to call more than once, and a no-op for a File from Parse.
func (f *File) Close() error {
	if f.mapped == nil {
		return nil
	}
	for i := range f.Tensors {
		f.Tensors[i].Data = nil
	}
	err := unix.Munmap(f.mapped)
	f.mapped = nil
	if err != nil {
		return fmt.Errorf("gguf: munmap: %w", err)
	}
	return nil
}
