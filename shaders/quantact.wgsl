// Quantisation of activations to 8-bit blocks bit for bit as the CPU
// backend (backend/cpu/qdot, after ggml's quantize_row_q8_0 and
// quantize_row_q8_K). Not a kernel: qmatmul8 includes it.
//
// WGSL lets x / y be off by 2.5 ulp and lets a device flush subnormals, so
// the divisions that make the scales are done in integer arithmetic
// (fdiv), as is the rounding of a scale to binary16 (f16round); only
// multiplications (correctly rounded in WGSL) of normal numbers and
// round() (to nearest even) use the float unit.

const F127 = 0x42fe0000u; // bits of 127.0
const F1 = 0x3f800000u; // bits of 1.0
const FINF = 0x7f800000u;

// mant24 returns the significand of the finite nonzero magnitude bits b
// scaled into [2^23, 2^24) and its biased exponent (subnormals
// normalised, so the exponent may be below 1).
fn mant24(b: u32) -> vec2<i32> {
  let m = b & 0x7fffffu;
  let e = i32(b >> 23u);
  if (e == 0) {
    let s = countLeadingZeros(m) - 8u;
    return vec2<i32>(i32(m << s), 1 - i32(s));
  }
  return vec2<i32>(i32(m | 0x800000u), e);
}

// fdiv returns the bits of a / b rounded to nearest even, subnormal
// results included, for finite nonzero magnitudes a and b (sign bits
// clear): 24 steps of restoring division of the significands.
fn fdiv(a: u32, b: u32) -> u32 {
  let ua = mant24(a);
  let ub = mant24(b);
  var ma = u32(ua.x);
  let mb = u32(ub.x);
  var e = ua.y - ub.y + 127;
  if (ma < mb) {
    ma = ma << 1u;
    e = e - 1;
  }
  // q = floor(ma/mb · 2^23) in [2^23, 2^24); r ends as twice the remainder.
  var r = ma;
  var q = 0u;
  for (var k = 0u; k < 24u; k = k + 1u) {
    q = q << 1u;
    if (r >= mb) {
      r = r - mb;
      q = q | 1u;
    }
    r = r << 1u;
  }
  if (e >= 255) {
    return FINF;
  }
  if (e >= 1) {
    if (r > mb || (r == mb && (q & 1u) == 1u)) {
      q = q + 1u;
      if (q == 0x1000000u) {
        q = 0x800000u;
        e = e + 1;
        if (e >= 255) {
          return FINF;
        }
      }
    }
    return (u32(e) << 23u) | (q & 0x7fffffu);
  }
  // Subnormal: q·2^(e-150) in units of 2^-149 is q shifted right 1-e.
  let s = u32(1 - e);
  if (s > 24u) {
    return 0u;
  }
  let qs = q >> s;
  let rem = q & ((1u << s) - 1u);
  let half = 1u << (s - 1u);
  if (rem > half || (rem == half && (r != 0u || (qs & 1u) == 1u))) {
    return qs + 1u;
  }
  return qs;
}

// f16round returns the bits of the non-negative float b rounded to
// binary16 (to nearest even, as tensor.F32ToF16) and widened back.
fn f16round(b: u32) -> u32 {
  let exp = i32((b >> 23u) & 0xffu);
  let mant = b & 0x7fffffu;
  if (exp == 255) {
    return b;
  }
  let e = exp - 112;
  if (e >= 31) {
    return FINF;
  }
  if (e <= 0) {
    if (e < -10) {
      return 0u;
    }
    let m = mant | 0x800000u;
    let shift = u32(14 - e);
    var r = m >> shift;
    let rem = m & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u) == 1u)) {
      r = r + 1u;
    }
    // r units of 2^-24: exact, and normal in f32.
    return bitcast<u32>(f32(r) * bitcast<f32>(0x33800000u));
  }
  var h = (u32(e) << 10u) | (mant >> 13u);
  let rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) {
    h = h + 1u;
  }
  if ((h >> 10u) >= 31u) {
    return FINF;
  }
  return (((h >> 10u) + 112u) << 23u) | ((h & 0x3ffu) << 13u);
}

