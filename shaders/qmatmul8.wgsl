// Product of activations x [n, cols] with the transpose of a quantized
// weight [rows, cols] as the CPU backend (and llama.cpp's) computes it:
// each activation row is quantised to 8-bit blocks (32 values and an f16
// scale, and for Q4_1 and Q5_1 Q8_1's f16 d·Σq, for the 32-value formats;
// 256 values and an f32 scale for the k-quants), every block's dot
// product with the weight block is exact in i32, and the block results,
// scaled by the two scales, are added in float in the order of qdot's
// generic kernels:
//   - Q8_0, Q4_1, Q5_0, Q5_1, Q3_K, Q5_K and Q6_K: eight lanes of four
//     elements per 32 (ggml's AVX2 integer sums), each fused-multiply-added
//     (fmaExact: one rounding on every device) into its own sum, then
//     ggml's pairwise lane sum; Q4_1's, Q5_1's and Q5_K's min terms go to
//     a separate sum, one fused multiply-add per block, added last;
//   - Q4_0 and IQ4_NL: one fused multiply-add of each block's whole dot
//     product into one sum (llama.cpp's repacked 8x8 gemv);
//   - Q2_K: each block's scaled and min integer sums fused-multiply-added
//     into two sums (the q2_K_8x8 gemv), their difference last;
//   - Q4_K: one running sum of each block's scaled terms.
// The k-quants' products of two scales go through fmul, exact where they
// are subnormal (tiny activation blocks). On llvmpipe the results have
// the CPU's bits.
//
// Not a kernel: each qmatmul8_<type> kernel includes it (after dequant and
// quantact), sets the constant QT to its type's code and calls q8main, so
// that the compiler drops the other formats' paths (llvmpipe runs every
// branch under a mask: one kernel for all formats ran 50-90% slower).
//
// A workgroup takes one activation row and eight weight rows (invocation
// 8·rr + k: row rr, lane or block k). It quantises the activations in
// chunks of 2048 values into workgroup memory, which the eight rows share.
//
// meta: 0 outputs (n·rows), 1 rows, 2 cols (a multiple of the block), 3
// type (ggml's code, as in dequant; the kernel's QT is used), 4 row
// bytes, 5 zero (a 0 the compiler cannot see).
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wq: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const CHUNK = 2048u;

var<workgroup> aq: array<u32, 512>; // the chunk's quants, four to a word
var<workgroup> ad: array<u32, 64>; // scale bits per 32 values (Q8_0) or 256 (Q8_K)
var<workgroup> ams: array<u32, 64>; // Q8_1's s bits per 32 values (Q4_1, Q5_1)
var<workgroup> amx: array<vec2<u32>, 64>; // Q8_K: per 32 values, |max| bits and the max's bits
var<workgroup> isc: array<u32, 8>; // Q8_K: the scale the quants are made with, per 256
var<workgroup> ints: array<vec2<i32>, 64>; // Q4_K, Q2_K: a block's scaled integer sums
var<workgroup> bints: array<i32, 512>; // Q4_0, IQ4_NL: the blocks' integer dot products, 64 per row
var<workgroup> lanes: array<f32, 64>;

// qword reads four weight bytes at any byte offset.
fn qword(off: u32) -> u32 {
  let s = (off & 3u) * 8u;
  let lo = wq[off >> 2u];
  if (s == 0u) {
    return lo;
  }
  return (lo >> s) | (wq[(off >> 2u) + 1u] << (32u - s));
}

