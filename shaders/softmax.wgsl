// Softmax or log-softmax along one axis: one workgroup per row. The row
// maximum is subtracted before exp so it never overflows.
//
// meta: 0 rows, 1 axis length, 2 inner (product of the later axes), 3 log.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * groups.x;
  let n = select(0u, m(1u), o < m(0u));
  let inner = m(2u);
  let base = (o / inner) * m(1u) * inner + o % inner;
  var mx = bitcast<f32>(0xff800000u);
  for (var j = lid; j < n; j = j + 256u) {
    mx = max(mx, x[base + j * inner]);
  }
  part[lid] = mx;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      part[lid] = max(part[lid], part[lid + s]);
    }
    workgroupBarrier();
  }
  mx = part[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var j = lid; j < n; j = j + 256u) {
    sum = sum + exp(x[base + j * inner] - mx);
  }
  part[lid] = sum;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      part[lid] = part[lid] + part[lid + s];
    }
    workgroupBarrier();
  }
  sum = part[0];
  let logSum = log(sum);
  for (var j = lid; j < n; j = j + 256u) {
    let k = base + j * inner;
    if (m(3u) != 0u) {
      y[k] = x[k] - mx - logSum;
    } else {
      y[k] = exp(x[k] - mx) / sum;
    }
  }
}