// qround returns nearest-even(v·s) for the bits of an activation v and of
// a finite nonzero scale s, as the CPU's float32 product and rounding give
// it. A subnormal v (which a device may flush) is scaled up by 2^24 and s
// down by 2^24, exactly, while the product matters. A zero or infinite s
// (from an infinite or tiny block maximum) gives 0, as ggml's rounding of
// the NaN or infinite products does.
fn qround(v: u32, s: u32) -> i32 {
  let sm = s & 0x7fffffffu;
  if (sm == 0u || sm >= FINF) {
    return 0;
  }
  if ((v & 0x7f800000u) != 0u) {
    return i32(round(bitcast<f32>(v) * bitcast<f32>(s)));
  }
  let p = (f32(v & 0x7fffffu) * bitcast<f32>(0x01000000u)) * (bitcast<f32>(sm) * bitcast<f32>(0x33800000u));
  return i32(round(select(p, -p, ((v ^ s) >> 31u) == 1u)));
}

// pack4 packs four int8 values into a word, the first in the low byte.
fn pack4(a: i32, b: i32, c: i32, d: i32) -> u32 {
  return (u32(a) & 0xffu) | ((u32(b) & 0xffu) << 8u) | ((u32(c) & 0xffu) << 16u) | ((u32(d) & 0xffu) << 24u);
}

// s8x4 sign-extends the four bytes of w.
fn s8x4(w: u32) -> vec4<i32> {
  return vec4<i32>(i32(w << 24u) >> 24u, i32(w << 16u) >> 24u, i32(w << 8u) >> 24u, i32(w) >> 24u);
}

// u8x4 zero-extends the four bytes of w.
fn u8x4(w: u32) -> vec4<i32> {
  return vec4<i32>(i32(w & 0xffu), i32((w >> 8u) & 0xffu), i32((w >> 16u) & 0xffu), i32(w >> 24u));
}

// 64-bit unsigned integers as vec2<u32>(low, high) for fmaExact. WGSL
// takes shift counts modulo 32, so shifts of 32 or more are spelt out.

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// sub64 returns a - b for a >= b.
fn sub64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}

fn ge64(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.y > b.y || (a.y == b.y && a.x >= b.x);
}

fn clz64(a: vec2<u32>) -> u32 {
  if (a.y != 0u) {
    return countLeadingZeros(a.y);
  }
  return 32u + countLeadingZeros(a.x);
}

fn shl64(a: vec2<u32>, s: u32) -> vec2<u32> {
  if (s == 0u) {
    return a;
  }
  if (s >= 64u) {
    return vec2<u32>(0u, 0u);
  }
  if (s >= 32u) {
    return vec2<u32>(0u, a.x << (s - 32u));
  }
  return vec2<u32>(a.x << s, (a.y << s) | (a.x >> (32u - s)));
}

// shrJam shifts right by s and ors whatever was shifted out into bit 0
// (a sticky bit, enough for rounding with two guard bits to spare).
fn shrJam(a: vec2<u32>, s: u32) -> vec2<u32> {
  if (s == 0u) {
    return a;
  }
  if (s >= 64u) {
    return vec2<u32>(select(0u, 1u, (a.x | a.y) != 0u), 0u);
  }
  var r: vec2<u32>;
  var lost: u32;
  if (s > 32u) {
    let t = s - 32u;
    r = vec2<u32>(a.y >> t, 0u);
    lost = a.x | (a.y << (32u - t));
  } else if (s == 32u) {
    r = vec2<u32>(a.y, 0u);
    lost = a.x;
  } else {
    r = vec2<u32>((a.x >> s) | (a.y << (32u - s)), a.y >> s);
    lost = a.x << (32u - s);
  }
  return vec2<u32>(r.x | select(0u, 1u, lost != 0u), r.y);
}

// i2f converts l to f32 rounding to nearest even, as Go's float32(int32)
// does (WGSL leaves the direction of an inexact conversion to the device).
fn i2f(l: i32) -> f32 {
  let a = u32(abs(l));
  if (a < 0x1000000u) {
    return f32(l);
  }
  let s = 8u - countLeadingZeros(a);
  var m = a >> s;
  let rem = a & ((1u << s) - 1u);
  let half = 1u << (s - 1u);
  if (rem > half || (rem == half && (m & 1u) == 1u)) {
    m = m + 1u;
  }
  let v = f32(m) * bitcast<f32>((127u + s) << 23u);
  return select(v, -v, l < 0);
}

