// Element decoding for GGUF weights kept in their block formats, read as
// u32 words through byte addresses (rows need not start on a word). Not a
// kernel: kernels that declare the storage array wq include it.
//
// Type codes are ggml's: 0 F32, 1 F16, 2 Q4_0, 8 Q8_0, 12 Q4_K, 14 Q6_K.

fn qbyte(off: u32) -> u32 {
  return (wq[off >> 2u] >> ((off & 3u) * 8u)) & 0xffu;
}

fn qhalf(off: u32) -> f32 {
  return unpack2x16float(qbyte(off) | (qbyte(off + 1u) << 8u)).x;
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

// dq returns element c of the row whose blocks start at byte row.
fn dq(t: u32, row: u32, c: u32) -> f32 {
  switch t {
    case 0u: {
      return bitcast<f32>(wq[(row >> 2u) + c]);
    }
    case 1u: {
      return qhalf(row + 2u * c);
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
