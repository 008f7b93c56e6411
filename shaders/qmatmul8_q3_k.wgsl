// include: dequant
// include: quantact
// include: qmatmul8
// Product of activations with the transpose of a Q3_K weight kept in its
// blocks, as the CPU's qdot computes it: see qmatmul8.wgsl.
const QT = 11u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  q8main(wid, groups, lid);
}