// quant32 quantises the 32 activations at x[off] as qdot's quantBlock32
// into unit u of the chunk, with Q8_1's s: the unrounded scale times the
// sum of the quants, rounded to binary16 (NaN for an infinite scale, as
// the CPU's ∞·0).
fn quant32(off: u32, u: u32) {
  var amax = 0u;
  for (var j = 0u; j < 32u; j = j + 1u) {
    let a = bitcast<u32>(x[off + j]) & 0x7fffffffu;
    if (a > amax && a <= FINF) {
      amax = a;
    }
  }
  var d = 0u;
  var id = 0u;
  if (amax == FINF) {
    d = FINF;
  } else if (amax != 0u) {
    d = fdiv(amax, F127);
    id = fdiv(F127, amax);
  }
  ad[u] = f16round(d);
  var sum = 0;
  for (var w = 0u; w < 8u; w = w + 1u) {
    let o = off + 4u * w;
    let q = vec4<i32>(qround(bitcast<u32>(x[o]), id), qround(bitcast<u32>(x[o + 1u]), id),
      qround(bitcast<u32>(x[o + 2u]), id), qround(bitcast<u32>(x[o + 3u]), id));
    sum = sum + q.x + q.y + q.z + q.w;
    aq[8u * u + w] = pack4(q.x, q.y, q.z, q.w);
  }
  // A subnormal d (which a device may flush) makes |d·sum| < 2^-25,
  // which rounds to a zero binary16 anyway.
  var ms = 0u;
  if (d == FINF) {
    ms = 0x7fc00000u;
  } else if ((d >> 23u) != 0u) {
    ms = f16round(bitcast<u32>(bitcast<f32>(d) * f32(sum)) & 0x7fffffffu);
  }
  ams[u] = ms | select(0u, 0x80000000u, sum < 0);
}

// maxK finds the activation of largest magnitude among the 32 at x[off],
// the first of equals, as qdot's quantBlockK scans.
fn maxK(off: u32) -> vec2<u32> {
  var amax = 0u;
  var v = 0u;
  for (var j = 0u; j < 32u; j = j + 1u) {
    let b = bitcast<u32>(x[off + j]);
    let a = b & 0x7fffffffu;
    if (amax < a && a <= FINF) {
      amax = a;
      v = b;
    }
  }
  return vec2<u32>(amax, v);
}

// scaleK sets the scales of the 256 activations whose eight maxima start
// at amx[u]: iscale = -127/max (quants round iscale·x) and d = 1/iscale.
fn scaleK(u: u32) {
  var mx = amx[u];
  for (var j = 1u; j < 8u; j = j + 1u) {
    if (mx.x < amx[u + j].x) {
      mx = amx[u + j];
    }
  }
  let neg = (mx.y & 0x80000000u) ^ 0x80000000u;
  var mag = 0u;
  var d = 0u;
  if (mx.x == FINF) {
    d = FINF;
  } else if (mx.x != 0u) {
    mag = fdiv(F127, mx.x);
    if (mag == FINF) {
      d = 0u;
    } else {
      d = fdiv(F1, mag);
    }
  }
  isc[u / 8u] = mag | neg;
  ad[u / 8u] = select(d | neg, 0u, mx.x == 0u);
}

// quantK quantises the 32 activations at x[off] with the scale s into
// unit u, capping at 127 as ggml does.
fn quantK(off: u32, u: u32, s: u32) {
  for (var w = 0u; w < 8u; w = w + 1u) {
    let o = off + 4u * w;
    aq[8u * u + w] = pack4(min(127, qround(bitcast<u32>(x[o]), s)), min(127, qround(bitcast<u32>(x[o + 1u]), s)),
      min(127, qround(bitcast<u32>(x[o + 2u]), s)), min(127, qround(bitcast<u32>(x[o + 3u]), s)));
  }
}

// lane8 returns lane k's integer sum (elements 4k..4k+3) of unit u's
// Q8_0 weight block at byte blk.
fn lane8(blk: u32, u: u32, k: u32) -> i32 {
  return dot(s8x4(qword(blk + 2u + 4u * k)), s8x4(aq[8u * u + k]));
}

// hbits spreads bits 4k..4k+3 of a 32-value block's fifth bits qh to the
// low bits of four bytes.
fn hbits(qh: u32, k: u32) -> u32 {
  let h = qh >> (4u * k);
  return (h & 1u) | ((h & 2u) << 7u) | ((h & 4u) << 14u) | ((h & 8u) << 21u);
}

