// The strided copy of copy.wgsl for two-byte elements (f16, bf16), which
// are kept two to a u32 word, element e in bits 16·(e%2) of word e/2.
// Invocations that write the two halves of one word each clear and set
// only their own half, with atomics, so neither loses the other's bits
// (and a half outside a copied window keeps its value).
//
// meta: 0 count, 1 rank, 2 src offset (i32), 3 dst offset (i32),
// 4 dynamic side (0 none, 1 src, 2 dst), 5 dynStride (i32), 6 lim,
// 8.. dims[8], 16.. src strides[8] (i32), 24.. dst strides[8] (i32).
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read> start: array<i32>;
@group(0) @binding(3) var<storage, read_write> dst: array<atomic<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= m(0u)) {
    return;
  }
  var s = bitcast<i32>(m(2u));
  var d = bitcast<i32>(m(3u));
  var r = i;
  for (var a = i32(m(1u)) - 1; a >= 0; a = a - 1) {
    let dim = m(8u + u32(a));
    let c = i32(r % dim);
    r = r / dim;
    s = s + c * bitcast<i32>(m(16u + u32(a)));
    d = d + c * bitcast<i32>(m(24u + u32(a)));
  }
  let side = m(4u);
  if (side != 0u) {
    let off = clamp(start[0], 0, i32(m(6u))) * bitcast<i32>(m(5u));
    if (side == 1u) {
      s = s + off;
    } else {
      d = d + off;
    }
  }
  let us = u32(s);
  let ud = u32(d);
  let v = (src[us >> 1u] >> ((us & 1u) * 16u)) & 0xffffu;
  let shift = (ud & 1u) * 16u;
  atomicAnd(&dst[ud >> 1u], ~(0xffffu << shift));
  atomicOr(&dst[ud >> 1u], v << shift);
}
