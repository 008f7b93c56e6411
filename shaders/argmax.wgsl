// Index of the first largest element along one axis: one workgroup per
// output element; ties keep the smaller index. The index is stored as an
// i32 (the device's form of I64).
//
// meta: 0 outputs, 1 axis length, 2 inner (product of the later axes).
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;

var<workgroup> best: array<T, 256>;
var<workgroup> at: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * groups.x;
  let valid = o < m(0u);
  let inner = m(2u);
  let base = (o / inner) * m(1u) * inner + o % inner;
  let n = select(0u, m(1u), valid);
  var have = false;
  var b: T;
  var bi = 0u;
  for (var j = lid; j < n; j = j + 256u) {
    let v = x[base + j * inner];
    if (!have || v > b) {
      b = v;
      bi = j;
      have = true;
    }
  }
  if (!have) {
    bi = 0xffffffffu;
  }
  best[lid] = b;
  at[lid] = bi;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let j = at[lid + s];
      let v = best[lid + s];
      let i = at[lid];
      if (j != 0xffffffffu && (i == 0xffffffffu || v > best[lid] || (v == best[lid] && j < i))) {
        best[lid] = v;
        at[lid] = j;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u && valid) {
    out[o] = i32(at[0]);
  }
}