// lane32 returns lane k's integer sum (elements 4k..4k+3) of unit u's
// weight block of type t at byte blk: Q4_1 (unsigned nibbles), Q5_0
// (nibble and fifth bit, less 16), Q5_1 (nibble and fifth bit) or Q8_0.
fn lane32(t: u32, blk: u32, u: u32, k: u32) -> i32 {
  let xq = s8x4(aq[8u * u + k]);
  // Elements 0-15 are the low nibbles of the 16 bytes, 16-31 the high.
  let sh = 4u * (k / 4u);
  switch t {
    case 3u: {
      return dot(u8x4((qword(blk + 4u + 4u * (k % 4u)) >> sh) & 0x0f0f0f0fu), xq);
    }
    case 6u: {
      let v = ((qword(blk + 6u + 4u * (k % 4u)) >> sh) & 0x0f0f0f0fu) | (hbits(qword(blk + 2u), k) << 4u);
      return dot(u8x4(v) - vec4<i32>(16), xq);
    }
    case 7u: {
      let v = ((qword(blk + 8u + 4u * (k % 4u)) >> sh) & 0x0f0f0f0fu) | (hbits(qword(blk + 4u), k) << 4u);
      return dot(u8x4(v), xq);
    }
    default: {
      return lane8(blk, u, k);
    }
  }
}

// iq4x4 maps the four nibbles in the low bits of w's bytes to their IQ4
// levels.
fn iq4x4(w: u32) -> vec4<i32> {
  return vec4<i32>(IQ4[w & 0xfu], IQ4[(w >> 8u) & 0xfu], IQ4[(w >> 16u) & 0xfu], IQ4[(w >> 24u) & 0xfu]);
}

// blockIQ4NL returns the integer dot product of the IQ4_NL block at byte
// blk with unit u (Q4_0's layout, the nibbles indexing the IQ4 levels).
fn blockIQ4NL(blk: u32, u: u32) -> i32 {
  var s = 0;
  for (var w = 0u; w < 4u; w = w + 1u) {
    let b = qword(blk + 2u + 4u * w);
    s = s + dot(iq4x4(b & 0x0f0f0f0fu), s8x4(aq[8u * u + w]));
    s = s + dot(iq4x4((b >> 4u) & 0x0f0f0f0fu), s8x4(aq[8u * u + 4u + w]));
  }
  return s;
}

// blockQ2K returns Q2_K block blk's Σ sc·dot and Σ m·Σq over its sixteen
// 16-value sub-blocks with the chunk's 256 quants from word a.
fn blockQ2K(blk: u32, a: u32) -> vec2<i32> {
  var isum = 0;
  var msum = 0;
  for (var j = 0u; j < 16u; j = j + 1u) {
    let shift = 2u * ((j / 2u) % 4u);
    let q = blk + 16u + 32u * (j / 8u) + 16u * (j % 2u);
    var dotv = 0;
    var qs = 0;
    for (var w = 0u; w < 4u; w = w + 1u) {
      let xq = s8x4(aq[a + 4u * j + w]);
      dotv = dotv + dot(u8x4((qword(q + 4u * w) >> shift) & 0x03030303u), xq);
      qs = qs + dot(xq, vec4<i32>(1));
    }
    let sc = qbyte(blk + j);
    isum = isum + i32(sc & 15u) * dotv;
    msum = msum + i32(sc >> 4u) * qs;
  }
  return vec2<i32>(isum, msum);
}

