// include: half
// Conversions between f32 and the two-byte storage types, which are kept
// two to a u32 word (element 2w in the low half of word w): widening
// writes one f32 per invocation, narrowing one word (two halves) per
// invocation, so no two invocations share a word.
//
// meta: 0 count (f32 values when widening, words when narrowing), 1 kind
// (0 f16 to f32, 1 bf16 to f32, 2 f32 to f16, 3 f32 to bf16), 2 the number
// of half values.
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

fn narrow(b: u32, kind: u32) -> u32 {
  if (kind == 2u) {
    return f32_to_f16(b);
  }
  return round_bf16(b) >> 16u;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= m(0u)) {
    return;
  }
  let kind = m(1u);
  if (kind < 2u) {
    let h = (x[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu;
    if (kind == 0u) {
      out[i] = f16_to_f32(h);
    } else {
      out[i] = h << 16u;
    }
    return;
  }
  var w = narrow(x[2u * i], kind);
  if (2u * i + 1u < m(2u)) {
    w = w | (narrow(x[2u * i + 1u], kind) << 16u);
  }
  out[i] = w;
}
