// include: quantact
// Product of activations x [n, cols] with the transpose of a BF16 weight
// [rows, cols] kept in its two-byte storage, as the CPU's qdot (and
// llama.cpp's tinyBLAS on AVX512-BF16) computes it: every activation is
// rounded to bf16 (to nearest even, as tensor.F32ToBF16), the products of
// two bf16 are exact in f32 and go to 16 lanes, lane j taking elements
// 2j+1 then 2j of every 32-element chunk; the lanes are added in
// _mm512_reduce_add_ps's halving tree and the last cols % 32 products are
// added one by one. On llvmpipe the results have the CPU's bits.
//
// WGSL lets a device flush subnormals, so the float unit's products and
// sums are right only where no operand or result is subnormal (nor a
// sum zero that should be subnormal). Each lane, and the reduction with
// the tail, is added in float while checking that on bits (which the
// compiler cannot rewrite as float compares); where it fails, it is added
// again with products and sums made exact in integer arithmetic
// (fmaExact), as the k-quants' subnormal scales are in qmatmul8.
//
// A workgroup takes one activation row and eight weight rows (invocation
// 16·rr + j: row rr, lane j), like the qmatmul8 kernels.
//
// meta: 0 outputs (n·rows), 1 rows, 2 cols, 3 type (30), 4 row bytes
// (2·cols), 5 zero.
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> wq: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> lanes: array<f32, 128>;

// pair returns the two bf16 at the 2-aligned byte offset off as the f32
// bits of the first (low half) and of the second.
fn pair(off: u32) -> vec2<u32> {
  var v = wq[off >> 2u];
  if ((off & 2u) != 0u) {
    v = (v >> 16u) | (wq[(off >> 2u) + 1u] << 16u);
  }
  return vec2<u32>(v << 16u, v & 0xffff0000u);
}

// bf16At returns the f32 bits of the bf16 at the 2-aligned byte offset off.
fn bf16At(off: u32) -> u32 {
  return ((wq[off >> 2u] >> ((off & 2u) * 8u)) & 0xffffu) << 16u;
}

