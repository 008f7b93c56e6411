// include: fault
// Gather along one axis: out[o, j, i] = x[o, idx[j], i] for x viewed as
// [outer, d, inner]. Indices outside [0, d) read as zero words and are
// reported as faults. Words are copied bit for bit, so any 32-bit element
// type works.
//
// meta: 0 count, 1 d, 2 inner, 3 J (number of indices).
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

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
  let j = (t / inner) % J;
  let o = t / (inner * J);
  let v = idx[j];
  if (v < 0 || u32(v) >= d) {
    report(1u, v, d);
    out[t] = 0u;
    return;
  }
  out[t] = x[(o * d + u32(v)) * inner + i];
}
