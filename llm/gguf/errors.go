package gguf

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with errors.Is.
var (
	// ErrFormat is wrapped by every error about malformed or unsupported
	// file contents.
	ErrFormat = errors.New("gguf: invalid file")
	// ErrMissingKey is wrapped when a metadata key is absent.
	ErrMissingKey = errors.New("gguf: missing metadata key")
	// ErrKeyType is wrapped when a metadata value has a type the getter
	// cannot convert, or a value out of the requested range.
	ErrKeyType = errors.New("gguf: wrong metadata value type")
)

// FormatError describes malformed input: where it is (Context and Field,
// Offset in bytes from the start of the file) and what is wrong. It wraps
// ErrFormat and, when set, Err (io.ErrUnexpectedEOF for truncated input).
type FormatError struct {
	Context string // the enclosing item, e.g. `tensor info 3 ("blk.0.attn_q.weight")`; may be empty
	Field   string // the field being read, e.g. "dims"
	Offset  int64  // byte offset of the field
	Msg     string // what is wrong
	Err     error  // optional cause
}

// Error formats e as "gguf: CONTEXT: FIELD at offset N: MSG".
func (e *FormatError) Error() string {
	s := "gguf: "
	if e.Context != "" {
		s += e.Context + ": "
	}
	s += fmt.Sprintf("%s at offset %d: %s", e.Field, e.Offset, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrFormat and the cause, if any.
func (e *FormatError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrFormat, e.Err}
	}
	return []error{ErrFormat}
}
