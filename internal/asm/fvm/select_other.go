//go:build !amd64 || noasm

package fvm

// Available is false: Run is assembly for amd64 only.
var Available = false

// Run is never called when Available is false.
func Run(prog []uint32, ptrs []uintptr, n int) int { panic("fvm: no assembly on this platform") }