// fmaExact returns a·b + c with one rounding (to nearest even), in
// integer arithmetic: a device's fma() may round twice (Mesa's llvmpipe
// does), while the CPU's kernels, like ggml's, fuse. Subnormal operands
// and results are exact too (a device may flush them, and the k-quants'
// scales of tiny activation blocks are subnormal); infinite and NaN
// operands, and a zero factor or addend, take the float unit.
fn fmaExact(a: f32, b: f32, c: f32) -> f32 {
  let ab = bitcast<u32>(a);
  let bb = bitcast<u32>(b);
  let cb = bitcast<u32>(c);
  let am = ab & 0x7fffffffu;
  let bm = bb & 0x7fffffffu;
  let cm = cb & 0x7fffffffu;
  if (am >= FINF || bm >= FINF || cm >= FINF) {
    return a * b + c;
  }
  if (am == 0u || bm == 0u) {
    if (cm == 0u) {
      return a * b + c;
    }
    return c;
  }
  // The exact product of the significands (48 bits) from 16-bit halves,
  // times 2^(ea+eb-300).
  let ua = mant24(am);
  let ub = mant24(bm);
  let ma = u32(ua.x);
  let mb = u32(ub.x);
  let mid = (ma >> 16u) * (mb & 0xffffu) + (mb >> 16u) * (ma & 0xffffu);
  var p = add64(vec2<u32>((ma & 0xffffu) * (mb & 0xffffu), (ma >> 16u) * (mb >> 16u)), vec2<u32>(mid << 16u, mid >> 16u));
  var ep = ua.y + ub.y - 300;
  // Both with their top bit at bit 62.
  let sp = clz64(p) - 1u;
  p = shl64(p, sp);
  ep = ep - i32(sp);
  let negp = ((ab ^ bb) >> 31u) == 1u;
  let negq = (cb >> 31u) == 1u;
  var big = p;
  var small = vec2<u32>(0u, 0u);
  var e = ep;
  var neg = negp;
  var diff = 64;
  if (cm != 0u) {
    let uc = mant24(cm);
    let q = shl64(vec2<u32>(u32(uc.x), 0u), 39u);
    let eq = uc.y - 150 - 39;
    // The larger magnitude keeps its exponent; the other is aligned to it.
    small = q;
    diff = ep - eq;
    if (eq > ep || (eq == ep && ge64(q, p))) {
      big = q;
      small = p;
      e = eq;
      neg = negq;
      diff = eq - ep;
    }
  }
  small = shrJam(small, u32(min(diff, 64)));
  var r: vec2<u32>;
  if (negp == negq || cm == 0u) {
    r = add64(big, small);
  } else {
    r = sub64(big, small);
  }
  if ((r.x | r.y) == 0u) {
    return 0.0;
  }
  // 26 bits: 24 of significand, a guard bit and a sticky bit.
  let z = i32(clz64(r));
  let sh = 38 - z;
  var v: u32;
  if (sh > 0) {
    v = shrJam(r, u32(sh)).x;
  } else {
    v = shl64(r, u32(-sh)).x;
  }
  var ex = e + sh + 152;
  if (ex < 1) {
    // Subnormal: fewer significand bits, at exponent 1.
    v = shrJam(vec2<u32>(v, 0u), u32(min(1 - ex, 64))).x;
    ex = 1;
  }
  var sig = v >> 2u;
  if ((v & 2u) != 0u && ((v & 1u) != 0u || (sig & 1u) != 0u)) {
    sig = sig + 1u;
  }
  // The implicit bit (if any) carries into the exponent field, as does a
  // rounding up to the next power of two.
  var bits = (u32(ex - 1) << 23u) + sig;
  if (ex >= 255 || bits >= FINF) {
    bits = FINF;
  }
  return bitcast<f32>(select(0u, 0x80000000u, neg) | bits);
}

// fmul returns a·b correctly rounded, subnormal results included, for
// finite a and b: the float unit where the result is surely normal, else
// fmaExact.
fn fmul(a: f32, b: f32) -> f32 {
  let ae = i32((bitcast<u32>(a) >> 23u) & 0xffu);
  let be = i32((bitcast<u32>(b) >> 23u) & 0xffu);
  if (ae != 0 && be != 0 && ae + be - 127 >= 1) {
    return a * b;
  }
  return fmaExact(a, b, 0.0);
}