// bfround returns the f32 bits b rounded to bf16 as tensor.F32ToBF16:
// to nearest even, a NaN quieted with its sign and top payload kept.
fn bfround(b: u32) -> u32 {
  if ((b & 0x7fffffffu) > FINF) {
    return (b | 0x00400000u) & 0xffff0000u;
  }
  return (b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u;
}

// tiny reports whether the f32 bits b are subnormal.
fn tiny(b: u32) -> bool {
  return (b & 0x7f800000u) == 0u && (b & 0x007fffffu) != 0u;
}

// bfmul returns the product of the f32 bits a and b (bf16 values: exact
// unless subnormal) as the CPU's float32 product gives it.
fn bfmul(a: u32, b: u32) -> f32 {
  let ea = (a >> 23u) & 0xffu;
  let eb = (b >> 23u) & 0xffu;
  if (ea != 0u && eb != 0u && ea + eb >= 128u) {
    // Normal (or infinite, or NaN) on every device.
    return bitcast<f32>(a) * bitcast<f32>(b);
  }
  if (ea == 255u || eb == 255u) {
    // ∞ or NaN times a zero or subnormal: a subnormal counts as a normal
    // of its sign (∞ then, not the NaN of ∞·0).
    let a1 = select(a, (a & 0x80000000u) | F1, tiny(a));
    let b1 = select(b, (b & 0x80000000u) | F1, tiny(b));
    return bitcast<f32>(a1) * bitcast<f32>(b1);
  }
  return fmaExact(bitcast<f32>(a), bitcast<f32>(b), 0.0);
}

// bfadd returns a + b correctly rounded, subnormals included: the float
// unit's sum unless an operand is subnormal or the sum came out zero
// without the operands cancelling exactly (a flushed subnormal).
fn bfadd(a: f32, b: f32) -> f32 {
  let ab = bitcast<u32>(a);
  let bb = bitcast<u32>(b);
  let s = a + b;
  let zero = (bitcast<u32>(s) & 0x7fffffffu) == 0u;
  if (!tiny(ab) && !tiny(bb) && (!zero || (ab ^ bb) == 0x80000000u || ((ab | bb) & 0x7fffffffu) == 0u)) {
    return s;
  }
  return fmaExact(a, 1.0, b);
}

// risky reports whether the float unit's s = a + b, from operands that
// are not subnormal, may differ from the CPU's: s is subnormal, or zero
// without the operands cancelling exactly (a flushed subnormal).
fn risky(a: f32, b: f32, s: f32) -> bool {
  let ab = bitcast<u32>(a);
  let bb = bitcast<u32>(b);
  let sb = bitcast<u32>(s) & 0x7fffffffu;
  return tiny(ab) || tiny(bb) || ((sb >> 23u) == 0u && (sb != 0u || ((ab ^ bb) != 0x80000000u && ((ab | bb) & 0x7fffffffu) != 0u)));
}

// inexact reports whether the float unit's product of the f32 bits a and
// b (bf16 values) may differ from the CPU's: both are nonzero and an
// operand or the product is subnormal.
fn inexact(a: u32, b: u32) -> bool {
  let ea = (a >> 23u) & 0xffu;
  let eb = (b >> 23u) & 0xffu;
  return (a & 0x7fffffffu) != 0u && (b & 0x7fffffffu) != 0u && (ea == 0u || eb == 0u || ea + eb < 128u);
}

@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let rows = m(1u);
  let cols = m(2u);
  let per = (rows + 7u) / 8u;
  let g = wid.x + wid.y * groups.x;
  let i = g / per;
  let live = i < m(0u) / rows;
  let rr = lid / 16u;
  let j = lid % 16u;
  let r = (g % per) * 8u + rr;
  let valid = live && r < rows;
  let base = r * m(4u);
  let xrow = i * cols;
  let n = select(0u, cols & ~31u, valid);
  // The float unit's lane sum, and whether it may differ from the CPU's;
  // if so the lane is added again, exactly. (llvmpipe runs both sides of
  // a branch under a mask, but a loop only while an invocation is in it.)
  var acc = 0.0;
  var bad = false;
  for (var c = 2u * j; c < n; c = c + 32u) {
    let w = pair(base + 2u * c);
    let x1 = bfround(x[xrow + c + 1u]);
    let x0 = bfround(x[xrow + c]);
    let p1 = bitcast<f32>(w.y) * bitcast<f32>(x1);
    let s1 = acc + p1;
    let p0 = bitcast<f32>(w.x) * bitcast<f32>(x0);
    let s0 = s1 + p0;
    bad = bad || inexact(w.y, x1) || risky(acc, p1, s1) || inexact(w.x, x0) || risky(s1, p0, s0);
    acc = s0;
  }
  if (bad) {
    acc = 0.0;
  }
  for (var c = 2u * j; bad && c < n; c = c + 32u) {
    let w = pair(base + 2u * c);
    acc = bfadd(acc, bfmul(w.y, bfround(x[xrow + c + 1u])));
    acc = bfadd(acc, bfmul(w.x, bfround(x[xrow + c])));
  }
  lanes[lid] = acc;
  workgroupBarrier();
  if (valid && j == 0u) {
    // _mm512_reduce_add_ps: lanes k+8 and k, then k+4 and k, then
    // (0+2)+(1+3); the products of the tail one by one. Exactly again
    // if the float unit's sums may differ.
    let a = 16u * rr;
    var t8: array<f32, 8>;
    var rbad = false;
    for (var k = 0u; k < 8u; k = k + 1u) {
      t8[k] = lanes[a + k + 8u] + lanes[a + k];
      rbad = rbad || risky(lanes[a + k + 8u], lanes[a + k], t8[k]);
    }
    var t4: array<f32, 4>;
    for (var k = 0u; k < 4u; k = k + 1u) {
      t4[k] = t8[k + 4u] + t8[k];
      rbad = rbad || risky(t8[k + 4u], t8[k], t4[k]);
    }
    let h0 = t4[0] + t4[2];
    let h1 = t4[1] + t4[3];
    var sum = h0 + h1;
    rbad = rbad || risky(t4[0], t4[2], h0) || risky(t4[1], t4[3], h1) || risky(h0, h1, sum);
    for (var c = n; c < cols; c = c + 1u) {
      let wb = bf16At(base + 2u * c);
      let xb = bfround(x[xrow + c]);
      let p = bitcast<f32>(wb) * bitcast<f32>(xb);
      let s = sum + p;
      rbad = rbad || inexact(wb, xb) || risky(sum, p, s);
      sum = s;
    }
    for (var once = rbad; once; once = false) {
      for (var k = 0u; k < 8u; k = k + 1u) {
        t8[k] = bfadd(lanes[a + k + 8u], lanes[a + k]);
      }
      for (var k = 0u; k < 4u; k = k + 1u) {
        t4[k] = bfadd(t8[k + 4u], t8[k]);
      }
      sum = bfadd(bfadd(t4[0], t4[2]), bfadd(t4[1], t4[3]));
      for (var c = n; c < cols; c = c + 1u) {
        sum = bfadd(sum, bfmul(bf16At(base + 2u * c), bfround(x[xrow + c])));
      }
    }
    y[i * rows + r] = sum;
  }
}
