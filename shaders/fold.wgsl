// Columns back to images, the adjoint of unfold: out[c, y, z] sums
// x[c, a, b, p, q] over every window position (a, b, p, q) that reads
// pixel (y, z). One invocation per output pixel, so no atomics.
//
// meta: as unfold (without pad bits), with H and W the output image size.
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let t = gid.x + gid.y * groups.x * 256u;
  if (t >= m(0u)) {
    return;
  }
  let H = m(1u);
  let W = m(2u);
  let KH = m(3u);
  let KW = m(4u);
  let OH = m(5u);
  let OW = m(6u);
  let z = i32(t % W);
  let y = i32((t / W) % H);
  let c = t / (W * H);
  var acc = T(0);
  for (var aa = 0u; aa < KH; aa = aa + 1u) {
    let py = y + i32(m(9u)) - i32(aa * m(11u));
    if (py < 0 || py % i32(m(7u)) != 0) {
      continue;
    }
    let p = u32(py) / m(7u);
    if (p >= OH) {
      continue;
    }
    for (var bb = 0u; bb < KW; bb = bb + 1u) {
      let qz = z + i32(m(10u)) - i32(bb * m(12u));
      if (qz < 0 || qz % i32(m(8u)) != 0) {
        continue;
      }
      let q = u32(qz) / m(8u);
      if (q >= OW) {
        continue;
      }
      acc = acc + x[(((c * KH + aa) * KW + bb) * OH + p) * OW + q];
    }
  }
  out[t] = acc;
}
