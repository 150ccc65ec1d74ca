// tern-info: lists the Vulkan devices, the one Tern picks (TERN_DEVICE overrides), its limits
// and features, and runs a smoke dispatch checked against the CPU reference.
#include <cmath>
#include <cstdio>
#include <vector>

#include "common/error.h"
#include "gpu/buffer.h"
#include "gpu/device.h"
#include "gpu/recorder.h"
#include "ops/add.h"
#include "ref/add.h"

using namespace tern;

static void print_device(const gpu::DeviceInfo& d) {
  std::printf("  [%u] %s (%s), vendor 0x%04x device 0x%04x, Vulkan %u.%u.%u%s%s\n", d.index, d.name.c_str(),
              gpu::device_type_name(d.type), d.vendor_id, d.device_id, VK_API_VERSION_MAJOR(d.api_version),
              VK_API_VERSION_MINOR(d.api_version), VK_API_VERSION_PATCH(d.api_version),
              d.driver_name.empty() ? "" : ", driver ", (d.driver_name + " " + d.driver_info).c_str());
}

int main(int argc, char** argv) {
  bool validation = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--validation") validation = true;
    else {
      std::printf("usage: tern-info [--validation]\n  Lists Vulkan devices and runs a smoke test on the chosen one.\n"
                  "  TERN_DEVICE=<index|name> picks a device; TERN_DISABLE_FP16/SUBGROUP/... switch features off.\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  try {
    const auto all = gpu::Device::enumerate();
    std::printf("Vulkan devices: %zu\n", all.size());
    for (const auto& d : all) print_device(d);

    gpu::DeviceOptions opt;
    if (validation) opt.validation = gpu::Validation::Required;
    auto dev = gpu::Device::create(opt);
    const auto& d = dev->info();
    std::printf("\nChosen device:\n");
    print_device(d);
    std::printf("  subgroup size            %u (arithmetic %s, shuffle %s)\n", d.subgroup_size,
                d.subgroup_arithmetic ? "yes" : "no", d.subgroup_shuffle ? "yes" : "no");
    std::printf("  shared memory            %u bytes\n", d.max_shared_memory);
    std::printf("  workgroup invocations    %u (size %u x %u x %u)\n", d.max_workgroup_invocations,
                d.max_workgroup_size[0], d.max_workgroup_size[1], d.max_workgroup_size[2]);
    std::printf("  workgroup count          %u x %u x %u\n", d.max_workgroup_count[0], d.max_workgroup_count[1],
                d.max_workgroup_count[2]);
    std::printf("  max storage buffer range %llu MiB\n", (unsigned long long)(d.max_storage_buffer_range >> 20));
    std::printf("  max allocation           %llu MiB\n", (unsigned long long)(d.max_memory_allocation_size >> 20));
    std::printf("  device-local memory      %llu MiB%s\n", (unsigned long long)(d.device_local_bytes >> 20),
                d.unified_memory ? " (unified with host)" : "");
    std::printf("  push constants           %u bytes\n", d.max_push_constants);
    std::printf("  advertised               fp16 %s, int8 %s, 16-bit storage %s, 8-bit storage %s, "
                "cooperative matrix %s, timestamps %s\n",
                d.fp16_arithmetic ? "yes" : "no", d.int8_arithmetic ? "yes" : "no", d.storage_16bit ? "yes" : "no",
                d.storage_8bit ? "yes" : "no", d.cooperative_matrix ? "yes" : "no", d.timestamps ? "yes" : "no");
    std::printf("  in use by Tern           %s\n", dev->feature_summary().c_str());
    std::printf("  validation layer         %s\n", dev->validation_enabled() ? "on" : "off");

    // Smoke dispatch: y = a + b on 100003 floats, compared with the CPU reference.
    const uint32_t n = 100003;
    std::vector<float> a(n), b(n), want(n), got(n);
    for (uint32_t i = 0; i < n; ++i) {
      a[i] = std::sin(float(i));
      b[i] = std::cos(float(i) * 0.5f);
    }
    ref::add(a.data(), b.data(), want.data(), n);
    auto& alloc = dev->allocator();
    auto ga = alloc.create(n * 4, gpu::MemoryUse::Device, "smoke a");
    auto gb = alloc.create(n * 4, gpu::MemoryUse::Device, "smoke b");
    auto gy = alloc.create(n * 4, gpu::MemoryUse::Device, "smoke y");
    alloc.write(ga, 0, a.data(), n * 4);
    alloc.write(gb, 0, b.data(), n * 4);
    gpu::Recorder rec(*dev);
    rec.begin();
    ops::add(rec, ga, gb, gy, n);
    rec.submit_and_wait();
    alloc.read(gy, 0, got.data(), n * 4);
    double max_err = 0;
    for (uint32_t i = 0; i < n; ++i) max_err = std::fmax(max_err, std::fabs(double(got[i]) - want[i]));
    const bool ok = max_err == 0 && dev->validation_message_count() == 0;
    std::printf("\nSmoke dispatch (add, %u floats): max error %g, validation messages %u: %s\n", n, max_err,
                dev->validation_message_count(), ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "tern-info: %s: %s\n", status_name(e.status()), e.what());
    return 1;
  }
}
