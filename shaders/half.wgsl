// Rounding of f32 values to the half-precision storage types, done on the
// bits so that the result is exact whatever the device's float rounding
// and subnormal handling (WGSL leaves pack2x16float's rounding and
// overflow to the implementation). Each takes and returns f32 bits: the
// half value widened back to f32. Not a kernel: kernels include it.

// round_f16 rounds to IEEE binary16, nearest with ties to even: too large
// becomes an infinity, tiny values become subnormals or zero, and a NaN
// stays a quiet NaN with its sign and the top of its payload (F16C's
// behaviour, and the CPU backend's).
fn round_f16(x: u32) -> u32 {
  let sign = x & 0x80000000u;
  let a = x & 0x7fffffffu;
  if (a > 0x7f800000u) {
    return sign | 0x7fc00000u | (a & 0x007fe000u);
  }
  let e = a >> 23u;
  if (e >= 113u) {
    // Normal in f16: keep 10 mantissa bits; a carry bumps the exponent.
    let r = (a + 0xfffu + ((a >> 13u) & 1u)) & 0xffffe000u;
    if (r >= 0x47800000u) {
      return sign | 0x7f800000u;
    }
    return sign | r;
  }
  if (e < 102u) {
    return sign; // below half the least subnormal (2^-25)
  }
  // Subnormal in f16: a multiple q of 2^-24, q ≤ 1024 (q = 1024 is the
  // least normal, reached by rounding up).
  let m = (a & 0x7fffffu) | 0x800000u;
  let s = 126u - e;
  var q = m >> s;
  let rem = m & ((1u << s) - 1u);
  let half = 1u << (s - 1u);
  if (rem > half || (rem == half && (q & 1u) == 1u)) {
    q = q + 1u;
  }
  return sign | bitcast<u32>(f32(q) * 5.9604644775390625e-8);
}

// round_bf16 rounds to bfloat16 as ggml does: nearest with ties to even,
// subnormals kept, a NaN truncated with its quiet bit forced on.
fn round_bf16(x: u32) -> u32 {
  if ((x & 0x7fffffffu) > 0x7f800000u) {
    return (x & 0xffff0000u) | 0x00400000u;
  }
  return (x + 0x7fffu + ((x >> 16u) & 1u)) & 0xffff0000u;
}

// f32_to_f16 converts f32 bits to binary16 bits (in the low half), with
// round_f16's rounding: tensor.F32ToF16 bit for bit.
fn f32_to_f16(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let exp = i32((b >> 23u) & 0xffu);
  let mant = b & 0x7fffffu;
  if (exp == 0xff) {
    if (mant != 0u) {
      return sign | 0x7e00u | (mant >> 13u);
    }
    return sign | 0x7c00u;
  }
  let e = exp - 112;
  if (e >= 0x1f) {
    return sign | 0x7c00u;
  }
  if (e <= 0) {
    if (e < -10) {
      return sign;
    }
    let m = mant | 0x800000u;
    let s = u32(14 - e);
    var q = m >> s;
    let rem = m & ((1u << s) - 1u);
    let half = 1u << (s - 1u);
    if (rem > half || (rem == half && (q & 1u) == 1u)) {
      q = q + 1u;
    }
    return sign | q;
  }
  // A carry out of the mantissa bumps the exponent, up to infinity.
  var r = (u32(e) << 10u) | (mant >> 13u);
  let rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u) == 1u)) {
    r = r + 1u;
  }
  return sign | r;
}

// f16_to_f32 widens binary16 bits (the low half of h) to f32 bits
// exactly; a NaN stays quiet with its payload (tensor.F16ToF32).
fn f16_to_f32(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let exp = (h >> 10u) & 0x1fu;
  var mant = h & 0x3ffu;
  if (exp == 0x1fu) {
    if (mant != 0u) {
      return sign | 0x7fc00000u | (mant << 13u);
    }
    return sign | 0x7f800000u;
  }
  if (exp != 0u) {
    return sign | ((exp + 112u) << 23u) | (mant << 13u);
  }
  if (mant == 0u) {
    return sign;
  }
  // Subnormal: shift the leading one into the hidden-bit position.
  let shift = 10u - firstLeadingBit(mant);
  mant = mant << shift;
  return sign | ((113u - shift) << 23u) | ((mant & 0x3ffu) << 13u);
}
