// Product of activations x [n, cols] with the transpose of an F16 weight
// [rows, cols] kept in its two-byte storage, as the CPU's qdot (and
// llama.cpp's F16 vec_dot, whose vec_dot_type is F16) computes it: every
// activation is rounded to binary16 (to nearest even, overflowing to ±∞,
// as tensor.F32ToF16), the products of two halves are exact in f32 and go
// to 16 lanes, lane j taking element j of every 16-element chunk; the
// lanes are added in _mm512_reduce_add_ps's halving tree and the last
// cols % 16 products are added one by one. On llvmpipe the results have
// the CPU's bits.
//
// Unlike BF16's, nothing here can be subnormal in f32: the halves are
// multiples of 2^-24, normal in f32 (decoded in integer arithmetic, as
// the activations are rounded: a device may flush subnormal halves in
// unpack2x16float), their finite products multiples of 2^-48 of at most
// 65504², and every sum of such products, rounded or not, a multiple of
// 2^-48 too (where f32's spacing passes 2^-48 it is a power of two above
// it), so zero or at least 2^-48. The float unit's correctly rounded
// products and sums are then the CPU's on any device, flushing or not.
//
// A workgroup takes one activation row and eight weight rows; invocation
// 4·rr + p takes row rr's lanes 4p to 4p+3, whose elements are adjacent
// (two words of weights, one vec4 of activations: on llvmpipe 1.7x
// faster than a lane per invocation at 1024x1024, n=16). The activations
// are rounded once per workgroup, a chunk at a time, into workgroup
// memory, which the eight rows share.
//
// meta: 0 outputs (n·rows), 1 rows, 2 cols, 3 type (1), 4 row bytes
// (2·cols), 5 zero.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wq: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const CHUNK = 2048u;
const FINF = 0x7f800000u;

var<workgroup> xs: array<vec4<f32>, 512>; // the chunk's activations, rounded to f16
var<workgroup> lanes: array<f32, 128>;

// halves returns the two binary16 of v (the low half first) as f32, as
// tensor.F16ToF32 (but for NaN payloads) without branches: a normal or
// infinite half is its bits moved into place, a subnormal m·2^-24.
fn halves(v: u32) -> vec2<f32> {
  let h = vec2<u32>(v & 0xffffu, v >> 16u);
  let e = h & vec2<u32>(0x7c00u);
  var b = ((h & vec2<u32>(0x7fffu)) << vec2<u32>(13u)) + vec2<u32>(0x38000000u);
  b = b + select(vec2<u32>(0u), vec2<u32>(0x38000000u), e == vec2<u32>(0x7c00u));
  let sub = bitcast<vec2<u32>>(vec2<f32>(h & vec2<u32>(0x3ffu)) * bitcast<f32>(0x33800000u));
  b = select(b, sub, e == vec2<u32>(0u));
  return bitcast<vec2<f32>>(b | ((h & vec2<u32>(0x8000u)) << vec2<u32>(16u)));
}

// quadAt returns the four binary16 at the 2-aligned byte offset off.
fn quadAt(off: u32) -> vec4<f32> {
  let o = off >> 2u;
  var v = vec2<u32>(wq[o], wq[o + 1u]);
  if ((off & 2u) != 0u) {
    v = vec2<u32>((v.x >> 16u) | (v.y << 16u), (v.y >> 16u) | (wq[o + 2u] << 16u));
  }
  return vec4<f32>(halves(v.x), halves(v.y));
}

// halfAt returns the binary16 at the 2-aligned byte offset off as an f32.
fn halfAt(off: u32) -> f32 {
  return halves(wq[off >> 2u] >> ((off & 2u) * 8u)).x;
}

// xround returns the f32 bits b rounded to binary16 and widened back, as
// tensor.F16ToF32(tensor.F32ToF16): to nearest even, ±∞ from 65520 on, a
// NaN quieted with its sign and top payload kept, magnitudes below 2^-14
// rounded to multiples of 2^-24 (f32 subnormals to zero) in integers.
fn xround(b: u32) -> f32 {
  let a = b & 0x7fffffffu;
  // Normal halves: round off the low 13 bits; a carry may reach ∞.
  var r = (a + 0xfffu + ((a >> 13u) & 1u)) & 0xffffe000u;
  r = select(r, FINF, r >= 0x47800000u);
  if (a < 0x38800000u) {
    // Subnormal halves: the significand shifted right by 126 - exponent
    // (at most 25, all of it), rounded to nearest even, in units of 2^-24.
    let s = min(126u - (a >> 23u), 25u);
    let mt = (a & 0x7fffffu) | 0x800000u;
    let q = (mt + (1u << (s - 1u)) - 1u + ((mt >> s) & 1u)) >> s;
    r = bitcast<u32>(f32(q) * bitcast<f32>(0x33800000u));
  }
  if (a > FINF) {
    r = (a | 0x400000u) & 0xffffe000u;
  }
  return bitcast<f32>(r | (b & 0x80000000u));
}

@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let rows = m(1u);
  let cols = m(2u);
  let per = (rows + 7u) / 8u;
  let g = wid.x + wid.y * groups.x;
  let i = g / per;
  let live = i < m(0u) / rows;
  let rr = lid / 4u;
  let p = lid % 4u;
  let r = (g % per) * 8u + rr;
  let valid = live && r < rows;
  let base = r * m(4u);
  let xrow = i * cols;
  let n = cols & ~15u;
  var acc = vec4<f32>(0.0);
  for (var c0 = 0u; c0 < n; c0 = c0 + CHUNK) {
    let len = min(CHUNK, n - c0);
    for (var c = 4u * lid; live && c < len; c = c + 128u) {
      let o = xrow + c0 + c;
      xs[c / 4u] = vec4<f32>(xround(bitcast<u32>(x[o])), xround(bitcast<u32>(x[o + 1u])),
        xround(bitcast<u32>(x[o + 2u])), xround(bitcast<u32>(x[o + 3u])));
    }
    workgroupBarrier();
    for (var c = 4u * p; valid && c < len; c = c + 16u) {
      acc = acc + quadAt(base + 2u * (c0 + c)) * xs[c / 4u];
    }
    workgroupBarrier();
  }
  let l = 16u * rr + 4u * p;
  lanes[l] = acc.x;
  lanes[l + 1u] = acc.y;
  lanes[l + 2u] = acc.z;
  lanes[l + 3u] = acc.w;
  workgroupBarrier();
  if (valid && p == 0u) {
    // _mm512_reduce_add_ps: lanes k+8 and k, then k+4 and k, then
    // (0+2)+(1+3); the products of the tail one by one.
    let a = 16u * rr;
    var t8: array<f32, 8>;
    for (var k = 0u; k < 8u; k = k + 1u) {
      t8[k] = lanes[a + k + 8u] + lanes[a + k];
    }
    var t4: array<f32, 4>;
    for (var k = 0u; k < 4u; k = k + 1u) {
      t4[k] = t8[k + 4u] + t8[k];
    }
    var sum = (t4[0] + t4[2]) + (t4[1] + t4[3]);
    for (var c = n; c < cols; c = c + 1u) {
      sum = sum + halfAt(base + 2u * c) * xround(bitcast<u32>(x[xrow + c]));
    }
    y[i * rows + r] = sum;
  }
}