// laneQ3K returns lane k's integer sum of Q3_K block blk with the quants
// from word a, as qdot's Go kernel (ggml's AVX2 lanes): elements
// 4k..4k+3 of each 32-value group g, in -4..3, times their sub-block's
// scale.
fn laneQ3K(blk: u32, a: u32, k: u32) -> i32 {
  let hm = qword(blk + 4u * k);
  var s = 0;
  for (var g = 0u; g < 8u; g = g + 1u) {
    let lo = (qword(blk + 32u + 32u * (g / 4u) + 4u * k) >> (2u * (g % 4u))) & 0x03030303u;
    let v = u8x4(lo | (((hm >> g) & 0x01010101u) << 2u)) - vec4<i32>(4);
    s = s + q3Scale(blk + 96u, 2u * g + k / 4u) * dot(v, s8x4(aq[a + 8u * g + k]));
  }
  return s;
}

// laneQ5K returns lane k's integer sum of Q5_K block blk with the quants
// from word a, as qdot's Go kernel: elements 4k..4k+3 of each 32-value
// sub-block (nibble and fifth bit) times its scale.
fn laneQ5K(blk: u32, a: u32, k: u32) -> i32 {
  let hb = qword(blk + 16u + 4u * k);
  var s = 0;
  for (var j = 0u; j < 8u; j = j + 1u) {
    let lo = (qword(blk + 48u + 32u * (j / 2u) + 4u * k) >> (4u * (j % 2u))) & 0x0f0f0f0fu;
    let v = u8x4(lo | (((hb >> j) & 0x01010101u) << 4u));
    s = s + i32(scaleMin(blk + 4u, j).x) * dot(v, s8x4(aq[a + 8u * j + k]));
  }
  return s;
}

// minsQ5K returns Q5_K block blk's Σ m·Σq over its eight sub-blocks with
// the quants from word a.
fn minsQ5K(blk: u32, a: u32) -> i32 {
  var s = 0;
  for (var j = 0u; j < 8u; j = j + 1u) {
    var qs = 0;
    for (var w = 0u; w < 8u; w = w + 1u) {
      qs = qs + dot(s8x4(aq[a + 8u * j + w]), vec4<i32>(1));
    }
    s = s + i32(scaleMin(blk + 4u, j).y) * qs;
  }
  return s;
}

// blockQ4_0 returns the integer dot product of the Q4_0 block at byte blk
// with unit u: elements 0-15 are the low nibbles of the 16 bytes, 16-31
// the high ones; values are nibble - 8.
fn blockQ4_0(blk: u32, u: u32) -> i32 {
  var s = 0;
  for (var w = 0u; w < 4u; w = w + 1u) {
    let b = qword(blk + 2u + 4u * w);
    s = s + dot(u8x4(b & 0x0f0f0f0fu) - vec4<i32>(8), s8x4(aq[8u * u + w]));
    s = s + dot(u8x4((b >> 4u) & 0x0f0f0f0fu) - vec4<i32>(8), s8x4(aq[8u * u + 4u + w]));
  }
  return s;
}

// blockQ4K returns Q4_K block blk's Σ sc·dot and Σ m·Σq with the chunk's
// 256 quants from word a.
fn blockQ4K(blk: u32, a: u32) -> vec2<i32> {
  var isum = 0;
  var msum = 0;
  for (var j = 0u; j < 8u; j = j + 1u) {
    let shift = 4u * (j % 2u);
    var dotv = 0;
    var qs = 0;
    for (var w = 0u; w < 8u; w = w + 1u) {
      let nib = u8x4((qword(blk + 16u + 32u * (j / 2u) + 4u * w) >> shift) & 0x0f0f0f0fu);
      let xq = s8x4(aq[a + 8u * j + w]);
      dotv = dotv + dot(nib, xq);
      qs = qs + dot(xq, vec4<i32>(1));
    }
    let sm = scaleMin(blk + 4u, j);
    isum = isum + i32(sm.x) * dotv;
    msum = msum + i32(sm.y) * qs;
  }
  return vec2<i32>(isum, msum);
}

