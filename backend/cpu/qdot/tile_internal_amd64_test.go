//go:build !noasm

package qdot

import (
	"math/rand/v2"
	"testing"
)

// TestTileKernelsWithoutVBMI runs checkMatMulBits on the Q4_0 tile kernel
// that AVX-512 VNNI machines without VBMI take (dotQ4_0VNNI8x4, the pairs
// layout), which a machine with VBMI would otherwise never run.
func TestTileKernelsWithoutVBMI(t *testing.T) {
	defer SetLevel(CurrentLevel())
	if _, err := SetLevel(AVX512VNNI); err != nil {
		t.Skip("no AVX-512 VNNI")
	}
	saved := active.tile[Q4_0]
	defer func() { active.tile[Q4_0] = saved }()
	active.tile[Q4_0] = []tileKernel{{rows: 4, dot: tileQ4_0(4, dotQ4_0VNNI8x4, nil)}}
	checkMatMulBits(t, rand.New(rand.NewPCG(45, 46)), Q4_0)
}
