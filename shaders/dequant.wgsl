// Element decoding for GGUF weights kept in their block formats, read as
// u32 words through byte addresses (rows need not start on a word). Not a
// kernel: kernels that declare the storage array wq include it.
//
// Type codes are ggml's: 0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 6 Q5_0, 7 Q5_1,
// 8 Q8_0, 10 Q2_K, 11 Q3_K, 12 Q4_K, 13 Q5_K, 14 Q6_K, 20 IQ4_NL,
// 30 BF16. Each element is computed with the float operations, in the
// order, of llm/quant's dequantisers, so the values have their bits.

// IQ4 is ggml's kvalues_iq4nl, IQ4_NL's 16 levels.
var<private> IQ4: array<i32, 16> = array<i32, 16>(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);

fn qbyte(off: u32) -> u32 {
  return (wq[off >> 2u] >> ((off & 3u) * 8u)) & 0xffu;
}

fn qhalf(off: u32) -> f32 {
  return unpack2x16float(qbyte(off) | (qbyte(off + 1u) << 8u)).x;
}

// f16bits returns the f32 bits of the binary16 h as tensor.F16ToF32
// gives them, in integer arithmetic (unpack2x16float may flush a
// subnormal half): a subnormal is m·2^-24, exact and normal in f32; a NaN
// is quieted.
fn f16bits(h: u32) -> u32 {
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  var b = ((e + 112u) << 23u) | (m << 13u);
  if (e == 0u) {
    b = bitcast<u32>(f32(m) * bitcast<f32>(0x33800000u));
  } else if (e == 31u) {
    b = 0x7f800000u | select(0u, 0x400000u | (m << 13u), m != 0u);
  }
  return b | ((h & 0x8000u) << 16u);
}

fn qsigned(off: u32) -> i32 {
  return i32(qbyte(off) << 24u) >> 24u;
}

// scaleMin unpacks sub-block j's 6-bit scale and min from the 12 scale
// bytes of a Q4_K block starting at s.
fn scaleMin(s: u32, j: u32) -> vec2<u32> {
  if (j < 4u) {
    return vec2<u32>(qbyte(s + j) & 63u, qbyte(s + j + 4u) & 63u);
  }
  let sc = (qbyte(s + j + 4u) & 0xfu) | ((qbyte(s + j - 4u) >> 6u) << 4u);
  let mn = (qbyte(s + j + 4u) >> 4u) | ((qbyte(s + j) >> 6u) << 4u);
  return vec2<u32>(sc, mn);
}

// q3Scale unpacks Q3_K's signed 6-bit scale j from the 12 scale bytes at
// s: four low bits from byte j%8 (the high nibble for j >= 8), two high
// bits from byte 8 + j%4.
fn q3Scale(s: u32, j: u32) -> i32 {
  let lo = (qbyte(s + j % 8u) >> (4u * (j / 8u))) & 15u;
  let hi = (qbyte(s + 8u + j % 4u) >> (2u * (j / 4u))) & 3u;
  return i32(lo | (hi << 4u)) - 32;
}

// nib32 returns the 4-bit value of element j of a 32-value block whose 16
// nibble bytes start at q: the low nibbles are elements 0-15.
fn nib32(q: u32, j: u32) -> u32 {
  let b = qbyte(q + j % 16u);
  return select(b & 0xfu, b >> 4u, j >= 16u);
}

// bit5 returns bit j of the little-endian 32-bit qh at byte h (the fifth
// bit of element j of a Q5_0 or Q5_1 block).
fn bit5(h: u32, j: u32) -> u32 {
  return (qbyte(h + j / 8u) >> (j % 8u)) & 1u;
}

