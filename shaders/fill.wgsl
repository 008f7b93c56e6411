// Fills the first count words of dst with one bit pattern.
//
// meta: 0 count, 1 bits.
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= m(0u)) {
    return;
  }
  dst[i] = m(1u);
}
