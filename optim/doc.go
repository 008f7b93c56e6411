// Package optim provides gradient-descent optimisers that are recorded as
// graph operations, so one compiled Program runs the forward pass, the
// backward pass and the parameter update together.
//
// An optimiser reads parameters and their gradient tensors and records the
// update rule with ordinary graph ops. Its state (momentum buffers, Adam's
// moments and step counter) lives in graph Variables, so it persists across
// runs and is shared by every Program compiled from the graph. Each update
// is a graph.Assign; include the returned tensors among the outputs given
// to graph.Compile and every Run performs one optimisation step:
//
//	opt := optim.NewAdam(optim.AdamConfig{LR: 1e-2})
//	updates, err := opt.Minimize(loss)
//	prog, err := graph.Compile(append([]graph.Tensor{loss}, updates...))
//	for step := 0; step < n; step++ {
//		out, err := prog.Run(ctx, feeds) // out[0] is the loss before the step
//	}
//
// A learning-rate schedule needs no recompiling: set the config's Rate to a
// scalar placeholder and feed it each run. ClipGradNorm rescales gradients
// by their global norm before they are passed to Step.
//
// Assignments take effect at the end of a run, after every read, so the
// loss a run returns is the loss of the parameters before that run's
// update, and the new moments, step counter and parameters are all computed
// from the old values.
package optim
