// Workgroup size as specialization constant 0, and flat indices for grids folded into x/y by
// ops::fold_grid(). Use WG, not gl_WorkGroupSize: lavapipe (Mesa 22.3) evaluates
// gl_WorkGroupSize wrongly in arithmetic when the size comes from local_size_x_id.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
uint flat_group() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }
uint flat_invocation() { return flat_group() * WG + gl_LocalInvocationID.x; }
