// include: half
// A cast of f32 values to a half-precision type, computed on as f32:
// out[i] is x[i] rounded to f16 (meta 1 = 0) or bf16 (meta 1 = 1) and
// widened back, bit for bit as the CPU backend rounds.
//
// meta: 0 count, 1 kind.
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= m(0u)) {
    return;
  }
  if (m(1u) == 0u) {
    out[i] = round_f16(x[i]);
  } else {
    out[i] = round_bf16(x[i]);
  }
}