// laneQ6K returns lane k's integer sum of Q6_K block blk with the quants
// from word a, as ggml's AVX2 vec_dot (and qdot's Go kernel) forms it:
// elements 4k..4k+3 of each 32-value group, unsigned (0..63) times their
// sub-block's scale, less 32·(the scaled activation sums of sub-blocks 2k
// and 2k+1).
fn laneQ6K(blk: u32, a: u32, k: u32) -> i32 {
  var s = 0;
  for (var g8 = 0u; g8 < 8u; g8 = g8 + 1u) {
    let n = g8 / 4u;
    let g = g8 % 4u;
    let l = 4u * k;
    let lo = (qword(blk + 64u * n + l + 32u * (g % 2u)) >> (4u * (g / 2u))) & 0x0f0f0f0fu;
    let hi = (qword(blk + 128u + 32u * n + l) >> (2u * g)) & 0x03030303u;
    s = s + qsigned(blk + 192u + 2u * g8 + k / 4u) * dot(u8x4(lo | (hi << 4u)), s8x4(aq[a + 8u * g8 + k]));
  }
  var s0 = 0;
  var s1 = 0;
  for (var w = 0u; w < 4u; w = w + 1u) {
    s0 = s0 + dot(s8x4(aq[a + 8u * k + w]), vec4<i32>(1));
    s1 = s1 + dot(s8x4(aq[a + 8u * k + 4u + w]), vec4<i32>(1));
  }
  return s - 32 * (s0 * qsigned(blk + 192u + 2u * k) + s1 * qsigned(blk + 193u + 2u * k));
}

