//go:build !cgo

package wgpu

import (
	"context"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/memory"
	"github.com/aethertensor/aether/tensor"
)

// Available reports whether this build can use WebGPU (it was built with
// cgo).
const Available = false

// Device is the WebGPU device; without cgo it cannot be made.
type Device struct{}

// New returns ErrUnavailable: this build has no cgo.
func New(opts ...Option) (*Device, error) { return nil, ErrUnavailable }

// Close returns nil.
func (*Device) Close() error { return nil }

// Name returns "wgpu".
func (*Device) Name() string { return "wgpu" }

// Adapter returns "".
func (*Device) Adapter() string { return "" }

// Registry returns nil.
func (*Device) Registry() *memory.Registry { return nil }

// ReadBytes returns 0.
func (*Device) ReadBytes() int64 { return 0 }

// HalfStorage returns false.
func (*Device) HalfStorage() bool { return false }

// Caps returns zero Caps.
func (*Device) Caps() backend.Caps { return backend.Caps{} }

// Alloc returns ErrUnavailable.
func (*Device) Alloc(backend.Operand) (backend.Buffer, error) { return nil, ErrUnavailable }

// Bind returns ErrUnavailable.
func (*Device) Bind(*tensor.Array) (backend.Buffer, error) { return nil, ErrUnavailable }

// Write returns ErrUnavailable.
func (*Device) Write(backend.Buffer, *tensor.Array) error { return ErrUnavailable }

// Read returns ErrUnavailable.
func (*Device) Read(*tensor.Array, backend.Buffer) error { return ErrUnavailable }

// Copy returns ErrUnavailable.
func (*Device) Copy(dst, src backend.Buffer) error { return ErrUnavailable }

// Prepare returns ErrUnavailable.
func (*Device) Prepare(backend.Kernel) (backend.Launch, error) { return nil, ErrUnavailable }

// SyncHost returns ErrUnavailable.
func (*Device) SyncHost(context.Context) error { return ErrUnavailable }

// Sync returns ErrUnavailable.
func (*Device) Sync(context.Context) error { return ErrUnavailable }
