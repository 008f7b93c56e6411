// include: dequant
// include: quantact
// Product of activations x [n, cols] with the transpose of a quantized
// weight [rows, cols] as the CPU backend (and llama.cpp's) computes it:
// each activation row is quantised to 8-bit blocks (32 values and an f16
// scale for Q4_0 and Q8_0; 256 values and an f32 scale for Q4_K and Q6_K),
// every block's dot product with the weight block is exact in i32, and the
// block results, scaled by the two scales, are added in float in the order
// of qdot's generic kernels: eight lanes of four elements with fused
// multiply-adds (fmaExact: one rounding on every device) and ggml's
// pairwise lane sum for the 32-value formats, one running sum over the
// blocks for the k-quants. On llvmpipe the results have the CPU's bits.
//
// A workgroup takes one activation row and eight weight rows (invocation
// 8·rr + k: row rr, lane or block k). It quantises the activations in
// chunks of 2048 values into workgroup memory, which the eight rows share.
//
// meta: 0 outputs (n·rows), 1 rows, 2 cols (a multiple of the block), 3
// type (2 Q4_0, 8 Q8_0, 12 Q4_K, 14 Q6_K), 4 row bytes.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wq: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const CHUNK = 2048u;

var<workgroup> aq: array<u32, 512>; // the chunk's quants, four to a word
var<workgroup> ad: array<u32, 64>; // scale bits per 32 values (Q8_0) or 256 (Q8_K)
var<workgroup> amx: array<vec2<u32>, 64>; // Q8_K: per 32 values, |max| bits and the max's bits
var<workgroup> isc: array<u32, 8>; // Q8_K: the scale the quants are made with, per 256
var<workgroup> ints: array<vec2<i32>, 64>; // k-quants: a block's scaled integer sums
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

// lane32 returns lane k's integer sum (elements 4k..4k+3) of unit u's
// weight block at byte blk.
fn lane32(t: u32, blk: u32, u: u32, k: u32) -> i32 {
  var w: vec4<i32>;
  if (t == 8u) {
    w = s8x4(qword(blk + 2u + 4u * k));
  } else {
    // Q4_0: elements 0-15 are the low nibbles of the 16 bytes, 16-31
    // the high ones; values are nibble - 8.
    let b = qword(blk + 2u + 4u * (k % 4u));
    w = u8x4((b >> (4u * (k / 4u))) & 0x0f0f0f0fu) - vec4<i32>(8);
  }
  return dot(w, s8x4(aq[8u * u + k]));
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

// blockQ6K returns Q6_K block blk's Σ sc·dot with the quants from word a.
fn blockQ6K(blk: u32, a: u32) -> i32 {
  var isum = 0;
  for (var j = 0u; j < 16u; j = j + 1u) {
    var dotv = 0;
    for (var w = 0u; w < 4u; w = w + 1u) {
      let e = 16u * j + 4u * w;
      let n = e / 128u;
      let g = (e % 128u) / 32u;
      let l = e % 32u;
      let lo = (qword(blk + 64u * n + l + 32u * (g % 2u)) >> (4u * (g / 2u))) & 0x0f0f0f0fu;
      let hi = (qword(blk + 128u + 32u * n + l) >> (2u * g)) & 0x03030303u;
      dotv = dotv + dot(u8x4(lo | (hi << 4u)) - vec4<i32>(32), s8x4(aq[a + 4u * j + w]));
    }
    isum = isum + qsigned(blk + 192u + j) * dotv;
  }
  return isum;
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
    if (kq) {
      // Invocation k takes block k of the chunk for row rr; then lane 0
      // adds the blocks in order.
      if (valid && 256u * k < len) {
        let b = (c0 / 256u) + k;
        if (t == 12u) {
          ints[lid] = blockQ4K(base + 144u * b, 64u * k);
        } else {
          ints[lid] = vec2<i32>(blockQ6K(base + 210u * b, 64u * k), 0);
        }
      }
      workgroupBarrier();
      if (valid && k == 0u) {
        for (var j = 0u; 256u * j < len; j = j + 1u) {
          let b = (c0 / 256u) + j;
          let dx = bitcast<f32>(ad[j]);
          let s = ints[lid + j];
          if (t == 12u) {
            let blk = base + 144u * b;
            // The select, on a word that is always 0, keeps the compiler
            // from reassociating acc + (x - y) as (acc + x) - y.
            let dlt = (dx * qhalf(blk)) * f32(s.x) - (dx * qhalf(blk + 2u)) * f32(s.y);
            acc = acc + select(dlt, 0.0, m(5u) != 0u);
          } else {
            acc = acc + (dx * qhalf(base + 210u * b + 208u)) * f32(s.x);
          }
        }
      }
    } else if (valid) {
      let size = select(18u, 34u, t == 8u);
      for (var u = 0u; 32u * u < len; u = u + 1u) {
        let blk = base + size * ((c0 / 32u) + u);
        let d = qhalf(blk) * bitcast<f32>(ad[u]);
        acc = fmaExact(d, lane32(t, blk, u, k), acc);
      }
    }
    workgroupBarrier();
  }
  if (!kq) {
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