// q8main is the kernels' body for the workgroup wid of groups and its
// invocation lid; QT, the weight type's code, is the including kernel's.
fn q8main(wid: vec3<u32>, groups: vec3<u32>, lid: u32) {
  let rows = m(1u);
  let cols = m(2u);
  let t = QT;
  let kq = t >= 10u && t <= 14u;
  // Bytes per weight block.
  let bb = m(4u) / (cols / select(32u, 256u, kq));
  let per = (rows + 7u) / 8u;
  let g = wid.x + wid.y * groups.x;
  let i = g / per;
  let live = i < m(0u) / rows;
  let rr = lid / 8u;
  let k = lid % 8u;
  let r = (g % per) * 8u + rr;
  let valid = live && r < rows;
  let base = r * m(4u);
  var acc = 0.0;
  // Q2_K: the min terms' sum; Q4_1, Q5_1 and Q5_K (lane 0): the min
  // terms' sum, added after the lanes.
  var acc2 = 0.0;
  for (var c0 = 0u; c0 < cols; c0 = c0 + CHUNK) {
    let len = min(CHUNK, cols - c0);
    let have = live && 32u * lid < len;
    let off = i * cols + c0 + 32u * lid;
    if (kq) {
      if (have) {
        amx[lid] = maxK(off);
      }
      workgroupBarrier();
      if (have && lid % 8u == 0u) {
        scaleK(lid);
      }
      workgroupBarrier();
      if (have) {
        quantK(off, lid, isc[lid / 8u]);
      }
    } else if (have) {
      quant32(off, lid);
    }
    workgroupBarrier();
    if (t == 12u || t == 10u) {
      // Invocation k takes block k of the chunk for row rr; then lane 0
      // adds the blocks in order.
      if (valid && 256u * k < len) {
        let blk = base + bb * ((c0 / 256u) + k);
        if (t == 12u) {
          ints[lid] = blockQ4K(blk, 64u * k);
        } else {
          ints[lid] = blockQ2K(blk, 64u * k);
        }
      }
      workgroupBarrier();
      if (valid && k == 0u) {
        for (var j = 0u; 256u * j < len; j = j + 1u) {
          let blk = base + bb * ((c0 / 256u) + j);
          let dx = bitcast<f32>(ad[j]);
          let s = ints[lid + j];
          if (t == 12u) {
            // The select, on a word that is always 0, keeps the compiler
            // from reassociating acc + (x - y) as (acc + x) - y.
            let dlt = fmul(fmul(dx, qhalf(blk)), i2f(s.x)) - fmul(fmul(dx, qhalf(blk + 2u)), i2f(s.y));
            acc = acc + select(dlt, 0.0, m(5u) != 0u);
          } else {
            acc = fmaExact(i2f(s.x), fmul(qhalf(blk + 80u), dx), acc);
            acc2 = fmaExact(i2f(s.y), fmul(qhalf(blk + 82u), dx), acc2);
          }
        }
      }
    } else if (kq) {
      // Q3_K, Q5_K, Q6_K: lane k of every block. The k-quants' scales
      // of tiny activations are subnormal: fmul keeps their products
      // exact where a device would flush them.
      if (valid) {
        for (var j = 0u; 256u * j < len; j = j + 1u) {
          let blk = base + bb * ((c0 / 256u) + j);
          let dx = bitcast<f32>(ad[j]);
          if (t == 14u) {
            acc = fmaExact(fmul(dx, qhalf(blk + 208u)), i2f(laneQ6K(blk, 64u * j, k)), acc);
          } else if (t == 11u) {
            acc = fmaExact(fmul(dx, qhalf(blk + 108u)), i2f(laneQ3K(blk, 64u * j, k)), acc);
          } else {
            if (k == 0u) {
              acc2 = fmaExact(-fmul(dx, qhalf(blk + 2u)), i2f(minsQ5K(blk, 64u * j)), acc2);
            }
            acc = fmaExact(fmul(dx, qhalf(blk)), i2f(laneQ5K(blk, 64u * j, k)), acc);
          }
        }
      }
    } else if (t == 2u || t == 20u) {
      // As Q4_K, with the blocks' whole dot products fused-multiply-added
      // into one sum (llama.cpp's repacked q4_0_8x8 and iq4_nl_8x8
      // kernels).
      if (valid) {
        for (var u = k; 32u * u < len; u = u + 8u) {
          let blk = base + bb * ((c0 / 32u) + u);
          if (t == 2u) {
            bints[64u * rr + u] = blockQ4_0(blk, u);
          } else {
            bints[64u * rr + u] = blockIQ4NL(blk, u);
          }
        }
      }
      workgroupBarrier();
      if (valid && k == 0u) {
        for (var u = 0u; 32u * u < len; u = u + 1u) {
          let blk = base + bb * ((c0 / 32u) + u);
          acc = fmaExact(i2f(bints[64u * rr + u]), qhalf(blk) * bitcast<f32>(ad[u]), acc);
        }
      }
    } else if (valid) {
      // Q8_0, Q4_1, Q5_0, Q5_1: lane k of every block.
      let mins = t == 3u || t == 7u;
      for (var u = 0u; 32u * u < len; u = u + 1u) {
        let blk = base + bb * ((c0 / 32u) + u);
        if (mins && k == 0u) {
          acc2 = fmaExact(qhalf(blk + 2u), bitcast<f32>(ams[u]), acc2);
        }
        acc = fmaExact(qhalf(blk) * bitcast<f32>(ad[u]), i2f(lane32(t, blk, u, k)), acc);
      }
    }
    workgroupBarrier();
  }
  if (t != 2u && t != 10u && t != 12u && t != 20u) {
    // ggml's hsum_float_8: lanes k and k+4, then (0+2)+(1+3).
    lanes[lid] = acc;
    workgroupBarrier();
    if (valid && k == 0u) {
      let a = 8u * rr;
      let s0 = lanes[a] + lanes[a + 4u];
      let s1 = lanes[a + 1u] + lanes[a + 5u];
      let s2 = lanes[a + 2u] + lanes[a + 6u];
      let s3 = lanes[a + 3u] + lanes[a + 7u];
      acc = (s0 + s2) + (s1 + s3);
      if (t == 3u || t == 7u || t == 13u) {
        acc = acc + acc2;
      }
    }
  }
  if (t == 10u) {
    acc = acc - acc2;
  }
  if (valid && k == 0u) {
    y[i * rows + r] = acc;
  }
}
