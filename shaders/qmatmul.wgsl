// include: dequant
// Product of activations x [n, cols] with the transpose of a quantized
// weight [rows, cols] kept in its block format: one workgroup per output
// element; 64 invocations decode a strided share of the row each.
//
// meta: 0 outputs (n·rows), 1 rows, 2 cols, 3 type, 4 row bytes.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wq: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * groups.x;
  let valid = o < m(0u);
  let rows = m(1u);
  let cols = select(0u, m(2u), valid);
  let r = o % rows;
  let i = o / rows;
  let t = m(3u);
  let base = r * m(4u);
  var acc = 0.0;
  for (var c = lid; c < cols; c = c + 64u) {
    acc = acc + x[i * cols + c] * dq(t, base, c);
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      part[lid] = part[lid] + part[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u && valid) {
    y[o] = part[0];
  }
}
