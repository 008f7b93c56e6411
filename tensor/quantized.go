package tensor

import (
	"errors"
	"fmt"
)

// ErrQuantized reports a malformed quantized matrix.
var ErrQuantized = errors.New("tensor: bad quantized matrix")

// Quantized is a weight matrix kept in a GGUF block format (Type is the
// ggml type ID): Rows rows of Cols elements, each row a run of whole
// blocks, stored in Data (typically a view into a memory-mapped file).
// Backends consume the blocks directly; nothing expands them to float32
// in memory.
type Quantized struct {
	Type       uint32
	Rows, Cols int
	Data       []byte
}

// Check reports obviously malformed matrices: non-positive sizes, or data
// that is not a whole number of equal rows.
func (q *Quantized) Check() error {
	if q == nil {
		return fmt.Errorf("%w: nil", ErrQuantized)
	}
	if q.Rows <= 0 || q.Cols <= 0 || len(q.Data) == 0 || len(q.Data)%q.Rows != 0 {
		return fmt.Errorf("%w: type %d, %d×%d in %d bytes", ErrQuantized, q.Type, q.Rows, q.Cols, len(q.Data))
	}
	return nil
}

// RowBytes returns the bytes of one row.
func (q *Quantized) RowBytes() int { return len(q.Data) / q.Rows }
