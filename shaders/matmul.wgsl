// Batched matrix product C[b] = A[b]·B[b] with A [M, K], B [K, N] (or
// [N, K] when transB is set) and C [M, N], row-major. A 16×16 workgroup
// computes a 64×64 tile of C, each invocation a 4×4 block held in
// registers; 16-deep slices of A and B are staged through shared memory.
// Each value passes through the fused epilogue on its way out of the
// registers; the bias and residual bind a placeholder when absent.
//
// meta: 0 M, 1 N, 2 K, 3 transB, 4 epilogue flags (1 bias, 2 residual,
// 4 scale), 5 activation (0 none, 1 ReLU, 2 SiLU), 6 the scale's f32 bits,
// 7 B's batch stride (K·N, or more when B is each item's leading rows).
@group(0) @binding(1) var<storage, read> a: array<T>;
@group(0) @binding(2) var<storage, read> b: array<T>;
@group(0) @binding(3) var<storage, read_write> c: array<T>;

@group(0) @binding(4) var<storage, read> bias: array<T>;
@group(0) @binding(5) var<storage, read> residual: array<T>;

// epilogue applies the work fused into the product, as the CPU's GEMM
// does: Act(v·scale + bias[col]) + residual[at], at being the value's
// index in c. The branches are uniform; the activation computes in f32 so
// that the shader also compiles for integers (which have no epilogue).
fn epilogue(at: u32, col: u32, v: T) -> T {
  var x = v;
  if ((m(4u) & 4u) != 0u) {
    x = x * T(bitcast<f32>(m(6u)));
  }
  if ((m(4u) & 1u) != 0u) {
    x = x + bias[col];
  }
  switch m(5u) {
    case 1u: {
      x = max(x, T(0));
    }
    case 2u: {
      x = T(f32(x) / (1.0 + exp(-f32(x))));
    }
    default: {}
  }
  if ((m(4u) & 2u) != 0u) {
    x = x + residual[at];
  }
  return x;
}

var<workgroup> ta: array<T, 1024>; // [16 k][64 rows]
var<workgroup> bs: array<T, 1024>;  // [16 k][64 cols]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = m(0u);
  let N = m(1u);
  let K = m(2u);
  let transB = m(3u) != 0u;
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  let aBase = wid.z * M * K;
  let bBase = wid.z * m(7u);
  let tid = lid.y * 16u + lid.x;
  var acc: array<T, 16>;
  for (var k0 = 0u; k0 < K; k0 = k0 + 16u) {
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = tid + e * 256u;
      let r = idx / 16u;
      let kk = idx % 16u;
      var v = T(0);
      if (row0 + r < M && k0 + kk < K) {
        v = a[aBase + (row0 + r) * K + k0 + kk];
      }
      ta[kk * 64u + r] = v;
    }
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = tid + e * 256u;
      var col: u32;
      var kk: u32;
      if (transB) {
        col = idx / 16u;
        kk = idx % 16u;
      } else {
        kk = idx / 64u;
        col = idx % 64u;
      }
      var v = T(0);
      if (col0 + col < N && k0 + kk < K) {
        if (transB) {
          v = b[bBase + (col0 + col) * K + k0 + kk];
        } else {
          v = b[bBase + (k0 + kk) * N + col0 + col];
        }
      }
      bs[kk * 64u + col] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      var av: array<T, 4>;
      var bv: array<T, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) {
        av[i] = ta[kk * 64u + lid.y * 4u + i];
        bv[i] = bs[kk * 64u + lid.x * 4u + i];
      }
      for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) {
          acc[i * 4u + j] = acc[i * 4u + j] + av[i] * bv[j];
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    let r = row0 + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j = j + 1u) {
      let col = col0 + lid.x * 4u + j;
      if (r < M && col < N) {
        let at = wid.z * M * N + r * N + col;
        c[at] = epilogue(at, col, acc[i * 4u + j]);
      }
    }
  }
}
