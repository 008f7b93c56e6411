// include: dequant
// include: quantact
// Product of activations x [n, cols] with the transpose of a quantized
// weight [rows, cols] as the CPU backend (and llama.cpp's) computes it:
// each activation row is quantised to 8-bit blocks (32 values and an f16
// scale for Q4_0 and Q8_0; 256 values and an f32 scale for Q4_K and Q6_K),
// every block's dot product with the weight block is exact in i32, and the
// block results, scaled by the two scales, are added in float in the order
// of qdot's generic kernels: for Q8_0 and Q6_K eight lanes of four
// elements per 32 (ggml's AVX2 integer sums), each fused-multiply-added
// (fmaExact: one rounding on every device) into its own sum, then ggml's
// pairwise lane sum; for Q4_0 one fused multiply-add of each block's
// whole dot product into one sum; for Q4_K one running sum of each
// block's scaled terms. On llvmpipe the results have the CPU's bits.
//
// A workgroup takes one activation row and eight weight rows (invocation
// 8·rr + k: row rr, lane or block k). It quantises the activations in
// chunks of 2048 values into workgroup memory, which the eight rows share.
//
// meta: 0 outputs (n·rows), 1 rows, 2 cols (a multiple of the block), 3
// type (2 Q4_0, 8 Q8_0, 12 Q4_K, 14 Q6_K), 4 row bytes, 5 zero (a 0 the
// compiler cannot see).
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wq: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const CHUNK = 2048u;

var<workgroup> aq: array<u32, 512>; // the chunk's quants, four to a word
var<workgroup> ad: array<u32, 64>; // scale bits per 32 values (Q8_0) or 256 (Q8_K)
var<workgroup> amx: array<vec2<u32>, 64>; // Q8_K: per 32 values, |max| bits and the max's bits
var<workgroup> isc: array<u32, 8>; // Q8_K: the scale the quants are made with, per 256
var<workgroup> ints: array<vec2<i32>, 64>; // Q4_K: a block's scaled integer sums
var<workgroup> bints: array<i32, 512>; // Q4_0: the blocks' integer dot products, 64 per row
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
// into unit u of the chunk.
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
  for (var w = 0u; w < 8u; w = w + 1u) {
    let o = off + 4u * w;
    aq[8u * u + w] = pack4(qround(bitcast<u32>(x[o]), id), qround(bitcast<u32>(x[o + 1u]), id),
      qround(bitcast<u32>(x[o + 2u]), id), qround(bitcast<u32>(x[o + 3u]), id));
  }
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

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let rows = m(1u);
  let cols = m(2u);
  let t = m(3u);
  let kq = t == 12u || t == 14u;
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
    if (t == 12u) {
      // Invocation k takes block k of the chunk for row rr; then lane 0
      // adds the blocks in order.
      if (valid && 256u * k < len) {
        ints[lid] = blockQ4K(base + 144u * ((c0 / 256u) + k), 64u * k);
      }
      workgroupBarrier();
      if (valid && k == 0u) {
        for (var j = 0u; 256u * j < len; j = j + 1u) {
          let blk = base + 144u * ((c0 / 256u) + j);
          let dx = bitcast<f32>(ad[j]);
          let s = ints[lid + j];
          // The select, on a word that is always 0, keeps the compiler
          // from reassociating acc + (x - y) as (acc + x) - y.
          let dlt = (dx * qhalf(blk)) * i2f(s.x) - (dx * qhalf(blk + 2u)) * i2f(s.y);
          acc = acc + select(dlt, 0.0, m(5u) != 0u);
        }
      }
    } else if (t == 14u) {
      if (valid) {
        for (var j = 0u; 256u * j < len; j = j + 1u) {
          let blk = base + 210u * ((c0 / 256u) + j);
          acc = fmaExact(bitcast<f32>(ad[j]) * qhalf(blk + 208u), i2f(laneQ6K(blk, 64u * j, k)), acc);
        }
      }
    } else if (t == 2u) {
      // As Q4_K, with the blocks' whole dot products fused-multiply-added
      // into one sum (llama.cpp's repacked q4_0_8x8 kernels).
      if (valid) {
        for (var u = k; 32u * u < len; u = u + 8u) {
          bints[64u * rr + u] = blockQ4_0(base + 18u * ((c0 / 32u) + u), u);
        }
      }
      workgroupBarrier();
      if (valid && k == 0u) {
        for (var u = 0u; 32u * u < len; u = u + 1u) {
          let blk = base + 18u * ((c0 / 32u) + u);
          acc = fmaExact(i2f(bints[64u * rr + u]), qhalf(blk) * bitcast<f32>(ad[u]), acc);
        }
      }
    } else if (valid) {
      for (var u = 0u; 32u * u < len; u = u + 1u) {
        let blk = base + 34u * ((c0 / 32u) + u);
        acc = fmaExact(qhalf(blk) * bitcast<f32>(ad[u]), i2f(lane8(blk, u, k)), acc);
      }
    }
    workgroupBarrier();
  }
  if (t == 8u || t == 14u) {
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
    }
  }
  if (valid && k == 0u) {
    y[i * rows + r] = acc;
  }
}