// dq returns element c of the row whose blocks start at byte row.
fn dq(t: u32, row: u32, c: u32) -> f32 {
  switch t {
    case 0u: {
      return bitcast<f32>(wq[(row >> 2u) + c]);
    }
    case 1u: {
      return bitcast<f32>(f16bits(qbyte(row + 2u * c) | (qbyte(row + 2u * c + 1u) << 8u)));
    }
    case 30u: {
      // BF16: the top half of an f32.
      return bitcast<f32>((qbyte(row + 2u * c) | (qbyte(row + 2u * c + 1u) << 8u)) << 16u);
    }
    case 2u: {
      // Q4_0: 32 values per 18 bytes: f16 scale, then nibbles, the low
      // ones first.
      let b = row + (c / 32u) * 18u;
      let j = c % 32u;
      let q = qbyte(b + 2u + j % 16u);
      let nib = select(q & 0xfu, q >> 4u, j >= 16u);
      return qhalf(b) * (f32(nib) - 8.0);
    }
    case 3u: {
      // Q4_1: 32 values per 20 bytes: f16 scale d and min m, nibbles as
      // Q4_0; q·d + m.
      let b = row + (c / 32u) * 20u;
      return f32(nib32(b + 4u, c % 32u)) * qhalf(b) + qhalf(b + 2u);
    }
    case 6u: {
      // Q5_0: 32 values per 22 bytes: f16 scale, 32 fifth bits, nibbles.
      let b = row + (c / 32u) * 22u;
      let j = c % 32u;
      return f32(i32(nib32(b + 6u, j) | (bit5(b + 2u, j) << 4u)) - 16) * qhalf(b);
    }
    case 7u: {
      // Q5_1: 32 values per 24 bytes: f16 d and m, fifth bits, nibbles.
      let b = row + (c / 32u) * 24u;
      let j = c % 32u;
      return f32(nib32(b + 8u, j) | (bit5(b + 4u, j) << 4u)) * qhalf(b) + qhalf(b + 2u);
    }
    case 20u: {
      // IQ4_NL: as Q4_0's layout, the nibbles index the IQ4 levels.
      let b = row + (c / 32u) * 18u;
      return qhalf(b) * f32(IQ4[nib32(b + 2u, c % 32u)]);
    }
    case 10u: {
      // Q2_K: 256 values per 84 bytes: 16 bytes of 4-bit scale and min
      // per 16 values, 64 bytes of 2-bit values, f16 d and dmin. Element
      // e is bits 2·((e/32)%4) of byte 32·(e/128) + e%32.
      let b = row + (c / 256u) * 84u;
      let e = c % 256u;
      let sc = qbyte(b + e / 16u);
      let q = (qbyte(b + 16u + 32u * (e / 128u) + e % 32u) >> (2u * ((e / 32u) % 4u))) & 3u;
      return qhalf(b + 80u) * f32(sc & 15u) * f32(q) - qhalf(b + 82u) * f32(sc >> 4u);
    }
    case 11u: {
      // Q3_K: 256 values per 110 bytes: 32 bytes of high bits (a clear
      // bit e/32 of byte e%32 lowers element e by 4), 64 bytes of 2-bit
      // values laid out as Q2_K's, 12 bytes of 6-bit scales, f16 d.
      let b = row + (c / 256u) * 110u;
      let e = c % 256u;
      let q = (qbyte(b + 32u + 32u * (e / 128u) + e % 32u) >> (2u * ((e / 32u) % 4u))) & 3u;
      let h = (qbyte(b + e % 32u) >> (e / 32u)) & 1u;
      return qhalf(b + 108u) * f32(q3Scale(b + 96u, e / 16u)) * f32(i32(q) - 4 + 4 * i32(h));
    }
    case 13u: {
      // Q5_K: 256 values per 176 bytes: as Q4_K (d, dmin, 12 scale
      // bytes) with 32 bytes of fifth bits (bit e/32 of byte e%32) before
      // the 128 of nibbles.
      let b = row + (c / 256u) * 176u;
      let e = c % 256u;
      let sm = scaleMin(b + 4u, e / 32u);
      let q = qbyte(b + 48u + (e / 64u) * 32u + e % 32u);
      let nib = select(q & 0xfu, q >> 4u, ((e % 64u) / 32u) == 1u);
      let h = (qbyte(b + 16u + e % 32u) >> (e / 32u)) & 1u;
      return qhalf(b) * f32(sm.x) * f32(nib | (h << 4u)) - qhalf(b + 2u) * f32(sm.y);
    }
    case 8u: {
      // Q8_0: 32 values per 34 bytes: f16 scale, then int8 values.
      let b = row + (c / 32u) * 34u;
      return qhalf(b) * f32(qsigned(b + 2u + c % 32u));
    }
    case 12u: {
      // Q4_K: 256 values per 144 bytes: f16 d and dmin, 12 bytes of
      // 6-bit scales and mins, 128 bytes of nibbles in 64-value chunks.
      let b = row + (c / 256u) * 144u;
      let e = c % 256u;
      let chunk = e / 64u;
      let hi = (e % 64u) / 32u;
      let sm = scaleMin(b + 4u, 2u * chunk + hi);
      let q = qbyte(b + 16u + chunk * 32u + e % 32u);
      let nib = select(q & 0xfu, q >> 4u, hi == 1u);
      return qhalf(b) * f32(sm.x) * f32(nib) - qhalf(b + 2u) * f32(sm.y);
    }
    case 14u: {
      // Q6_K: 256 values per 210 bytes: 128 bytes of low nibbles, 64 of
      // high 2-bit pairs, 16 int8 scales, f16 d; two halves of 128.
      let b = row + (c / 256u) * 210u;
      let e = c % 256u;
      let n = e / 128u;
      let quarter = (e % 128u) / 32u;
      let l = e % 32u;
      let ql = qbyte(b + n * 64u + l + select(0u, 32u, quarter == 1u || quarter == 3u));
      let low = select(ql & 0xfu, ql >> 4u, quarter >= 2u);
      let h = (qbyte(b + 128u + n * 32u + l) >> (2u * quarter)) & 3u;
      let sc = qsigned(b + 192u + n * 8u + l / 16u + 2u * quarter);
      return qhalf(b + 208u) * f32(sc) * f32(i32(low | (h << 4u)) - 32);
    }
    default: {
      return 0.0;
    }
  }
}
