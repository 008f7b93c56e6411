// Image windows to columns: out[c, a, b, p, q] = x[c, r, s] with
// r = p·strideH − padH + a·dilH and s likewise; positions outside the image
// read the pad bits. Words are copied bit for bit.
//
// meta: 0 count, 1 H, 2 W, 3 KH, 4 KW, 5 OH, 6 OW, 7 strideH, 8 strideW,
// 9 padH, 10 padW, 11 dilH, 12 dilW, 13 pad bits.
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let t = gid.x + gid.y * groups.x * 256u;
  if (t >= m(0u)) {
    return;
  }
  let H = m(1u);
  let W = m(2u);
  var r = t;
  let q = r % m(6u);
  r = r / m(6u);
  let p = r % m(5u);
  r = r / m(5u);
  let bb = r % m(4u);
  r = r / m(4u);
  let aa = r % m(3u);
  let c = r / m(3u);
  let y = i32(p * m(7u) + aa * m(11u)) - i32(m(9u));
  let z = i32(q * m(8u) + bb * m(12u)) - i32(m(10u));
  if (y < 0 || y >= i32(H) || z < 0 || z >= i32(W)) {
    out[t] = m(13u);
    return;
  }
  out[t] = x[(c * H + u32(y)) * W + u32(z)];
}
