// Index faults: kernels that read indices report one outside its range
// here instead of failing (a shader cannot), and the device checks the
// words after the queue drains. Not a kernel: index kernels include it
// and bind the fault words after their output.
//
// words: 0 the kernels that faulted (bit per kind: 1 gather, 2
// scatter-add, 4 quantized gather), 1 the first bad index seen, 2 its
// bound, 3 the number of reports.
@group(0) @binding(4) var<storage, read_write> fault: array<atomic<u32>, 4>;

fn report(kind: u32, v: i32, n: u32) {
  atomicOr(&fault[0], kind);
  // The first reporter describes the index; later ones only count.
  if (atomicAdd(&fault[3], 1u) == 0u) {
    atomicStore(&fault[1], bitcast<u32>(v));
    atomicStore(&fault[2], n);
  }
}
