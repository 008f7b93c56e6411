// include: fault
// Scatter-add along one axis, computed in gather form so no atomics are
// needed: out[o, v, i] = Σ over k with idx[k] = v of src[o, k, i], out
// viewed as [outer, d, inner] and src as [outer, J, inner]. Indices
// outside [0, d) add nowhere and are reported as faults.
//
// meta: 0 count, 1 d, 2 inner, 3 J.
@group(0) @binding(1) var<storage, read> src: array<T>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let t = gid.x + gid.y * groups.x * 256u;
  if (t >= m(0u)) {
    return;
  }
  let d = m(1u);
  let inner = m(2u);
  let J = m(3u);
  let i = t % inner;
  let v = i32((t / inner) % d);
  let o = t / (inner * d);
  // Invocations share the range check of the J indices.
  for (var k = t; k < J; k = k + m(0u)) {
    let w = idx[k];
    if (w < 0 || u32(w) >= d) {
      report(2u, w, d);
    }
  }
  var acc = T(0);
  for (var k = 0u; k < J; k = k + 1u) {
    if (idx[k] == v) {
      acc = acc + src[(o * J + k) * inner + i];
    }
  }
  out[t] = acc;
}
