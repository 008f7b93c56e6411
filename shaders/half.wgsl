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
