// Reduction over any set of axes: one workgroup per output element. Each
// invocation folds a strided share of the reduced elements, then the
// workgroup combines the partial results in shared memory.
//
// meta: 0 outputs, 1 reduced count, 2 kept rank, 3 reduced rank,
// 4 op (0 sum, 1 max, 2 min), 5 identity bits,
// 8.. kept dims[8], 16.. kept strides[8], 24.. reduced dims[8],
// 32.. reduced strides[8] (strides in input elements).
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;

var<workgroup> part: array<T, 256>;

fn combine(op: u32, a: T, b: T) -> T {
  if (op == 0u) {
    return a + b;
  }
  if (op == 1u) {
    return max(a, b);
  }
  return min(a, b);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * groups.x;
  let valid = o < m(0u);
  let op = m(4u);
  var base = 0u;
  var r = o;
  for (var a = i32(m(2u)) - 1; a >= 0; a = a - 1) {
    let d = m(8u + u32(a));
    base = base + (r % d) * m(16u + u32(a));
    r = r / d;
  }
  var acc = bitcast<T>(m(5u));
  let n = select(0u, m(1u), valid);
  for (var j = lid; j < n; j = j + 256u) {
    var off = base;
    var q = j;
    for (var a = i32(m(3u)) - 1; a >= 0; a = a - 1) {
      let d = m(24u + u32(a));
      off = off + (q % d) * m(32u + u32(a));
      q = q / d;
    }
    acc = combine(op, acc, x[off]);
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      part[lid] = combine(op, part[lid], part[lid + s]);
    }
    workgroupBarrier();
  }
  if (lid == 0u && valid) {
    out[o] = part[0];
  }
}
