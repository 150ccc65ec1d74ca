// Test-only fault injection: the Nth device allocation (Allocator::create) fails with
// OutOfDeviceMemory, the Nth queue submission (Device::submit) with VK_ERROR_DEVICE_LOST, or the
// Nth host allocation (operator new, through the replacement tests/gpu/fault_walk_test.cpp
// installs) with std::bad_alloc, so a test can walk N over a whole workload and check that every
// failure becomes a clear status and leaks nothing. Armed only by tests, through these calls
// (never from the environment); while nothing is armed or counting, a hook costs one relaxed
// atomic load.
#pragma once
#include <cstdint>

namespace tern::gpu::fault {

enum class Kind { DeviceAlloc = 0, Submit = 1, HostAlloc = 2 };

// From now on, counts the events of every kind (count() reads them) and makes the nth event of
// `kind` fail once (nth = 1: the next one; 0: none fails, counting only). Host allocations are
// counted on the calling thread only, so driver and worker threads do not disturb the count.
void arm(Kind kind, uint64_t nth);
// Stops counting and failing.
void disarm();
// Events of a kind since the last arm().
uint64_t count(Kind kind);
// Whether the armed failure has happened since the last arm().
bool fired();

// The hooks: true when this event must fail. should_fail_host also says whether the calling
// thread is the armed one (host_counting), so the allocator can skip its own bookkeeping.
bool should_fail(Kind kind);
bool host_counting();

}  // namespace tern::gpu::fault
