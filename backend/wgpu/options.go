package wgpu

import "errors"

// Errors of device creation and use.
var (
	// ErrUnavailable is returned by New in a build without cgo.
	ErrUnavailable = errors.New("wgpu: WebGPU unavailable: built without cgo")
	// ErrNoAdapter is returned by New when no adapter (or none with the
	// requested name) exists.
	ErrNoAdapter = errors.New("wgpu: no adapter")
	// ErrLost is returned by every call after the device was lost.
	ErrLost = errors.New("wgpu: device lost")
	// ErrIndex is wrapped by the error of a run in which a gather,
	// index-select, scatter-add or quantized row gather met an index
	// outside its axis (the CPU backend fails such a run too). Shaders
	// cannot fail, so it surfaces at the next Sync, Read or Run.
	ErrIndex = errors.New("wgpu: index out of range")
)

// Option configures New.
type Option func(*options)

type options struct {
	adapter string
	budget  int64
}

// Adapter picks the adapter whose name contains substr (case-insensitive).
// Without it, the AETHER_WGPU_ADAPTER environment variable is used, and
// without that the most capable adapter: discrete, integrated, software.
func Adapter(substr string) Option { return func(o *options) { o.adapter = substr } }

// Budget limits the device memory the backend keeps resident, in bytes;
// least recently used buffers are evicted (written back to the host first
// when the device copy is newer) to stay under it. 0 means no limit.
func Budget(bytes int64) Option { return func(o *options) { o.budget = bytes } }
