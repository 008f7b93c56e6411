//go:build !amd64 || noasm

package fvm

// Available and Available2 are false: the interpreters are amd64
// assembly.
var Available, Available2 = false, false

// Run is never called when Available is false.
func Run(prog []uint32, ptrs []uintptr, n int) int { panic("fvm: no assembly on this platform") }

// Run2 is never called when Available2 is false.
func Run2(prog []uint32, ptrs []uintptr, n int) int { panic("fvm: no assembly on this platform") }
