// include: dequant
// include: fault
// Dequantises rows of a weight kept in its block format: out[j, c] is
// element c of row idx[j] (a gather, when meta 4 is set) or of row j (the
// whole weight). Rows outside [0, rows) read as zeros and are reported as
// faults.
//
// meta: 0 count, 1 rows, 2 cols, 3 type, 4 row bytes, 5 gather.
@group(0) @binding(1) var<storage, read> wq: array<u32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let t = gid.x + gid.y * groups.x * 256u;
  if (t >= m(0u)) {
    return;
  }
  let cols = m(2u);
  let j = t / cols;
  var r = i32(j);
  if (m(5u) != 0u) {
    r = idx[j];
  }
  if (r < 0 || u32(r) >= m(1u)) {
    report(4u, r, m(1u));
    out[t] = 0.0;
    return;
  }
  out[t] = dq(m(3u), u32(r) * m(4u), t % cols);
}
